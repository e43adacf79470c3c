"""Issue 12: an insider with the history file and plain ``sqlite3`` attacks the trail while a
real ``support-tool close`` is in flight against the sandbox. Every attack ends in exit 5
from ``history verify``, and the tool never seals what the insider wrote."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support_tool.sandbox import SandboxServer
from tests.conftest import cli_command
from tests.polling import poll_until

LATENCY_S = 2.5  # under the profile's 3 s timeout: the close succeeds after the insider acts
UNGUARDED = (
    "DROP TRIGGER IF EXISTS events_never_updated",
    "DROP TRIGGER IF EXISTS events_never_deleted",
)


def sql(path: Path, *statements: str) -> list[tuple[object, ...]]:
    """Run ``statements`` as the insider would (the last one's rows are returned)."""
    db = sqlite3.connect(path, timeout=10)
    try:
        with db:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                rows = db.execute(statement).fetchall()
        return rows
    finally:
        db.close()


def attempts(path: Path) -> list[tuple[object, ...]]:
    if not path.exists():
        return []
    try:
        return sql(path, "SELECT seq, body FROM events WHERE kind = 'attempt'")
    except sqlite3.OperationalError:  # the file is still being created
        return []


@pytest.fixture
def in_flight(
    home: Path, sandbox: SandboxServer, sandbox_profile: str
) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A real ``support-tool close terminal-0001 --clear-history`` (the victim), its attempt
    sealed and its request held by the sandbox."""
    sandbox.latency_s = LATENCY_S
    path = home / "history.sqlite3"
    process = subprocess.Popen(
        [*cli_command(), "close", "terminal-0001", "--clear-history", "--profile", sandbox_profile],
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        poll_until(lambda: bool(attempts(path)), 30, "the attempt event")
        yield path, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def verify(cli_process) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    run = cli_process("history", "verify")
    assert "Traceback" not in run.err
    return run.status, run.err


def test_erase_an_attempt_after_killing_the_tool(  # type: ignore[no-untyped-def]
    in_flight, cli_process, sandbox: SandboxServer
) -> None:
    path, process = in_flight
    assert sandbox.wait_for_requests(1, timeout=30), "the request never arrived"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    sql(
        path,
        *UNGUARDED,
        "DELETE FROM events WHERE kind = 'attempt'",
    )
    status, err = verify(cli_process)
    assert status == 5, err
    assert "the newest events are missing" in err
    assert sandbox.request_count == 1  # the provider did receive the clear-history close


def test_the_delete_itself_is_refused_while_the_triggers_stand(in_flight) -> None:  # type: ignore[no-untyped-def]
    path, _ = in_flight
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        sql(path, "DELETE FROM events WHERE kind = 'attempt'")


def test_rewrite_the_view_in_flight(in_flight, cli_process) -> None:  # type: ignore[no-untyped-def]
    """The line people read is a view over the sealed events: there is nothing else to
    rewrite, so the insider has to write the events (the next test)."""
    path, process = in_flight
    with pytest.raises(
        sqlite3.OperationalError, match="cannot modify actions because it is a view"
    ):
        sql(
            path,
            "UPDATE actions SET login = 'innocent-7', operator = 'alice', clear_history = 0,"
            " reason = 'requested by player' WHERE outcome = 'pending'",
        )
    assert process.wait(timeout=30) == 0  # the tool closes the session and records it
    status, err = verify(cli_process)
    assert status == 0, err
    ((_, body),) = attempts(path)  # what was sealed before sending is what was sent
    assert json.loads(str(body))["login"] == "terminal-0001"
    assert json.loads(str(body))["clear_history"] is True


def test_rewrite_the_sealed_attempt_in_flight(in_flight, cli_process) -> None:  # type: ignore[no-untyped-def]
    path, process = in_flight
    sql(
        path,
        *UNGUARDED,
        "UPDATE events SET body = replace(replace(body, 'terminal-0001', 'innocent-7'),"
        " '\"clear_history\":true', '\"clear_history\":false') WHERE kind = 'attempt'",
    )
    assert process.wait(timeout=30) == 0
    status, err = verify(cli_process)
    assert status == 5, err
    assert "event 1 was changed" in err


def test_plant_a_pending_line_for_bob(in_flight, cli_process) -> None:  # type: ignore[no-untyped-def]
    """Planted where the tool looks for attempts to recover (derived from the events, not
    evidence): recovery checks each against its sealed event and seals nothing for it."""
    path, process = in_flight
    sql(path, "INSERT INTO actions_open VALUES (90)")
    assert process.wait(timeout=30) == 0
    assert cli_process("history").status == 0  # the next command opens (and recovers)
    assert sql(path, "SELECT COUNT(*) FROM events WHERE action = 90") == [(0,)]  # not sealed
    status, err = verify(cli_process)
    assert status == 0, err  # the trail holds nothing of bob's: nothing to report


def test_plant_an_attempt_event_for_bob(in_flight, cli_process) -> None:  # type: ignore[no-untyped-def]
    path, process = in_flight
    assert process.wait(timeout=30) == 0
    body = json.dumps(
        {"operator": "bob", "workstation": "desk-9", "pid": 999999, "login": "victim-2"},
        sort_keys=True,
        separators=(",", ":"),
    )
    sql(
        path,
        "INSERT INTO events VALUES (3, 'attempt', 3, '2026-01-01T03:00:00.000Z', '',"  # noqa: S608
        f" '{body}', randomblob(32))",
        "UPDATE events_head SET seq = 3, seal = (SELECT seal FROM events WHERE seq = 3)",
    )
    assert cli_process("history").status == 0
    assert sql(path, "SELECT COUNT(*) FROM events WHERE action = 3 AND seq > 3") == [(0,)]
    status, err = verify(cli_process)
    assert status == 5, err
    assert "event 3 was changed, moved or inserted" in err
