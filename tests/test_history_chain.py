"""The tamper-evident history: normal use, crashes and recovery keep the chain whole;
edits, deletions, reordering and insertions made with plain sqlite3 are caught."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from support_tool.audit.log import AuditFilter, AuditLog
from support_tool.audit.seals import ChainReport
from support_tool.ops.runtime import open_runtime
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.sandbox import SandboxServer
from tests.conftest import CliRunner
from tests.gui_fixtures import window_for

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

OK = CloseResult(Outcome.SUCCESS, "Success", error_code=0)
ROW: dict[str, Any] = {
    "profile": "live",
    "api_host": "api.example.com",
    "game_id": None,
    "clear_history": True,
}


def filled(path: Path, actions: int = 6) -> Path:
    """``actions`` actions: even ones sent (attempt + answer), odd ones refused before
    sending (one event), so ``events(actions)`` events."""
    with AuditLog(path) as store:
        for n in range(actions):
            if n % 2:
                store.record(OK, login=f"terminal-{n:04d}", **ROW)
            else:
                store.finish(store.begin(login=f"terminal-{n:04d}", **ROW), OK)
    return path


def events_for(actions: int) -> int:
    return actions + (actions + 1) // 2


UNGUARDED = ("DROP TRIGGER events_never_updated", "DROP TRIGGER events_never_deleted")


def tamper(path: Path, *statements: str) -> None:
    """What someone with the file and the sqlite3 shell could do (triggers dropped first:
    they are only defence in depth)."""
    db = sqlite3.connect(path)
    with db:
        for statement in (*UNGUARDED, *statements):
            db.execute(statement)
    db.close()


def report(path: Path) -> ChainReport:
    with AuditLog(path) as store:
        return store.verify()


def test_normal_use_seals_every_event_including_an_attempt_in_flight(tmp_path: Path) -> None:
    path = filled(tmp_path / "h.sqlite3")
    with AuditLog(path) as store:
        pending = store.begin(login="in-flight", **ROW)
        result = store.verify()
        assert result.ok
        assert result.checked == events_for(6) + 1  # the attempt is sealed before it is sent
        store.finish(pending, OK)
        assert store.verify().checked == events_for(6) + 2
    assert len(report(path).head_seal) == 64


# filled(6): 1 attempt, 2 answer, 3 refused, 4 attempt, 5 answer, 6 refused, 7 attempt,
# 8 answer, 9 refused.
EDITS: dict[str, tuple[str, ...]] = {
    "answer's description edited": (
        "UPDATE events SET body = replace(body, 'Success', 'Success!') WHERE seq = 2",
    ),
    "attempt's login edited": (
        "UPDATE events SET body = replace(body, 'terminal-0002', 'someone-else') WHERE seq = 4",
    ),
    "kind changed": ("UPDATE events SET kind = 'unknown' WHERE seq = 5",),
    "time changed": ("UPDATE events SET recorded_at = '2020-01-01T00:00:00.000Z' WHERE seq = 6",),
    "origin changed": ("UPDATE events SET origin = 'admin' WHERE seq = 3",),
    "action changed": ("UPDATE events SET action = 1 WHERE seq = 5",),
    "first event deleted": ("DELETE FROM events WHERE seq = 1",),
    "middle event deleted": ("DELETE FROM events WHERE seq = 5",),
    "newest event deleted": ("DELETE FROM events WHERE seq = 9",),
    "events swapped": (
        "UPDATE events SET seq = -3 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = 4",
        "UPDATE events SET seq = 4 WHERE seq = -3",
    ),
    "event inserted with a made-up number": (
        "INSERT INTO events SELECT 50, kind, action, recorded_at, origin, body, seal"
        " FROM events WHERE seq = 9",
    ),
    "body stored as raw bytes": ("UPDATE events SET body = CAST(body AS BLOB) WHERE seq = 2",),
    "head moved back": ("UPDATE events_head SET seq = 8",),
}


@pytest.mark.parametrize("how", list(EDITS))
def test_changes_made_outside_the_tool_are_caught(tmp_path: Path, how: str) -> None:
    path = filled(tmp_path / "h.sqlite3")
    tamper(path, *EDITS[how])
    found = report(path)
    assert not found.ok, how
    assert "altered outside support-tool" in found.describe()
    assert found.problem


def test_the_history_lines_cannot_say_what_the_events_do_not(tmp_path: Path) -> None:
    """The lines people read are a view over the events: there is no copy to edit, remove
    or plant a line in, and what is derived beside them (the open attempts, the search
    index) can only make a filter or search miss, never show a line the events lack."""
    path = filled(tmp_path / "h.sqlite3")
    db = sqlite3.connect(path)
    for statement in (
        "UPDATE actions SET login = 'someone-else' WHERE id = 4",
        "DELETE FROM actions WHERE id = 3",
        "INSERT INTO actions (id, login, outcome) VALUES (8, 'ghost', 'pending')",
    ):
        with pytest.raises(sqlite3.OperationalError, match="cannot modify actions"):
            db.execute(statement)
    with db:
        db.execute("INSERT INTO actions_open VALUES (3), (8), (90)")  # planted open attempts
        db.execute(
            "INSERT INTO actions_text (rowid, login, game_id, description)"
            " VALUES (90, 'ghost', '', ''), (8, 'ghost', '', '')"
        )
    db.close()
    with AuditLog(path) as store:
        assert [r.id for r in store.page(AuditFilter(outcome="pending"))] == []
        assert [r.id for r in store.page(AuditFilter(text="ghost"))] == []
        assert [r.login for r in store.page(AuditFilter(), limit=2)] == [
            "terminal-0005",
            "terminal-0004",
        ]
        assert store.verify().ok  # derived data is not evidence: the events are intact
        assert store.count() == 6


def test_the_first_event_at_fault_is_named(tmp_path: Path) -> None:
    path = filled(tmp_path / "h.sqlite3")
    tamper(
        path,
        'UPDATE events SET body = replace(body, \'"reason":""\', \'"reason":"x"\') WHERE seq = 7',
        "UPDATE events SET origin = 'later' WHERE seq = 8",
    )
    found = report(path)
    assert found.record_id == 7
    assert found.checked == 6
    assert "event 7 was changed" in found.problem


def test_the_triggers_refuse_updates_and_deletes(tmp_path: Path) -> None:
    path = filled(tmp_path / "h.sqlite3", 1)
    db = sqlite3.connect(path)
    for statement in ("UPDATE events SET origin = 'x'", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError, match="never"):
            db.execute(statement)
    db.close()


def test_a_crash_mid_request_and_recovery_keep_the_chain(tmp_path: Path) -> None:
    """A real process dies after sealing its attempt; the next start appends *unknown*."""
    path = filled(tmp_path / "h.sqlite3", 2)
    code = (
        "import sys; from pathlib import Path; from support_tool.audit.log import AuditLog;"
        f"s = AuditLog(Path({str(path)!r}));"
        "s.begin(profile='live', api_host='h', login='dies', game_id=None, clear_history=True);"
        "print('begun', flush=True); import signal; signal.pause()"  # until it is killed
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "begun"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    with AuditLog(path) as store:
        outcomes = [r.outcome for r in store.query()]
        assert outcomes[0] == "unknown"
        found = store.verify()
    assert found.ok
    assert found.checked == events_for(2) + 2  # the attempt, then recovery's unknown


def test_concurrent_writers_extend_one_chain(tmp_path: Path, sandbox: SandboxServer) -> None:
    from support_tool.config.profiles import ProfileSet, make_profile
    from support_tool.config.secret_store import MemorySecrets
    from support_tool.ops.batch import BatchRun
    from support_tool.ops.batch_summary import BatchOptions
    from support_tool.ops.close import CloseService
    from support_tool.ops.terminals import Terminal
    from tests.conftest import SANDBOX_SECRET

    path = tmp_path / "h.sqlite3"
    with AuditLog(path) as store, AuditLog(path) as other:
        chosen = make_profile("sandbox", sandbox.url)
        service = CloseService(
            lambda: ProfileSet((chosen,), "sandbox"),
            MemorySecrets({"sandbox": SANDBOX_SECRET}),
            store,
        )
        run = BatchRun(
            service,
            [Terminal(f"terminal-{n:04d}") for n in range(1, 121)],
            BatchOptions(concurrency=8),
        )
        run.start()
        for n in range(30):  # a second writer on the same file meanwhile (the window, say)
            other.record(OK, login=f"desk-{n}", **ROW)
        assert run.wait(30) is not None
        service.close_all()
        found = store.verify()
    assert found.ok, found.problem
    assert found.checked == 120 * 2 + 30


def test_cli_history_verify(cli: CliRunner, home: Path) -> None:
    assert cli("--demo", "batch", "--group", "Demo bank A").status == 0
    intact = cli("--demo", "history", "verify")
    assert intact.status == 0
    assert "intact: 80 sealed events verified" in intact.out
    as_json = json.loads(cli("--demo", "history", "verify", "--json").out)
    assert as_json["ok"] is True
    assert as_json["checked"] == 80
    tamper(home / "demo-history.sqlite3", "DELETE FROM events WHERE seq = 20")
    broken = cli("--demo", "history", "verify")
    assert broken.status == 5
    assert "event 20 is missing (deleted)" in broken.err
    assert cli("history", "verify").status == 4  # no real history yet: said plainly


@pytest.mark.gui
def test_the_window_warns_when_the_history_was_altered(
    qtbot: QtBot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("support_tool.gui.main_window.VERIFY_DELAY_MS", 0)
    history = filled(home / "demo-history.sqlite3", 4)
    tamper(history, "UPDATE events SET body = replace(body, 'terminal', 'edited') WHERE seq = 1")
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.history_report is not None)
        assert window.tamper_banner.isVisibleTo(window)
        assert "event 1 " in window.tamper_banner.text()
        assert "altered outside support-tool" in window.tamper_banner.text()


@pytest.mark.gui
def test_the_window_says_nothing_for_an_intact_history_until_asked(
    qtbot: QtBot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("support_tool.gui.main_window.VERIFY_DELAY_MS", 0)
    filled(home / "demo-history.sqlite3", 3)
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.history_report is not None)
        assert not window.tamper_banner.isVisibleTo(window)
        window.verify_history(report_intact=True)
        qtbot.waitUntil(lambda: "intact" in window.statusBar().currentMessage())


@pytest.mark.gui
def test_verify_on_demand_shows_the_seal_with_a_copy_button(
    qtbot: QtBot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QGuiApplication

    from support_tool.gui.verify_dialog import VerifyDialog

    monkeypatch.setattr("support_tool.gui.main_window.VERIFY_DELAY_MS", 0)
    filled(home / "demo-history.sqlite3", 3)
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.history_report is not None)
        assert window.verify_dialog is None  # the start-up check of an intact chain is quiet
        window.verify_history(report_intact=True)
        qtbot.waitUntil(lambda: window.verify_dialog is not None)
        dialog = window.verify_dialog
        assert isinstance(dialog, VerifyDialog)
        assert dialog.isVisible()
        head = window.history_report
        assert head is not None
        assert dialog.seal.text() == head.head_seal
        assert len(dialog.seal.text()) == 64
        assert dialog.count.text() == str(events_for(3))
        assert dialog.anchor.text() == head.anchor()
        assert dialog.anchor.text().startswith(f"support-tool anchor v1 events={events_for(3)} ")
        dialog.copy.click()
        copied = QGuiApplication.clipboard().text()
        assert f"Chain head seal: {head.head_seal}" in copied
        assert f"Sealed events verified: {events_for(3)}" in copied
        assert f"Anchor: {head.anchor()}" in copied
        assert "Result: intact" in copied
        assert "UTC" in copied
        assert dialog.copy.text().startswith("Copied")
        dialog.close()
