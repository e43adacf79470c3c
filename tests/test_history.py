"""The audit history: pending before send, crash recovery, and the history command."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support_tool.audit.log import AuditLog
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.sandbox import SandboxServer
from tests.conftest import CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def test_row_is_pending_while_the_request_is_in_flight_and_unknown_after_a_crash(
    home: Path, sandbox: SandboxServer
) -> None:
    """Kill a real CLI process mid-request: its row must survive as *unknown*."""
    sandbox.fault = "hang"
    subprocess.run(
        [sys.executable, "-m", "support_tool", "profile", "add", "s", "--url", sandbox.url],
        check=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
        capture_output=True,
    )
    from support_tool.config.secret_store import KeyringSecrets

    KeyringSecrets().set("s", "k")
    process = subprocess.Popen(
        [sys.executable, "-m", "support_tool", "close", "terminal-0001", "--clear-history"],
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert sandbox.wait_for_requests(1, timeout=20), "the request never arrived"
    with sqlite3.connect(home / "history.sqlite3") as db:
        assert db.execute("SELECT outcome FROM actions").fetchall() == [("pending",)]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    KeyringSecrets().delete("s")
    with AuditLog(home / "history.sqlite3") as store:
        (record,) = list(store.query())
    assert record.outcome == Outcome.UNKNOWN.value
    assert "Check with the provider" in record.description
    assert record.clear_history
    assert record.login == "terminal-0001"
    with sqlite3.connect(home / "history.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_pending_row_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with AuditLog(path) as first:
        row = first.begin(profile="p", api_host="h", login="l", game_id=None, clear_history=False)
        with AuditLog(path) as second:  # another window opening meanwhile
            seen = second.get(row)
            assert seen is not None
            assert seen.outcome == "pending"
        first.finish(row, CloseResult(Outcome.SUCCESS, "Success", error_code=0))
        finished = first.get(row)
        assert finished is not None
        assert finished.outcome == "success"


def test_store_settings_and_unwritable_folder(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "h.sqlite3") as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert store._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    import pytest

    from support_tool.errors import AuditUnavailable

    with pytest.raises(AuditUnavailable, match="Nothing can be sent"):
        AuditLog(blocked / "h.sqlite3")


def test_unwritable_history_means_nothing_is_sent(
    cli: CliRunner,
    sandbox_profile: str,
    sandbox: SandboxServer,
    home: Path,
) -> None:
    (home / "history.sqlite3").mkdir()  # a folder where the database file should be
    run = cli("close", "terminal-0001")
    assert run.status == 4
    assert "audit history" in run.err
    assert "Nothing can be sent" in run.err
    assert not sandbox.received


def test_history_command_filters_and_formats(
    cli: CliRunner, sandbox_profile: str, sandbox: SandboxServer
) -> None:
    cli("close", "terminal-0001")
    cli("close", "ghost")
    cli("close", "terminal-0002", "--game", "vs20olympgate", "--clear-history")
    lines = cli("history").out.splitlines()
    assert len(lines) == 3
    assert "terminal-0002" in lines[0]
    refused = [
        json.loads(line)
        for line in cli("history", "--outcome", "refused", "--json").out.splitlines()
    ]
    assert [r["login"] for r in refused] == ["ghost"]
    assert refused[0]["error_code"] == 17
    rows = list(
        csv.DictReader(io.StringIO(cli("history", "--csv", "--login", "terminal-0002").out))
    )
    assert len(rows) == 1
    assert rows[0]["clear_history"] == "True"
    assert rows[0]["game_id"] == "vs20olympgate"
    assert len(cli("history", "--limit", "1", "--json").out.splitlines()) == 1
    assert cli("history", "--profile", "other").out.strip() == "No history rows match."
    assert cli("history", "--limit", "-1").status == 2


def _ids(store: AuditLog, text: str, outcome: str | None = None) -> list[int]:
    from support_tool.audit.log import AuditFilter

    return [r.id for r in store.page(AuditFilter(text=text, outcome=outcome), limit=10_000)]


@pytest.mark.parametrize(
    "text",
    [
        "terminal-0000042",
        "TERMINAL-00000",
        "Round not",
        "round NOT found",
        "vs20",
        "olymp",
        "%",
        "_",
        "0_1",
        '"quoted"',
        "ab",
        "x",
        "zzz-no-match",
        "HTTP 500: Internal",
    ],
)
def test_text_index_gives_the_same_rows_as_a_plain_scan(tmp_path: Path, text: str) -> None:
    from tests.history_seed import seed_history

    path = tmp_path / "h.sqlite3"
    seed_history(path, 300)
    with AuditLog(path) as store:
        store.record(
            CloseResult(Outcome.REFUSED, 'said "quoted" 100%_sure'),
            profile="p",
            api_host="h",
            login="a_b%c",
            game_id=None,
            clear_history=False,
        )
        assert store.text_index
        indexed = _ids(store, text)
        store.text_index = False
        scanned = _ids(store, text)
    assert indexed == scanned


def test_text_index_follows_updates_and_older_files_get_one(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with AuditLog(path) as store:
        row = store.begin(
            profile="p", api_host="h", login="terminal-0001", game_id="g1", clear_history=False
        )
        assert _ids(store, "Player not") == []
        store.finish(row, CloseResult(Outcome.REFUSED, "Player not found", error_code=17))
        assert _ids(store, "Player not") == [row]
        assert _ids(store, "Player not", outcome="success") == []
    with sqlite3.connect(path) as db:  # make it look like a file from before the index
        db.executescript("DROP TABLE actions_text;")
    with AuditLog(path) as store:
        assert store.text_index
        assert _ids(store, "terminal-00") == [row]


def _index_matches(path: Path, text: str) -> list[int]:
    """What the search index itself holds for ``text``, after SQLite checked it against
    the lines it indexes (FTS5 ``integrity-check`` raises on any difference)."""
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute("INSERT INTO actions_text (actions_text) VALUES ('integrity-check')")
        found = db.execute(
            "SELECT rowid FROM actions_text WHERE actions_text MATCH ? ORDER BY rowid DESC",
            (f'"{text}"',),
        )
        return [int(row[0]) for row in found]
    finally:
        db.close()


def test_a_close_leaves_the_search_index_alone_and_no_search_misses_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search index is caught up in bulk (at a batch's end, every CATCH_UP_EVERY
    events), not fed by each event: until then a search reads the newer lines directly,
    including a line indexed while pending whose answer came later, and finds exactly
    what a plain scan finds."""
    path = tmp_path / "h.sqlite3"
    row: dict[str, Any] = {"profile": "p", "api_host": "h", "clear_history": False}
    with AuditLog(path) as store:
        pending = store.begin(login="terminal-0001", game_id="vs20olympgate", **row)
        store.flush()  # a batch's end: the pending line is indexed without a description
        assert _index_matches(path, "terminal-0001") == [pending]
        index_pages = sqlite3.connect(path).execute("SELECT COUNT(*) FROM actions_text_data")
        before = index_pages.fetchone()
        refused = store.record(
            CloseResult(Outcome.REFUSED, "Player not found", error_code=17),
            login="terminal-0002",
            game_id=None,
            **row,
        )
        store.finish(pending, CloseResult(Outcome.REFUSED, "Round not found", error_code=4))
        sent = store.begin(login="terminal-0003", game_id=None, **row)
        index_pages = sqlite3.connect(path).execute("SELECT COUNT(*) FROM actions_text_data")
        assert index_pages.fetchone() == before  # three closes wrote nothing to the index
        assert _index_matches(path, "Round not") == []
        expected = {
            "Round not": [pending],
            "Player not": [refused],
            "terminal-000": [sent, refused, pending],
            "olymp": [pending],
            "found": [refused, pending],
        }
        for text, ids in expected.items():
            assert _ids(store, text) == ids, text
        assert _ids(store, "found", outcome="refused") == [refused, pending]
        store.flush()  # caught up: the index now holds the answered line as it reads
        assert _index_matches(path, "Round not") == [pending]
        assert _index_matches(path, "terminal-000") == [sent, refused, pending]
        for text, ids in expected.items():
            assert _ids(store, text) == ids, text
        monkeypatch.setattr("support_tool.audit.log.CATCH_UP_EVERY", 4)
        later = [store.record(OK_RESULT, login=f"late-{n}", game_id=None, **row) for n in range(5)]
        assert _index_matches(path, "late-")[-4:] == later[:4][::-1]  # without a flush
        assert _ids(store, "late-") == later[::-1]
        assert store.verify().ok


def _keyed(store: AuditLog, **given: Any) -> list[int]:
    from support_tool.audit.log import AuditFilter

    return [r.id for r in store.page(AuditFilter(**given), limit=10_000)]


def _key_rows(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM action_keys").fetchone()[0])
    finally:
        db.close()


def test_a_close_writes_no_filter_index_and_no_filter_misses_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filters' keys (login, profile, operator, workstation, batch, outcome) are not
    indexes SQLite updates inside each close's commit: they are caught up in bulk (at a
    batch's end, every CATCH_UP_EVERY events). Meanwhile each filter reads the newer lines
    directly, including a line keyed while pending whose answer came later."""
    path = tmp_path / "h.sqlite3"
    row: dict[str, Any] = {"profile": "p", "api_host": "h", "clear_history": False}
    with AuditLog(path) as store:
        db = sqlite3.connect(path)
        on_events = {
            str(r[0])
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'events' AND type = 'index'"
            )
        }
        db.close()
        assert on_events == {"events_closing", "events_attempts"}
        db = sqlite3.connect(path)
        triggers = {
            str(r[0])
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'events' AND type = 'trigger'"
            )
        }
        db.close()
        assert triggers == {"events_never_updated", "events_never_deleted"}  # guards only
        pending = store.begin(login="t-1", game_id=None, batch_id="b-7", **row)
        store.flush()  # a batch's end: the pending line's own keys are caught up
        keys_before = _key_rows(path)
        store.operator = "bob"
        refused = store.record(
            CloseResult(Outcome.REFUSED, "Player not found", error_code=17),
            login="t-2",
            game_id=None,
            batch_id="b-7.r081512-a3",
            **row,
        )
        store.finish(pending, CloseResult(Outcome.REFUSED, "Round not found", error_code=4))
        sent = store.begin(login="t-1", game_id=None, **{**row, "profile": "q"})
        assert _key_rows(path) == keys_before  # three closes wrote no key
        expected = {
            "login": ({"login": "t-1"}, [sent, pending]),
            "refused": ({"outcome": "refused"}, [refused, pending]),
            "pending": ({"outcome": "pending"}, [sent]),
            "batch": ({"batch_id": "b-7"}, [refused, pending]),
            "operator": ({"operator": "bob"}, [sent, refused]),
            "profile": ({"profile": "q"}, [sent]),
            "two": ({"login": "t-1", "outcome": "refused"}, [pending]),
        }
        for name, (given, ids) in expected.items():
            assert _keyed(store, **given) == ids, name
        store.flush()  # caught up: the keys now hold every line as it reads
        assert _key_rows(path) > keys_before
        for name, (given, ids) in expected.items():
            assert _keyed(store, **given) == ids, name
        monkeypatch.setattr("support_tool.audit.log.CATCH_UP_EVERY", 4)
        later = [store.record(OK_RESULT, login="late", game_id=None, **row) for _ in range(5)]
        assert _keyed(store, login="late") == later[::-1]
        assert _key_rows(path) >= keys_before + 4 * 6  # caught up without a flush
        assert store.verify().ok


def test_attempts_abandoned_before_and_after_the_mark_are_both_recovered(tmp_path: Path) -> None:
    """The open attempts are caught up in bulk behind the mark like the keys: an attempt
    left open by a process that died is recovered as *unknown* whether it is before the
    mark (in the derived list) or after it (read from the events), and one answered after
    the mark is not touched; the *in progress* filter sees the same."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    path = tmp_path / "h.sqlite3"
    row: dict[str, Any] = {"profile": "p", "api_host": "h", "game_id": None, "clear_history": True}
    with AuditLog(path) as store:
        store.pid = int(gone.stdout)  # as if these were a process that has since died
        before = store.begin(login="t-1", **row)
        answered_later = store.begin(login="t-2", **row)
        store.flush()  # the mark passes both: the derived list holds them
        store.finish(answered_later, OK_RESULT)
        after = store.begin(login="t-3", **row)
        done = store.begin(login="t-4", **row)
        store.finish(done, OK_RESULT)
        assert _keyed(store, outcome="pending") == [after, before]
    with AuditLog(path) as store:  # opening recovers what the dead process left open
        outcomes = {r.id: r.outcome for r in store.query()}
        assert _keyed(store, outcome="pending") == []
        assert store.verify().ok
    assert outcomes == {
        before: "unknown",
        answered_later: "success",
        after: "unknown",
        done: "success",
    }


def test_a_queued_finish_rides_with_the_next_commit_or_a_flush(tmp_path: Path) -> None:
    """Batches queue the answer's update instead of paying a commit of its own."""
    row: dict[str, Any] = {"profile": "p", "api_host": "h", "login": "t-1", "game_id": None}
    ok = CloseResult(Outcome.SUCCESS, "Success", error_code=0)
    with AuditLog(tmp_path / "h.sqlite3") as store:
        first = store.begin(**row, clear_history=True)
        store.finish(first, ok, wait=False)
        record = store.get(first)
        assert record is not None
        assert record.outcome == "pending"  # queued, not yet committed
        second = store.begin(**{**row, "login": "t-2"}, clear_history=True)  # carries it
        records = [store.get(i) for i in (first, second)]
        assert [r.outcome if r else None for r in records] == ["success", "pending"]
        store.finish(second, ok, wait=False)
        store.flush()
        record = store.get(second)
        assert record is not None
        assert record.outcome == "success"
        store.flush()  # nothing queued: a no-op


_KEY = "SEARCH k USING PRIMARY KEY (name=? AND value"  # action_keys


@pytest.mark.parametrize(
    ("given", "index"),
    [
        ({"login": "terminal-0001"}, _KEY),
        ({"profile": "p"}, _KEY),
        ({"operator": "alice"}, _KEY),
        ({"workstation": "desk-9"}, _KEY),
        ({"batch_id": "b-1"}, _KEY),
        ({"outcome": "refused"}, _KEY),
        ({"outcome": "refused", "login": "t-1", "profile": "p"}, _KEY),
        ({"outcome": "pending"}, "SEARCH p"),  # actions_open: the few attempts still open
        ({"text": "terminal"}, "actions_text"),
    ],
)
def test_each_filter_starts_from_its_index_not_a_scan_of_every_event(
    tmp_path: Path, given: dict[str, str], index: str
) -> None:
    """The history is a view over the events; each filter the window offers starts from
    the lines with its value (the filter keys, the search index, the open attempts), and
    reads only the newest events directly (a million actions: milliseconds)."""
    from support_tool.audit.records import _FIELDS, AuditFilter

    path = tmp_path / "h.sqlite3"
    with AuditLog(path) as store:
        parts = AuditFilter(**given).sources(0, store.text_index)
    db = sqlite3.connect(path)
    plans = []
    for source, where, params, key in parts:
        sql = f"SELECT {_FIELDS} FROM {source} WHERE {where} ORDER BY {key} DESC LIMIT 256"  # noqa: S608
        plans.append([str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)])
    db.close()
    assert index in plans[0][0], plans
    for plan in plans:
        assert not any(step.startswith(("SCAN e", "SCAN k")) for step in plan), plan


def test_operator_and_workstation_filters_pick_one_desks_lines(tmp_path: Path) -> None:
    from support_tool.audit.records import AuditFilter

    path = tmp_path / "h.sqlite3"
    refused = CloseResult(Outcome.REFUSED, "Player not found", error_code=17)
    row: dict[str, Any] = {"profile": "p", "api_host": "h", "game_id": None}
    with AuditLog(path) as here, AuditLog(path) as there:
        there.operator, there.workstation = "bob", "desk-9"
        mine = here.record(refused, login="t-1", clear_history=False, **row)
        there.finish(there.begin(login="t-2", clear_history=True, **row), OK_RESULT)
        by_bob = [r.login for r in here.page(AuditFilter(operator="bob"))]
        at_desk = [r.login for r in here.page(AuditFilter(workstation="desk-9", login="t-2"))]
        others = [r.id for r in here.page(AuditFilter(operator=here.operator))]
    assert by_bob == ["t-2"]
    assert at_desk == ["t-2"]
    assert others == [mine]


OK_RESULT = CloseResult(Outcome.SUCCESS, "Success", error_code=0)


def test_a_close_makes_exactly_two_durable_commits_and_a_batch_shares_them(
    tmp_path: Path,
) -> None:
    """The views and their indexes follow the events inside the same transactions
    (triggers): deriving them adds no commit to the close path. The search index is
    caught up once, in one more transaction, when the batch ends (``flush``)."""
    statements: list[str] = []
    ok = CloseResult(Outcome.SUCCESS, "Success", error_code=0)
    row: dict[str, Any] = {"profile": "p", "api_host": "h", "game_id": None}
    with AuditLog(tmp_path / "h.sqlite3") as store:
        store._db.set_trace_callback(statements.append)
        store.finish(store.begin(login="t-1", clear_history=False, **row), ok)
        single = sum(s.strip().upper() == "COMMIT" for s in statements)
        statements.clear()
        for n in range(10):  # as a batch's rows do: each answer rides with the next attempt
            store.finish(store.begin(login=f"t-{n}", clear_history=False, **row), ok, wait=False)
        store.flush()
        batch = sum(s.strip().upper() == "COMMIT" for s in statements)
        indexed = [s for s in statements if "INTO derived_mark VALUES" in s]
        store._db.set_trace_callback(None)
        assert [r.outcome for r in store.query(limit=11)] == ["success"] * 11
    assert single == 2
    assert batch == 11 + 1  # the rows, then the search index once
    assert len(indexed) == 1
