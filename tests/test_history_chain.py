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

from support_tool.audit.log import AuditLog
from support_tool.audit.seals import ChainReport
from support_tool.ops.runtime import open_runtime
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.sandbox import SandboxServer
from tests.conftest import CliRunner
from tests.gui_fixtures import window_for
from tests.history_seed import seed_history

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

OK = CloseResult(Outcome.SUCCESS, "Success", error_code=0)
ROW: dict[str, Any] = {
    "profile": "live",
    "api_host": "api.example.com",
    "game_id": None,
    "clear_history": True,
}


def filled(path: Path, rows: int = 6) -> Path:
    with AuditLog(path) as store:
        for n in range(rows):
            store.record(OK, login=f"terminal-{n:04d}", **ROW)
    return path


def tamper(path: Path, *statements: str) -> None:
    """What someone with the file and the sqlite3 shell could do."""
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


def report(path: Path) -> ChainReport:
    with AuditLog(path) as store:
        return store.verify()


def test_normal_use_seals_every_finished_record(tmp_path: Path) -> None:
    path = filled(tmp_path / "h.sqlite3")
    with AuditLog(path) as store:
        pending = store.begin(login="in-flight", **ROW)
        result = store.verify()
        assert result.ok
        assert result.checked == 6
        store.finish(pending, OK)
        assert store.verify().checked == 7
    assert len(report(path).head_seal) == 64


EDITS: dict[str, tuple[str, ...]] = {
    "description edited": ("UPDATE actions SET description = 'Success' || '!' WHERE id = 3",),
    "outcome changed": ("UPDATE actions SET outcome = 'refused', error_code = 17 WHERE id = 2",),
    "login changed": ("UPDATE actions SET login = 'someone-else' WHERE id = 4",),
    "middle row deleted": ("DELETE FROM actions WHERE id = 3",),
    "newest row deleted": ("DELETE FROM actions WHERE id = 6",),
    "rows reordered": (
        "UPDATE actions SET id = 100, seq = NULL WHERE id = 2",
        "UPDATE actions SET id = 2, seq = 2 WHERE id = 3",
        "UPDATE actions SET id = 3, seq = 3, seal = (SELECT seal FROM actions WHERE id = 100)"
        " WHERE id = 100",
    ),
    "seals swapped": (
        "UPDATE actions SET seq = -2 WHERE id = 2",
        "UPDATE actions SET seq = 2 WHERE id = 3",
        "UPDATE actions SET seq = 3 WHERE id = 2",
    ),
    "row inserted": (
        "INSERT INTO actions (started_at, finished_at, operator, workstation, pid, profile,"
        " api_host, login, game_id, clear_history, reason, outcome, description, attempts)"
        " VALUES ('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 'x', 'y', 1, 'live',"
        " 'api.example.com', 'ghost', '', 0, '', 'success', 'Success', 1)",
    ),
    "row hidden as pending": ("UPDATE actions SET outcome = 'pending', seq = NULL WHERE id = 5",),
}


@pytest.mark.parametrize("how", list(EDITS))
def test_changes_made_outside_the_tool_are_caught(tmp_path: Path, how: str) -> None:
    path = filled(tmp_path / "h.sqlite3")
    tamper(path, *EDITS[how])
    found = report(path)
    assert not found.ok, how
    assert "altered outside support-tool" in found.describe()
    assert found.problem


def test_the_first_broken_record_is_named(tmp_path: Path) -> None:
    path = filled(tmp_path / "h.sqlite3")
    tamper(path, "UPDATE actions SET reason = 'covered up' WHERE id = 4")
    found = report(path)
    assert found.record_id == 4
    assert found.checked == 3
    assert "record #4 (sealed as 4) was changed after it was sealed" in found.problem


def test_a_crash_mid_request_and_recovery_keep_the_chain(tmp_path: Path) -> None:
    """A real process dies with a pending row; the next start marks it unknown and seals it."""
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
    assert found.checked == 3


def test_a_history_from_before_the_chain_is_sealed_once_on_opening(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    seed_history(path, 500)  # rows written without seals, as an older version did
    found = report(path)
    assert found.ok
    assert found.checked == 500


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
    assert found.checked == 150


def test_cli_history_verify(cli: CliRunner, home: Path) -> None:
    assert cli("--demo", "batch", "--group", "Demo bank A").status == 0
    intact = cli("--demo", "history", "verify")
    assert intact.status == 0
    assert "intact: 40 sealed records verified" in intact.out
    as_json = json.loads(cli("--demo", "history", "verify", "--json").out)
    assert as_json["ok"] is True
    assert as_json["checked"] == 40
    tamper(home / "demo-history.sqlite3", "DELETE FROM actions WHERE id = 20")
    broken = cli("--demo", "history", "verify")
    assert broken.status == 5
    # A batch's rows are sealed in the order they finish, so id 20 is about the 20th seal.
    assert "is missing (deleted)" in broken.err
    assert cli("history", "verify").status == 4  # no real history yet: said plainly


@pytest.mark.gui
def test_the_window_warns_when_the_history_was_altered(
    qtbot: QtBot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("support_tool.gui.main_window.VERIFY_DELAY_MS", 0)
    history = filled(home / "demo-history.sqlite3", 4)
    tamper(history, "UPDATE actions SET login = 'edited' WHERE id = 2")
    with open_runtime(demo=True) as runtime, window_for(qtbot, runtime) as window:
        qtbot.waitUntil(lambda: window.history_report is not None)
        assert window.tamper_banner.isVisibleTo(window)
        assert "record #2" in window.tamper_banner.text()
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
        assert dialog.count.text() == "3"
        dialog.copy.click()
        copied = QGuiApplication.clipboard().text()
        assert f"Chain head seal: {head.head_seal}" in copied
        assert "Sealed records verified: 3" in copied
        assert "Result: intact" in copied
        assert "UTC" in copied
        assert dialog.copy.text().startswith("Copied")
        dialog.close()
