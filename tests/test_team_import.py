"""``support-tool audit import``: a desk's embedded history into the team store, verified
first and imported once. Real child processes, the sandbox, a real PostgreSQL server."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from support_tool.audit.identity import workstation_name
from tests.conftest import CliProcessRunner
from tests.test_team_wire import Desk, desk_fixture, terminals  # noqa: F401 - a fixture

pytestmark = [pytest.mark.postgres, pytest.mark.keyring]


def file_events(path: Path) -> list[tuple[int, str, int, str, str, bytes]]:
    db = sqlite3.connect(path)
    try:
        return list(
            db.execute("SELECT seq, kind, action, recorded_at, body, seal FROM events ORDER BY seq")
        )
    finally:
        db.close()


def team_imported(desk: Desk) -> dict[int, tuple[int, str, int, dict[str, object]]]:
    """Imported team events by their original seq: (team seq, kind, team action, body)."""
    rows = desk.rows(
        "SELECT seq, kind, action, body FROM support_tool.events WHERE body::jsonb ? 'imported'"
    )
    found = {}
    for seq, kind, action, body in rows:
        fields = json.loads(body)
        found[int(fields["imported"]["seq"])] = (int(seq), str(kind), int(action), fields)
    return found


def test_import_appends_a_verified_history_once_and_answers_follow_their_attempts(
    cli_process: CliProcessRunner, sandbox_profile: str, desk: Desk, home: Path, tmp_path: Path
) -> None:
    assert cli_process("close", "terminal-0001", "--profile", sandbox_profile).status == 0
    assert cli_process("batch", terminals(tmp_path, 2, 5), "--concurrency", "4").status == 0
    assert cli_process("close", "bad login", "--profile", sandbox_profile).status == 2
    history = home / "history.sqlite3"
    local = file_events(history)
    assert len(local) == 13  # 6 attempts, 6 answers, 1 refused

    first = cli_process("audit", "import", env=desk.env())
    assert first.status == 0, first.text
    assert f"Imported 13 events (6 answer, 6 attempt, 1 refused) from {history}" in first.out

    imported = team_imported(desk)
    assert sorted(imported) == [seq for seq, *_ in local]
    here = workstation_name()  # the desk that wrote the file
    for seq, kind, action, at, body, seal in local:
        team_seq, team_kind, team_action, fields = imported[seq]
        marker = {"desk": here, "seq": seq, "seal": seal.hex(), "recorded_at": at}
        assert fields == {**json.loads(body), "imported": marker}  # the original body, marked
        assert team_kind == kind
        if kind == "answer":  # points at its attempt's new seq
            assert team_action == imported[action][0]
        else:
            assert team_action == team_seq

    again = cli_process("audit", "import", env=desk.env())
    assert again.status == 0, again.text
    assert f"Nothing new to import from {history}: its 13 events are already in" in again.out
    assert len(team_imported(desk)) == 13

    assert cli_process("close", "terminal-0010", "--profile", sandbox_profile).status == 0
    more = cli_process("audit", "import", str(history), env=desk.env())
    assert "Imported 2 events (1 answer, 1 attempt)" in more.out
    assert "13 events were imported before and left as they are." in more.out
    shown = cli_process("history", "--json", env=desk.env())
    assert len(shown.out.splitlines()) == 8  # 7 closes and one refusal, as on the desk
    # Each action shows when it happened on the desk, not when it was imported.
    on_desk = cli_process("history", "--json")
    times = ("login", "started_at", "finished_at")
    assert [{k: json.loads(line)[k] for k in times} for line in shown.out.splitlines()] == [
        {k: json.loads(line)[k] for k in times} for line in on_desk.out.splitlines()
    ]
    assert cli_process("history", "verify", env=desk.env()).status == 0


def test_a_history_that_does_not_verify_is_not_imported(
    cli_process: CliProcessRunner, sandbox_profile: str, desk: Desk, home: Path, tmp_path: Path
) -> None:
    assert cli_process("close", "terminal-0001", "--profile", sandbox_profile).status == 0
    forged = tmp_path / "forged.sqlite3"
    shutil.copy(home / "history.sqlite3", forged)
    db = sqlite3.connect(forged)
    db.execute("DROP TRIGGER events_never_updated")
    db.execute("UPDATE events SET body = replace(body, 'terminal-0001', 'terminal-0002')")
    db.commit()
    db.close()

    result = cli_process("audit", "import", str(forged), env=desk.env())
    assert result.status == 5, result.text
    assert "altered outside support-tool" in result.err
    assert "Nothing was imported" in result.err
    assert "Traceback" not in result.text
    assert team_imported(desk) == {}


def test_import_needs_a_team_store_and_a_file(
    cli_process: CliProcessRunner, desk: Desk, tmp_path: Path
) -> None:
    embedded = cli_process("audit", "import")
    assert embedded.status == 4
    assert "there is no team store to import into" in embedded.err
    missing = cli_process("audit", "import", str(tmp_path / "none.sqlite3"), env=desk.env())
    assert missing.status == 2
    assert "There is no audit history at" in missing.err
