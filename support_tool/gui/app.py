"""Start the window: ``support-tool`` (configured profiles) or ``support-tool --demo``."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from support_tool.gui import qt_scan  # noqa: F401 - first: spares what follows Qt's source scan

# isort: split
from support_tool import APP_NAME
from support_tool import resources as bundled
from support_tool.config.log_later import HeldRecords, write_held
from support_tool.errors import SupportToolError
from support_tool.exit_status import ExitStatus

if TYPE_CHECKING:  # its dialog classes load when there is an error to show
    from support_tool.gui.error_report import ErrorReport

log = logging.getLogger(__name__)


def app_icon() -> QIcon:
    """The window icon. ``support_tool.resources`` is imported by name (not looked up from
    a string) so that the PyInstaller bundle's import analysis ships it. The file sits next
    to that package's ``__init__`` in a pip install and in the bundle alike (neither runs
    from a zip), so its path is read directly: ``importlib.resources`` would cost the
    window's start ~9 ms of imports."""
    return QIcon(str(Path(bundled.__file__).with_name("support-tool.svg")))


_open_reports: list[ErrorReport] = []  # kept alive while shown (they are not modal)


def install_error_hook() -> None:
    """Log unexpected exceptions and show them in a dialog instead of a raw traceback."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        report = "".join(traceback.format_exception(kind, error, tb))
        log.error("unexpected error\n%s", report)
        if QApplication.instance() is None:
            sys.__excepthook__(kind, error, tb)
            return
        from support_tool.gui.error_report import ErrorReport

        dialog = ErrorReport(str(error) or kind.__name__, report, QApplication.activeWindow())
        _open_reports.append(dialog)
        dialog.finished.connect(lambda _: _open_reports.remove(dialog))
        dialog.open()

    sys.excepthook = hook


# A defect before the window exists: a program's generic failure status. Deliberately not
# an ExitStatus: 1 there means "the provider refused", which this is not; kept at 1 as shipped.
EXIT_STARTUP_FAILED = 1


def _report_startup_failure(error: Exception, held: HeldRecords | None = None) -> int:
    """A failure before the window exists, shown modally: with no event loop running yet,
    the error hook's non-modal dialog would vanish as the process exits. The log file is
    set up first: the dialog says the details are in it."""
    from support_tool.gui.error_report import ErrorReport

    if held is not None:
        write_held(held)
    report = "".join(traceback.format_exception(error))
    log.error("the window could not start\n%s", report)
    ErrorReport(str(error) or type(error).__name__, report).exec()
    return EXIT_STARTUP_FAILED


def run(
    demo: bool = False, qt_arguments: Sequence[str] = (), held: HeldRecords | None = None
) -> int:
    """Open the window and run until it is closed; returns the exit status.

    The error hook goes in as soon as a QApplication exists and before anything else
    (icon, window modules, runtime): whatever fails from there on reaches the operator as
    the plain-words dialog, never as a raw traceback. ``qt_arguments`` are Qt's standard
    options (``-style fusion``, ``-reverse``, ...). ``held``: the records logged before
    the log file is set up, which happens on a worker after the first paint.
    """
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_arguments])
    assert isinstance(app, QApplication)
    install_error_hook()
    try:
        from support_tool.gui.main_window import MainWindow
        from support_tool.ops.runtime import open_runtime

        app.setApplicationName(APP_NAME)
        app.setApplicationDisplayName("support-tool")
        app.setDesktopFileName(APP_NAME)
        app.setWindowIcon(app_icon())
        # The store opens on a worker after the first paint (sending waits for it); a team
        # store that cannot be reached yet: the window opens and says so.
        # The demo's provider starts on a worker after the first paint, too.
        with open_runtime(
            demo=demo, store_may_be_down=True, open_store_later=True, start_sandbox_later=True
        ) as runtime:
            window = MainWindow(runtime)
            if held is not None:
                window.first_painted.connect(
                    lambda: window.jobs.submit(lambda: write_held(held), None, None)
                )
            window.show()
            return app.exec()
    except SupportToolError as exc:
        from PySide6.QtWidgets import QMessageBox

        if held is not None:
            write_held(held)
        QMessageBox.critical(None, "support-tool cannot start", str(exc))
        return ExitStatus.CONFIG
    except Exception as exc:  # noqa: BLE001 - anything else is shown in words, then exit
        return _report_startup_failure(exc, held)
