"""The window's start-up path meets a damaged profiles file or audit history with a plain
message, never a traceback; damage found by the background check stops sending."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from support_tool.audit import log as history_module
from support_tool.gui.main_window import MainWindow
from support_tool.sandbox import SandboxServer
from tests.gui_fixtures import sandbox_window
from tests.test_history_robust import filled, garbage_in_the_middle

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def test_a_damaged_history_at_start_is_the_banner_and_nothing_can_be_sent(
    qtbot: QtBot, home: Path
) -> None:
    """The store opens after the first paint (issue 15): a damaged file is no longer a box
    before the window, but the window with the red banner and *Close session* disabled."""
    from support_tool.gui import app

    path = filled(home / "history.sqlite3")
    garbage_in_the_middle(path)
    seen: list[tuple[str, bool, str]] = []

    def look_at_the_window() -> None:
        window = QApplication.activeWindow()
        if isinstance(window, MainWindow) and window.store_watch.banner.isVisible():
            button = window.form.button
            seen.append((window.store_watch.banner.text(), button.isEnabled(), button.toolTip()))
            window.close()
        else:
            QTimer.singleShot(20, look_at_the_window)

    QTimer.singleShot(0, look_at_the_window)
    hook = sys.excepthook
    try:
        assert app.run() == 0
    finally:
        sys.excepthook = hook
    [(banner, enabled, why)] = seen
    assert "is damaged" in banner
    assert "nothing can be sent" in banner
    assert "Traceback" not in banner
    assert not enabled
    assert str(path) in why


def test_a_damaged_profiles_file_at_start_is_a_message(qtbot: QtBot, home: Path) -> None:
    from support_tool.ops.runtime import open_runtime

    (home / "profiles.toml").write_bytes(b"a = " + b"[" * 50_000 + b"\n")
    with open_runtime() as runtime:
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: "profiles file" in window.statusBar().currentMessage())
        message = window.statusBar().currentMessage()
        assert str(home / "profiles.toml") in message
        assert "move it aside" in message
        window.close()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)


def test_damage_found_in_the_background_shows_and_stops_sending(
    qtbot: QtBot, home: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history too large for the check at open: the window's background check finds the
    damage, says so in the red banner, and Close is disabled (the store takes no more
    attempts), so the next close is not sent."""
    path = filled(home / "history.sqlite3")
    garbage_in_the_middle(path)
    monkeypatch.setattr(history_module, "QUICK_CHECK_AT_OPEN_BYTES", 0)
    with sandbox_window(qtbot, home, sandbox) as window:
        window.verify_history()
        qtbot.waitUntil(window.tamper_banner.isVisible, timeout=20_000)
        assert "damaged" in window.tamper_banner.text()
        qtbot.waitUntil(window.store_watch.banner.isVisible)
        assert "is damaged" in window.store_watch.banner.text()
        window.form.login.setText("terminal-0001")
        assert not window.form.button.isEnabled()
        window.form.submit()
        assert not window.in_flight
    assert sandbox.request_count == 0
