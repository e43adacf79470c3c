"""The window paints before its audit store is open (issue 15): the store opens on a worker
after the first paint; meanwhile the login field takes typing, *Close session* is disabled
with the reason, and nothing is sent before its attempt can be recorded."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from support_tool.audit.log import AuditLog
from support_tool.audit.store import AuditStore
from support_tool.config.profiles import ProfileStore, make_profile
from support_tool.errors import AuditUnavailable
from support_tool.gui import store_watch
from support_tool.gui.close_form import CloseInput
from support_tool.gui.main_window import MainWindow
from support_tool.gui.store_watch import RECOVERED
from support_tool.ops import opening_store
from support_tool.ops.opening_store import OPENING, OpeningStore
from support_tool.ops.runtime import Runtime, open_runtime
from support_tool.sandbox import SandboxServer
from tests.gui_fixtures import window_for
from tests.test_gui_close import wait_answer
from tests.test_gui_store import rows, sandbox_profile_secret

pytestmark = [pytest.mark.gui, pytest.mark.keyring]  # keyring: real Secret Service


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_watch, "FIRST_RETRY_MS", 40)
    monkeypatch.setattr(store_watch, "LONGEST_RETRY_MS", 320)


def saved_sandbox_profile(sandbox: SandboxServer) -> None:
    store = ProfileStore()
    store.save(store.load().with_profile(make_profile("sandbox", sandbox.url), make_default=True))


def held_open(runtime: Runtime, gate: threading.Event, path: Path) -> OpeningStore:
    """The runtime's store swapped for one whose opening (a real SQLite file) waits for
    ``gate``: the window's start with a store that is slow to open."""

    def slow_open() -> AuditStore:
        assert gate.wait(30), "the test never let the store open"
        return AuditLog(path)

    runtime.service.history.close()
    store = OpeningStore(slow_open)
    runtime.service.history = store
    return store


def test_the_form_is_live_while_the_store_opens_and_a_close_waits_for_it(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    saved_sandbox_profile(sandbox)
    path = home / "history.sqlite3"
    gate = threading.Event()
    with sandbox_profile_secret(), open_runtime(open_store_later=True) as runtime:
        store = held_open(runtime, gate, path)
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.form.profile.count() > 0)
        assert window.store_watch.opening
        assert not window.store_watch.banner.isVisible()  # opening is no alarm
        assert not window.form.button.isEnabled()
        assert OPENING in window.form.button.toolTip()
        qtbot.keyClicks(window.form.login, "terminal-0001")
        assert window.form.login.text() == "terminal-0001"
        qtbot.keyClick(window.form.login, Qt.Key.Key_Return)  # Enter sends nothing yet
        assert not window.in_flight

        # A close that reaches the core before the store is open waits for the opening
        # (on its worker), records its attempt, and only then sends.
        window.send(CloseInput("sandbox", "terminal-0001", "", False, ""))
        assert window.in_flight
        assert sandbox.request_count == 0
        gate.set()
        wait_answer(qtbot, window)
        assert window.answer.headline.text().startswith("Session closed")
        qtbot.waitUntil(window.form.button.isEnabled)
        assert store.ready
        assert not window.store_watch.down
        assert window.statusBar().currentMessage() != RECOVERED  # opened, not "again"
        window.close()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
        store.close()
    assert sandbox.request_count == 1
    assert rows(path) == 1


def test_a_store_that_cannot_be_opened_shows_the_banner_and_sends_nothing(
    qtbot: QtBot, home: Path, sandbox: SandboxServer
) -> None:
    saved_sandbox_profile(sandbox)
    path = home / "history.sqlite3"
    path.write_bytes(b"this is not an SQLite database, " * 200)
    with (
        sandbox_profile_secret(),
        open_runtime(open_store_later=True, store_may_be_down=True) as runtime,
        window_for(qtbot, runtime) as window,
    ):
        banner = window.store_watch.banner
        qtbot.waitUntil(banner.isVisible)
        assert "damaged" in banner.text()
        assert not window.form.button.isEnabled()
        assert "damaged" in window.form.button.toolTip()
        assert window.form.login.isEnabled()

        window.send(CloseInput("sandbox", "terminal-0001", "", False, ""))
        wait_answer(qtbot, window)
        assert window.answer.headline.text().startswith("Not sent")
        assert "Nothing was sent" in window.answer.description.text()
        assert "damaged" in window.answer.description.text()
        assert banner.isVisible()
        assert not window.form.button.isEnabled()
    assert sandbox.request_count == 0


def test_the_cli_still_opens_the_store_at_once_and_stops_when_it_cannot(home: Path) -> None:
    """Only the window defers: ``close`` stops with exit 4 before anything else."""
    (home / "history.sqlite3").write_bytes(b"this is not an SQLite database, " * 200)
    with pytest.raises(AuditUnavailable, match="damaged"), open_runtime():
        pass  # pragma: no cover - the store's opening raises first


def test_a_closed_opening_store_opens_nothing_and_refuses_to_record(home: Path) -> None:
    opened: list[AuditLog] = []

    def open_log() -> AuditStore:
        opened.append(AuditLog(home / "history.sqlite3"))
        return opened[-1]

    store = OpeningStore(open_log)
    assert store.where == "the audit history"
    assert not store.ready
    store.flush()  # nothing waits in a store never opened: no opening for it
    store.close()
    with pytest.raises(AuditUnavailable, match=opening_store.CLOSED[:30]):
        store.begin(
            profile="p", api_host="h", login="terminal-1", game_id=None, clear_history=False
        )
    assert store.problem() == opening_store.CLOSED
    assert not opened
