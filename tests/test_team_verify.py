"""The desk's own check of the team trail split over processes (audit/team_verify.py), on a
real PostgreSQL server: ranges read in one exported snapshot by spawned workers, stitched
into what one pass over the whole trail finds, wherever the damage falls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support_tool.audit import events, team_admin, team_verify
from support_tool.audit.team_store import TeamStore
from tests.postgres_server import TeamDatabase

pytestmark = pytest.mark.postgres

DESK_PASSWORD = "desk-Pw-Verify-5!"
RANGE = 7  # events per range in these tests: damage falls on and between boundaries
EVENTS = 48


def _body(n: int) -> str:
    return events.canonical_body({"login": f"terminal-{n:04d}", "reason": "TCK-1"})


@pytest.fixture
def desk(team_database: TeamDatabase) -> tuple[TeamDatabase, str]:
    """A team store holding EVENTS events written as a batch writes them: four attempts,
    then their four answers, so answers close attempts of the range before theirs."""
    db = team_database
    team_admin.init_db(db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    _, url = db.login(db.desk_role, DESK_PASSWORD)
    with TeamStore.open(url, DESK_PASSWORD, "test") as store:
        for group in range(EVENTS // 8):
            attempts = [store.append("attempt", None, _body(group * 4 + n)).seq for n in range(4)]
            for seq in attempts:
                store.append("answer", seq, '{"outcome":"success"}')
    return db, url


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges of RANGE events from the first event on, over three processes."""
    monkeypatch.setattr(team_verify, "PARALLEL_FROM", 1)
    monkeypatch.setattr(team_verify, "_RANGE", RANGE)
    monkeypatch.setattr(team_verify, "processes", lambda: 3)


def _both(url: str) -> tuple[team_verify.Recomputed, team_verify.Recomputed]:
    """(split over processes, one pass on one connection) over the same trail."""
    with TeamStore.open(url, DESK_PASSWORD, "test") as store:
        split = store.recompute_chain()
        whole = team_verify.recompute(store._conn)  # no source: one range, this connection
    return split, whole


def _superuser(db: TeamDatabase, *statements: str, params: tuple[Any, ...] = ()) -> None:
    with db.admin() as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement, params)


def test_ranges_are_cut_at_the_boundaries_these_tests_damage() -> None:
    assert team_verify.spans(10, 3) == [team_verify.Span(None, None)]  # short: one pass
    cut = team_verify.spans(1_000_000, 4)
    assert cut[0] == team_verify.Span(None, 250_000)
    assert cut[-1] == team_verify.Span(750_001, None)
    assert len(cut) == 4


@pytest.mark.usefixtures("split")
def test_an_intact_trail_split_over_processes_verifies_as_one_pass(
    desk: tuple[TeamDatabase, str],
) -> None:
    _, url = desk
    split, whole = _both(url)
    assert split == whole
    assert split.problem is None
    assert split.events == EVENTS
    assert split.head_seq == EVENTS


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize(
    ("statement", "seq", "words"),
    [
        ("UPDATE support_tool.events SET body = body || ' ' WHERE seq = 7", 7, "does not match"),
        ("UPDATE support_tool.events SET body = body || ' ' WHERE seq = 8", 8, "does not match"),
        ("UPDATE support_tool.events SET origin = 'x' WHERE seq = 48", 48, "does not match"),
        ("DELETE FROM support_tool.events WHERE seq = 7", 8, "event 8 follows 6"),
        ("DELETE FROM support_tool.events WHERE seq = 8", 9, "event 9 follows 7"),
        ("DELETE FROM support_tool.events WHERE seq BETWEEN 8 AND 14", 15, "event 15 follows 7"),
        ("DELETE FROM support_tool.events WHERE seq = 1", 2, "event 2 follows 0"),
        ("DELETE FROM support_tool.events WHERE seq = 48", 48, "the head says event 48"),
        ("UPDATE support_tool.events SET kind = 'unknown' WHERE seq = 13", 13, "does not match"),
    ],
)
def test_damage_anywhere_is_found_where_one_pass_finds_it(
    desk: tuple[TeamDatabase, str], statement: str, seq: int, words: str
) -> None:
    db, url = desk
    _superuser(db, statement)
    split, whole = _both(url)
    assert split == whole
    assert split.problem is not None
    assert split.problem[0] == seq
    assert words in split.problem[1]


def _reseal_from(db: TeamDatabase, start: int, changed: dict[int, tuple[str, int]]) -> None:
    """A superuser rewrites events ``start``... with other kinds/actions and every seal
    after them recomputed (the seals then hold: only the links can tell)."""
    with db.admin() as conn:
        rows = conn.execute(
            "SELECT seq, kind, action, recorded_at, origin, body FROM support_tool.events"
            " WHERE seq >= %s ORDER BY seq",
            (start,),
        ).fetchall()
        before = conn.execute(
            "SELECT seal FROM support_tool.events WHERE seq = %s", (start - 1,)
        ).fetchone()
        previous = bytes(before[0])
        conn.execute("SET session_replication_role = replica")
        conn.execute("DROP INDEX support_tool.events_one_closing_seq")
        for seq, kind, action, at, origin, body in rows:
            kind, action = changed.get(seq, (kind, action))
            previous = events.seal_after(previous, events.tail(seq, kind, action, at, origin, body))
            conn.execute(
                "UPDATE support_tool.events SET kind = %s, action = %s, seal = %s WHERE seq = %s",
                (kind, action, previous, seq),
            )
        conn.execute("UPDATE support_tool.head SET seal = %s", (previous,))


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize(
    ("changed", "seq", "words"),
    [
        # event 22, first of its range, answers attempt 17 (answered by 21) instead of 18
        ({22: ("answer", 17)}, 22, "event 22 (answer) points at 17"),
        # event 13 answers attempt 2 (range 1), closed by event 5 already
        ({13: ("answer", 2)}, 13, "event 13 (answer) points at 2"),
        # event 10 answers 5, an answer itself, in the range before its own
        ({10: ("unknown", 5)}, 10, "event 10 (unknown) points at 5"),
    ],
)
def test_a_resealed_link_across_ranges_is_found_when_stitching(
    desk: tuple[TeamDatabase, str], changed: dict[int, tuple[str, int]], seq: int, words: str
) -> None:
    db, url = desk
    _reseal_from(db, min(changed), changed)
    split, whole = _both(url)
    assert split == whole
    assert split.problem is not None
    assert split.problem[0] == seq
    assert words in split.problem[1]
    assert split.events == seq - 1


def test_a_worker_reads_the_exported_snapshot_not_the_rows_of_now(
    desk: tuple[TeamDatabase, str],
) -> None:
    """An edit made after the snapshot was exported is not what the worker checks: every
    range sees the same rows as the coordinator, however long the others take."""
    db, url = desk
    with TeamStore.open(url, DESK_PASSWORD, "test") as store, store._conn.transaction():
        conn = store._conn
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute("SELECT 1 FROM support_tool.head").fetchall()
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone() or ("",)
        _superuser(db, "UPDATE support_tool.events SET body = body || ' ' WHERE seq = 9")
        source = team_verify.Source(url, DESK_PASSWORD, "test")
        then = team_verify.check_in_snapshot(source, snapshot, team_verify.Span(8, 14))
        now = team_verify.check_in_snapshot(source, "", team_verify.Span(8, 14))
    assert then.problem is None
    assert (then.first, then.last, then.count) == (8, 14, 7)
    assert now.problem is not None
    assert now.problem[0] == 9


def test_a_snapshot_id_is_checked_before_it_reaches_sql(desk: tuple[TeamDatabase, str]) -> None:
    _, url = desk
    source = team_verify.Source(url, DESK_PASSWORD, "test")
    with pytest.raises(ValueError, match="not a snapshot id"):
        team_verify.check_in_snapshot(source, "1'; DROP TABLE x; --", team_verify.Span(1, 2))


@pytest.mark.usefixtures("split")
def test_the_split_check_still_catches_a_replaced_server_seal_function(
    desk: tuple[TeamDatabase, str],
) -> None:
    """The desk never asks the server to seal: a superuser's event_seal that returns the
    stored seal whatever the row holds changes nothing here."""
    db, url = desk
    with db.admin() as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION support_tool.event_seal(previous bytea, seq bigint,"
            " kind text, action bigint, recorded_at text, origin text, body text)"
            " RETURNS bytea LANGUAGE sql STABLE AS $$ SELECT e.seal FROM support_tool.events e"
            " WHERE e.seq = event_seal.seq $$"
        )
    edited = json.dumps({"login": "someone-else", "reason": "TCK-1"}, separators=(",", ":"))
    _superuser(db, "UPDATE support_tool.events SET body = %s WHERE seq = 17", params=(edited,))
    split, _ = _both(url)
    assert split.problem is not None
    assert split.problem[0] == 17


@pytest.mark.usefixtures("split")
def test_an_event_emptied_of_its_body_and_seal_is_named_not_a_crash(
    desk: tuple[TeamDatabase, str],
) -> None:
    """A superuser who drops NOT NULL and empties an event's body and seal: no seal
    matches a NULL, so the event is named as altered (it used to stop verify with an
    error when both were NULL)."""
    db, url = desk
    _superuser(
        db,
        "ALTER TABLE support_tool.events ALTER COLUMN body DROP NOT NULL,"
        " ALTER COLUMN seal DROP NOT NULL",
        "UPDATE support_tool.events SET body = NULL, seal = NULL WHERE seq = 9",
    )
    split, whole = _both(url)
    assert split == whole
    assert split.problem is not None
    assert split.problem[0] == 9
    assert "event 9 does not match its seal" in split.problem[1]
