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
import sys
from support_tool.cli import commands
commands._load_core_before_qt(demo=False)
import support_tool.gui.app
from shibokensupport import feature
scanned = []
scan = feature._mod_uses_pyside
feature._mod_uses_pyside = lambda module: scanned.append(module.__name__) or scan(module)
import support_tool.gui.main_window
print("\\n".join(scanned))
"""


def test_qt_reads_the_source_of_no_module_but_the_windows_own() -> None:
    """Loading the window's modules, PySide6's import hook reads only their own source:
    not again that of each module they import (about 70, ~30 ms of the first paint)."""
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
    assert "support_tool.gui.close_form" in scanned  # the probe saw the hook at work
    others = [m for m in scanned if not m.startswith(("PySide6", "support_tool.gui"))]
    assert others == []


_PAINT_PROBE = """
import os, sys
from support_tool.cli import commands
from support_tool.gui import main_window
paint = main_window.MainWindow.paintEvent
def first_paint(window, event):
    paint(window, event)
    print(window.store_watch.opening, "support_tool.audit.log" in sys.modules, flush=True)
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
    assert seen == ["True", "False"]  # still opening; the SQLite trail not even imported
