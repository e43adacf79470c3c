"""TeamLog, the team store behind the AuditStore protocol, in this process against a real
PostgreSQL server: the same bodies as the embedded file, bounded waits, losing the store
and getting it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support_tool.audit.bodies import UNSTORED
from support_tool.audit.log import AuditLog
from support_tool.audit.team_log import TeamLog
from support_tool.audit.team_pool import select
from support_tool.errors import AuditUnavailable
from support_tool.provider.outcome import CloseResult, Outcome
from tests.test_team_wire import (  # noqa: F401 - fixtures
    DESK_PASSWORD,
    Desk,
    desk_fixture,
    own_server_fixture,
)

pytestmark = pytest.mark.postgres

ASKED = {
    "profile": "live",
    "api_host": "api.example",
    "login": "terminal-0001",
    "game_id": "vs20",
    "clear_history": True,
    "reason": "INC-7 \u00e9t\u00e9",
    "batch_id": "20261130-101010-ab.r101010-cd",
}
CLOSED = CloseResult(Outcome.SUCCESS, "Success", error_code=0, http_status=200, elapsed_ms=31)


@pytest.fixture
def team(desk: Desk) -> Iterator[TeamLog]:
    log = TeamLog(desk.url, DESK_PASSWORD, desk.url)
    yield log
    log.close()


def bodies(rows: list[tuple[object, ...]]) -> list[tuple[str, dict[str, object]]]:
    return [(str(kind), json.loads(str(body))) for kind, body in rows]


def test_the_team_store_seals_what_the_embedded_file_seals(
    team: TeamLog, desk: Desk, tmp_path: Path
) -> None:
    with AuditLog(tmp_path / "history.sqlite3") as embedded:
        for store in (embedded, team):
            row = store.begin(**ASKED)  # type: ignore[arg-type]
            store.finish(row, CLOSED)
            store.record(CloseResult(Outcome.INVALID_INPUT, "Login has spaces"), login="a b")
        local = bodies(embedded._db.execute("SELECT kind, body FROM events").fetchall())
    shared = bodies(desk.rows("SELECT kind, body FROM support_tool.events ORDER BY seq"))
    assert shared == local
    assert shared[0][1]["retry_of"] == "20261130-101010-ab"


def test_appends_wait_a_bounded_time_and_a_dead_server_is_noticed(team: TeamLog) -> None:
    settings = team.run(
        lambda link: select(
            link,
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')",
        )
    )
    assert settings == [("5s", "10s")]  # statement_timeout caps the lock wait at 5 s
    options = team.run(lambda link: link.conn.info.get_parameters())
    assert options["keepalives_idle"] == "5"
    assert options["connect_timeout"] == "5"


def test_a_batch_answer_rides_with_the_next_attempt_and_flush_commits_the_rest(
    team: TeamLog, desk: Desk
) -> None:
    first = team.begin(**ASKED)  # type: ignore[arg-type]
    team.finish(first, CLOSED, wait=False)
    assert desk.rows("SELECT count(*) FROM support_tool.events") == [(1,)]
    second = team.begin(**ASKED)  # type: ignore[arg-type]
    team.finish(second, CLOSED, wait=False)
    assert desk.rows("SELECT kind, action FROM support_tool.events ORDER BY seq") == [
        ("attempt", 1),
        ("answer", 1),
        ("attempt", 3),
    ]
    team.flush()
    assert [r.outcome for r in team.query()] == ["success", "success"]
    team.record_many(
        [("bad one", CloseResult(Outcome.INVALID_INPUT, "Line 3 not sent"))] * 2,
        profile="live",
        batch_id="B",
    )
    assert [r.outcome for r in team.query(batch_id="B")] == ["invalid_input"] * 2


def test_a_lost_connection_is_named_then_the_store_reconnects_and_recovers(
    team: TeamLog, desk: Desk
) -> None:
    assert team.problem() is None
    row = team.begin(**ASKED)  # type: ignore[arg-type]
    desk.rows(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
        (desk.login,),
    )
    with pytest.raises(AuditUnavailable, match="answer could not be recorded"):
        team.finish(row, CLOSED)
    assert team.problem() is None  # a new connection: the lost answer is closed unknown
    record = team.get(row)
    assert record is not None
    assert (record.outcome, record.description) == ("unknown", UNSTORED)


def test_a_stopped_server_is_reported_until_it_is_back(own_server: Desk) -> None:
    desk = own_server
    team = TeamLog(desk.url, DESK_PASSWORD, desk.url)
    try:
        desk.server.halt()
        problem = team.problem()
        assert problem is not None
        assert problem.startswith(f"Could not connect to the team audit store {desk.url}")
        assert problem.endswith("Reconnecting: nothing can be sent until the store is back.")
        with pytest.raises(AuditUnavailable, match="Nothing was sent"):
            team.begin(**ASKED)  # type: ignore[arg-type]
        desk.server.resume()
        assert team.problem() is None
        assert team.begin(**ASKED) == 1  # type: ignore[arg-type]
    finally:
        team.close()


def test_without_a_team_store_the_command_line_never_loads_the_driver(home: Path) -> None:
    probe = (
        "import sys\n"
        "from support_tool.cli.commands import main\n"
        "status = main(['history'])\n"
        "wanted = ('psycopg', 'support_tool.audit.team')\n"
        "loaded = [m for m in sys.modules if m.startswith(wanted)]\n"
        "print(status, loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    assert result.stdout.strip().splitlines()[-1] == "0 []"
