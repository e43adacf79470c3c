"""The window's first paint is the live Close session form, not a placeholder: a login
typed the moment the window is first painted lands in the login field (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from support_tool.gui.main_window import MainWindow
from support_tool.ops.runtime import open_runtime


class TypeAtFirstPaint(QObject):
    """At the window's first paint, type into whatever widget has the keyboard focus."""

    def __init__(self, window: MainWindow, text: str) -> None:
        super().__init__()
        self.window = window
        self.text = text
        self.seen: list[str] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.seen is None:
            focused = self.window.focusWidget()
            assert focused is not None
            QTest.keyClicks(focused, self.text)
            self.seen = [self.window.form.login.text(), type(focused).__name__]
        return False


@pytest.mark.parametrize("demo", [False, True], ids=["saved profiles", "demo"])
def test_a_login_typed_at_first_paint_lands_in_the_login_field(
    qtbot: QtBot, home: Path, demo: bool
) -> None:
    with open_runtime(demo=demo, open_store_later=True) as runtime:  # as the app starts
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        typist = TypeAtFirstPaint(window, "terminal-07")
        window.installEventFilter(typist)
        window.show()
        qtbot.waitUntil(lambda: typist.seen is not None)
        assert typist.seen == ["terminal-07", "QLineEdit"]
        assert window.form.login.isEnabled()
        window.close()


_SCAN_PROBE = """
import inspect, sys
read = []
getsource = inspect.getsource
inspect.getsource = lambda module: read.append(module.__name__) or getsource(module)
import support_tool.gui.main_window  # first, as the benchmark's child imports it
import support_tool.gui.app
import support_tool.ops.runtime, support_tool.sandbox.server  # after Qt: spared all the same
print("\\n".join(read))
"""


def test_qt_reads_the_source_of_no_module_but_the_windows_own() -> None:
    """Whichever window module is imported first, PySide6's import hook reads only the
    window's own source: not that of the standard library's or the Qt-free core's modules
    they import (about 70 before the first paint, ~30 ms), before Qt or after it; and the
    window's own directly, not through ``inspect.getsource`` (~3.5 M instructions)."""
    import os
    import subprocess
    import sys

    scanned = subprocess.run(
        [sys.executable, "-c", _SCAN_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    ).stdout.split()
    assert "PySide6.QtWidgets" in scanned  # the probe saw the hook at work
    others = {m for m in scanned if not m.startswith(("PySide6", "shiboken"))}
    # enum and io: named by PySide6 itself while it loads (the floor's script pays them too);
    # sys: built in, nothing to read.
    assert others <= {"enum", "io", "sys"}


def test_the_windows_own_modules_get_the_verdict_the_scan_would_give(tmp_path: Path) -> None:
    """Read directly, each window module is found to name PySide6 exactly when PySide6's
    own scan (through ``inspect.getsource``) finds it; no source file (the frozen app's
    case): no, as the scan says too."""
    import importlib
    import inspect

    import support_tool.gui
    from support_tool.gui.qt_scan import _names_pyside

    folder = Path(support_tool.gui.__file__).parent
    for path in sorted(folder.glob("*.py")):
        name = "support_tool.gui" + ("" if path.stem == "__init__" else f".{path.stem}")
        module = importlib.import_module(name)
        assert _names_pyside(module.__file__) is ("PySide6" in inspect.getsource(module)), name
    assert not _names_pyside(str(tmp_path / "absent.py"))
    assert not _names_pyside(None)


_PAINT_PROBE = """
import os, sys
LATER = (
    "support_tool.audit.log",
    "support_tool.audit.store",
    "support_tool.sandbox.server",
    "logging.handlers",
)
from support_tool.cli import commands
from support_tool.gui import main_window
paint = main_window.MainWindow.paintEvent
def first_paint(window, event):
    paint(window, event)
    loaded = [m for m in LATER if m in sys.modules]
    print(window.store_watch.opening, ",".join(loaded) or "none", flush=True)
    os._exit(0)
main_window.MainWindow.paintEvent = first_paint
commands.main(sys.argv[1:])
"""


@pytest.mark.parametrize("demo", [False, True], ids=["saved profiles", "demo"])
def test_the_window_paints_before_the_audit_store_is_opened(home: Path, demo: bool) -> None:
    """``support-tool`` paints its form first and opens the audit store afterwards, on a
    worker: neither the store's modules nor its file are touched before the first paint."""
    import os
    import subprocess
    import sys

    seen = subprocess.run(
        [sys.executable, "-c", _PAINT_PROBE, *(["--demo"] if demo else [])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    ).stdout.split()
    # Still opening; neither the SQLite trail nor the store protocol's types (which the
    # close path names only as types) even imported; nor, in the demo, the embedded
    # provider's HTTP server, which starts after the first paint too; nor the log file's
    # handler (logging.handlers), set up after the first paint.
    assert seen == ["True", "none"]


_HELD_PROBE = """
import logging, sys
from PySide6.QtCore import QTimer
from support_tool.cli import commands
from support_tool.gui import main_window
init = main_window.MainWindow.__init__
def logging_init(window, *args, **kwargs):
    logging.getLogger("support_tool.probe").warning("logged before the first paint")
    init(window, *args, **kwargs)
    window.first_painted.connect(lambda: QTimer.singleShot(200, window.close))
main_window.MainWindow.__init__ = logging_init
sys.exit(commands.main(sys.argv[1:]))
"""


def test_what_is_logged_before_the_first_paint_reaches_the_log_file_after_it(
    home: Path,
) -> None:
    """The window sets up its log file after its first paint (its handler's module costs
    ~30 million instructions): a record logged before then is held, then written to the
    file, and never printed to the terminal."""
    import os
    import subprocess
    import sys

    from support_tool.config import paths

    done = subprocess.run(
        [sys.executable, "-c", _HELD_PROBE, "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert "logged before the first paint" not in done.stderr
    log = paths.log_file().read_text(encoding="utf-8")
    assert "WARNING support_tool.probe: logged before the first paint" in log


@pytest.mark.parametrize("demo", [False, True], ids=["saved profiles", "demo"])
def test_the_demo_note_is_shown_with_the_window_never_as_a_window_of_its_own(
    qtbot: QtBot, demo: bool
) -> None:
    """Built before it has a parent, the note is not shown then (it would open as a window
    of its own, at a cost before the first paint); in the demo it shows with the window."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from support_tool.gui.banners import demo_banner

    banner = demo_banner(demo, sandbox_running=False)
    assert not banner.isVisible()
    window = QWidget()
    qtbot.addWidget(window)
    QVBoxLayout(window).addWidget(banner)
    window.show()
    qtbot.waitExposed(window)
    assert banner.isVisible() is demo
