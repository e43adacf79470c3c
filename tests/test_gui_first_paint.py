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
    with open_runtime(demo=demo) as runtime:
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        typist = TypeAtFirstPaint(window, "terminal-07")
        window.installEventFilter(typist)
        window.show()
        qtbot.waitUntil(lambda: typist.seen is not None)
        assert typist.seen == ["terminal-07", "QLineEdit"]
        assert window.form.login.isEnabled()
        window.close()
