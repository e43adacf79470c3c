"""``support-tool --demo`` paints its form before the embedded sandbox provider runs (issue
15): the provider starts on a worker after the first paint; meanwhile the login field takes
typing, *Close session* is disabled with the reason, and a close waits for the provider."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from pytestqt.qtbot import QtBot

from support_tool.gui.main_window import MainWindow
from support_tool.gui.send_gate import FAILED
from support_tool.ops.demo import STARTING
from support_tool.ops.runtime import open_runtime
from support_tool.provider.outcome import Outcome
from tests.test_gui_close import wait_answer

pytestmark = pytest.mark.gui


class AtFirstPaint(QObject):
    """What the window shows at its first paint, and a login typed into it then."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.seen: dict[str, object] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.seen is None:
            window = self.window
            self.seen = {
                "provider running": window.runtime.sandbox is not None,
                "login focused": window.focusWidget() is window.form.login,
                "login enabled": window.form.login.isEnabled(),
                "close enabled": window.form.button.isEnabled(),
                "close tooltip": window.form.button.toolTip(),
                "profile placeholder": window.form.profile.placeholderText(),
            }
        return False


def test_demo_paints_before_its_provider_starts_and_close_waits_for_it(
    qtbot: QtBot, home: Path
) -> None:
    with open_runtime(
        demo=True, store_may_be_down=True, open_store_later=True, start_sandbox_later=True
    ) as runtime:  # as the app starts
        assert runtime.sandbox is None  # not before the window: after its first paint
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        spy = AtFirstPaint(window)
        window.installEventFilter(spy)
        window.show()
        qtbot.waitUntil(lambda: spy.seen is not None)
        assert spy.seen is not None
        assert spy.seen["provider running"] is False
        assert spy.seen["login focused"]
        assert spy.seen["login enabled"]
        assert spy.seen["close enabled"] is False
        assert STARTING in str(spy.seen["close tooltip"])  # says why, on the button
        assert spy.seen["profile placeholder"] == STARTING  # and where the profile goes

        qtbot.keyClicks(window.form.login, "terminal-0001")  # typed at once: it lands
        assert window.form.login.text() == "terminal-0001"
        qtbot.waitUntil(lambda: window.form.button.isEnabled(), timeout=10_000)
        sandbox = runtime.sandbox
        assert sandbox is not None  # started, on a worker, after the paint
        assert window.form.profile.currentText() == "Sandbox"
        assert window.form.button.toolTip() == ""
        qtbot.mouseClick(window.form.button, Qt.MouseButton.LeftButton)
        wait_answer(qtbot, window)
        assert window.answer.shown is not None
        assert window.answer.shown.result.outcome is Outcome.SUCCESS
        assert sandbox.request_count == 1
        window.close()


def test_a_close_before_the_demo_provider_runs_starts_it_and_is_sent_to_it(home: Path) -> None:
    """The core never sends to a provider that is not listening: a close that comes first
    starts the provider (or waits for the start already under way), then is sent to it."""
    with open_runtime(demo=True, start_sandbox_later=True) as runtime:
        assert runtime.sandbox is None
        results = []

        def close() -> None:
            results.append(runtime.service.close("terminal-0002", None, False))

        threads = [threading.Thread(target=close) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert [r.result.outcome for r in results] == [Outcome.SUCCESS, Outcome.SUCCESS]
        assert runtime.sandbox is not None
        assert runtime.sandbox.request_count == 2  # one provider, started once


def test_a_demo_provider_that_cannot_start_keeps_close_disabled_and_says_why(
    qtbot: QtBot, home: Path
) -> None:
    """The provider cannot start (here: the runtime has already stopped it, as at shut
    down): *Close session* stays disabled, its tooltip and the profile field say so."""
    with open_runtime(
        demo=True, store_may_be_down=True, open_store_later=True, start_sandbox_later=True
    ) as runtime:
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        assert runtime.embedded is not None
        runtime.embedded.stop()  # before the first paint's load asks it to start
        window.show()
        qtbot.waitUntil(lambda: FAILED in window.form.profile.placeholderText(), timeout=10_000)
        qtbot.waitUntil(lambda: not window.store_watch.opening, timeout=10_000)
        assert runtime.sandbox is None
        assert window.form.profile.count() == 0
        assert not window.form.button.isEnabled()
        assert FAILED.lower() in window.form.button.toolTip()
        qtbot.keyClicks(window.form.login, "terminal-0003")
        qtbot.keyClick(window.form.login, Qt.Key.Key_Return)
        assert not window.in_flight  # nothing is sent
        window.close()
