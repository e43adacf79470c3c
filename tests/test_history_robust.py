"""A damaged, newer or hand-altered audit history is never written to: close sends nothing
and exits 4 saying how to recover; verify exits 5. Files and folders are private."""

from __future__ import annotations

import csv
import io
import os
import random
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from support_tool.audit import log as history_module
from support_tool.audit.log import SCHEMA_VERSION, AuditLog
from support_tool.errors import AuditDamaged
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.sandbox import SandboxServer
from tests.conftest import CliProcessRunner, CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

OK = CloseResult(Outcome.SUCCESS, "Success", error_code=0)
ROW = {"profile": "live", "api_host": "api.example.com", "game_id": None, "clear_history": True}


def filled(path: Path, rows: int = 400) -> Path:
    with AuditLog(path) as store:
        for n in range(rows):
            store.record(OK, login=f"terminal-{n:04d}", reason="x" * 100, **ROW)
    return path


def garbage_in_the_middle(path: Path, table: str = "") -> None:
    """What a failing disk or a stray write does: one page of random bytes mid-file (or
    mid-``table``: an index, say, or the events the views are read from)."""
    size = path.stat().st_size
    page = 4096
    offset = (size // page // 2) * page
    if table:
        db = sqlite3.connect(path)
        pages = [
            int(r[0])
            for r in db.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                (table,),
            )
        ]
        db.close()
        offset = (pages[len(pages) // 2] - 1) * page
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(random.Random(7).randbytes(page))
    db = sqlite3.connect(path)  # the premise: SQLite itself reports the damage
    try:
        assert db.execute("PRAGMA quick_check").fetchall() != [("ok",)]
    except sqlite3.DatabaseError as exc:
        assert "malformed" in str(exc)  # noqa: PT017
    finally:
        db.close()


def row_count(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM actions").fetchone()[0])
    except sqlite3.DatabaseError:
        return -1
    finally:
        db.close()


def test_close_on_a_damaged_history_sends_nothing_and_says_how_to_recover(
    cli: CliRunner,
    cli_process: CliProcessRunner,
    home: Path,
    sandbox: SandboxServer,
    sandbox_profile: str,
) -> None:
    path = home / "history.sqlite3"
    filled(path)
    garbage_in_the_middle(path)
    before = path.read_bytes()
    run = cli_process("close", "terminal-0001")
    assert run.status == 4, run.text
    assert "Traceback" not in run.err
    assert "is damaged" in run.err
    assert str(path) in run.err
    assert "move history.sqlite3" in run.err
    assert "keep them for the auditor" in run.err
    assert sandbox.request_count == 0
    assert path.read_bytes() == before  # not written to
    verify = cli_process("history", "verify")
    assert verify.status == 5, verify.text
    assert "damaged" in verify.err


def test_damage_met_by_any_statement_stops_every_later_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history too large for the full check at open: the cheap check passes, the first
    statement that meets the damage marks the store, and nothing more is written."""
    path = filled(tmp_path / "h.sqlite3")
    monkeypatch.setattr(history_module, "QUICK_CHECK_AT_OPEN_BYTES", 0)
    garbage_in_the_middle(path, "events")
    with AuditLog(path) as store:
        with pytest.raises(AuditDamaged):
            list(store.query())  # reading every row meets the damaged page
        assert store.damaged is not None
        with pytest.raises(AuditDamaged, match=r"move h\.sqlite3"):
            store.record(OK, login="after-damage", **ROW)
        assert not store.verify().ok


def test_quick_check_runs_at_open_for_a_desk_sized_history(tmp_path: Path) -> None:
    path = filled(tmp_path / "h.sqlite3")
    garbage_in_the_middle(path)
    with pytest.raises(AuditDamaged, match="is damaged"):
        AuditLog(path)


def test_a_history_from_a_newer_version_is_refused_and_left_alone(
    cli_process: CliProcessRunner, home: Path
) -> None:
    path = filled(home / "history.sqlite3", rows=3)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 6}")
    db.close()  # the last connection: checkpointed into the file itself
    before = path.read_bytes()
    run = cli_process("close", "terminal-0001")
    assert run.status == 4, run.text
    assert f"history format {SCHEMA_VERSION + 6}" in run.err
    assert f"formats up to {SCHEMA_VERSION}" in run.err
    assert path.read_bytes() == before
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 6
    assert row_count(path) == 3
    verify = cli_process("history", "verify")
    assert verify.status == 5, verify.text
    assert "newer version" in verify.err


def test_verify_fails_with_5_for_a_blob_and_a_dropped_column(
    cli_process: CliProcessRunner, home: Path
) -> None:
    path = filled(home / "history.sqlite3", rows=5)
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER events_never_updated")
        db.execute("UPDATE events SET body = CAST(body AS BLOB) WHERE seq = 2")
    run = cli_process("history", "verify")
    assert run.status == 5, run.text
    assert "event 2 holds a value support-tool never writes" in run.err
    assert "Traceback" not in run.err
    assert cli_process("history", "--json").status == 0  # still listed: one bad line blank

    with sqlite3.connect(path) as db:  # the store put its guard back when it opened
        db.execute("DROP TRIGGER events_never_updated")
        db.execute("UPDATE events SET body = CAST(body AS TEXT) WHERE seq = 2")
        db.execute("ALTER TABLE events DROP COLUMN origin")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    run = cli_process("history", "verify", "--json")
    assert run.status == 5, run.text
    assert "Traceback" not in run.err


def test_garbage_anywhere_makes_verify_exit_5(cli_process: CliProcessRunner, home: Path) -> None:
    path = filled(home / "history.sqlite3")
    garbage_in_the_middle(path)
    run = cli_process("history", "verify", "--json")
    assert run.status == 5, run.text
    assert '"ok": false' in run.out


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_folders_are_0700_and_files_0600(
    cli: CliRunner, cli_process: CliProcessRunner, tmp_path: Path
) -> None:
    root = tmp_path / "fresh"
    env = {
        "SUPPORT_TOOL_HOME": "",
        "HOME": str(root),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_STATE_HOME": str(root / "state"),
    }
    assert cli_process("profile", "add", "p", "--url", "http://localhost:1", env=env).status == 0
    assert cli_process("close", "terminal-0001", env=env).status == 4  # no secret: recorded
    folder = root / "data" / "support-tool"
    assert cli_process("group", "add", "g", "-", stdin="terminal-1\n", env=env).status == 0
    config = root / "config" / "support-tool"
    logs = root / "state" / "support-tool" / "log"
    for made in (config, folder, logs, logs.parent):
        assert mode(made) == 0o700, made
    files = [
        config / "profiles.toml",
        config / "groups.toml",
        folder / "history.sqlite3",
        logs / "support-tool.log",
    ]
    files += [p for p in folder.iterdir() if p.name.startswith("history.sqlite3-")]
    for made in files:
        assert mode(made) == 0o600, made


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_older_install_is_narrowed_and_window_state_is_private(home: Path) -> None:
    from support_tool.config import paths

    path = home / "history.sqlite3"
    filled(path, rows=1)
    os.chmod(path, 0o644)
    AuditLog(path).close()
    assert mode(path) == 0o600
    assert mode(paths.window_state_file()) == 0o600


def test_history_csv_is_spreadsheet_safe_on_the_command_line(cli: CliRunner, home: Path) -> None:
    with AuditLog(home / "history.sqlite3") as store:
        store.record(
            CloseResult(Outcome.REFUSED, '=HYPERLINK("http://evil.example","x")', error_code=17),
            login="=1+2",
            reason="+cmd|' /C calc'!A0",
            profile="@SUM(A1)",
            api_host="h",
            game_id="-2+3",
            clear_history=False,
        )
    run = cli("history", "--csv")
    assert run.status == 0
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert rows[0]["login"] == "'=1+2"
    assert rows[0]["description"].startswith("'=HYPERLINK(")
    assert rows[0]["reason"].startswith("'+cmd|")
    assert rows[0]["profile"] == "'@SUM(A1)"
    assert rows[0]["game_id"] == "'-2+3"
    assert run.out.startswith("id,started_at,")
    assert "\r\n" in run.out


def test_history_outcome_help_lists_the_values(cli_process: CliProcessRunner) -> None:
    run = cli_process("history", "--help")
    assert run.status == 0
    text = " ".join(run.out.split())
    for outcome in Outcome:
        assert outcome.value in text


@pytest.mark.parametrize("table", ["events", "events_closing", "actions_text_data"])
@pytest.mark.parametrize("in_workers", [False, True])
def test_verify_reports_damage_in_any_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, in_workers: bool
) -> None:
    """verify no longer runs PRAGMA quick_check over the whole file: damage in the events,
    or in the indexes the links are checked on, stops the reads that check them, and every
    other table (the search index, say) is quick_checked on its own, in the worker
    processes too. Either way: damaged, not altered, with the way to go on working."""
    from support_tool.audit import check

    path = filled(tmp_path / "h.sqlite3")
    monkeypatch.setattr(history_module, "QUICK_CHECK_AT_OPEN_BYTES", 0)  # open it anyway
    garbage_in_the_middle(path, table)
    if in_workers:
        monkeypatch.setattr(check, "PARALLEL_FROM", 1)
        monkeypatch.setattr(check, "_RANGE", 300)
    with AuditLog(path) as store:
        report = store.verify()
        assert store.damaged is not None
    assert not report.ok
    assert "SQLite reports the file damaged" in report.problem
    assert r"move h.sqlite3" in report.problem
    assert "cannot be verified" in report.describe()


@pytest.mark.parametrize(
    "body",
    ["{not json", "[1, 2]", "42", '{"login": {"nested": true}, "profile": null}', "x'00ff'"],
)
def test_an_altered_body_after_the_mark_neither_stops_the_catch_up_nor_hides_a_line(
    tmp_path: Path, body: str
) -> None:
    """The filter keys are caught up from the events' bodies in bulk; a body someone
    replaced with anything at all (text that is not JSON, another JSON type, bytes) must
    not stop that catch-up, the closes after it or the other lines' filters. Verify names
    the altered event."""
    path = tmp_path / "h.sqlite3"
    ok = CloseResult(Outcome.SUCCESS, "Success", error_code=0)
    row: dict[str, Any] = {"profile": "p", "api_host": "h", "game_id": None, "clear_history": False}
    with AuditLog(path) as store:
        first = store.begin(login="t-1", **row)
        store.finish(first, ok)
        second = store.begin(login="t-2", **row)
        store.finish(second, ok)
    value = f"CAST({body[1:]} AS BLOB)" if body.startswith("x'") else "?"
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER events_never_updated")
        db.execute(
            f"UPDATE events SET body = {value} WHERE seq = ?",  # noqa: S608 - test constants
            ((body, first) if value == "?" else (first,)),
        )
    with AuditLog(path) as store:
        third = store.begin(login="t-2", **row)
        store.finish(third, ok)
        store.flush()  # the catch-up reads the altered body
        assert store.damaged is None
        assert [r.id for r in store.page(history_module.AuditFilter(login="t-2"))] == [
            third,
            second,
        ]
        assert [r.id for r in store.page(history_module.AuditFilter(outcome="success"))] == [
            third,
            second,
            first,
        ]
        report = store.verify()
    assert not report.ok
    assert report.record_id == first
