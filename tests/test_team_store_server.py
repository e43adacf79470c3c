"""The team audit store on a real PostgreSQL server: set-up, rights, seals, tampering.

Every test gets a fresh database owned by a non-superuser owner (``team_database``); desks
and auditors are real LOGIN roles signing in with passwords over the server's socket.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

import pytest

from support_tool.audit import team_admin
from support_tool.audit.log import COLUMNS as EMBEDDED_COLUMNS
from support_tool.audit.records import AuditFilter, AuditRecord
from support_tool.audit.team_store import ACTION_COLUMNS, TeamStore
from support_tool.errors import AuditUnavailable, ConfigurationError
from tests.polling import poll_until
from tests.postgres_server import PostgresServer, TeamDatabase, is_postgres, postgres_bindir

pytestmark = pytest.mark.postgres

DESK_PASSWORD = "desk-Pw-7!"
AUDITOR_PASSWORD = "auditor-Pw-3!"
ZERO_SEAL = bytes(32)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# --- docs/audit-trail.md, written again in Python (swap for the shared format module) ------


def reference_seal(
    previous: bytes, seq: int, kind: str, action: int, recorded_at: str, origin: str, body: str
) -> bytes:
    text = f"\n{seq}\n{kind}\n{action}\n{recorded_at}\n{origin}\n{body}"
    return hashlib.sha256(previous + text.encode("utf-8")).digest()


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def reference_problems(rows: list[tuple[Any, ...]], head: tuple[int, bytes]) -> list[str]:
    """docs/audit-trail.md checks 1-3 over (seq, kind, action, recorded_at, origin, body,
    seal) rows in seq order, against the head pointer."""
    problems = []
    previous = ZERO_SEAL
    for expected, (seq, kind, action, recorded_at, origin, body, seal) in enumerate(rows, 1):
        if seq != expected:
            problems.append(f"seq {seq} where {expected} was due")
        if bytes(seal) != reference_seal(previous, seq, kind, action, recorded_at, origin, body):
            problems.append(f"seal of {seq}")
        previous = bytes(seal)
    last = (rows[-1][0], bytes(rows[-1][6])) if rows else (0, ZERO_SEAL)
    if (head[0], bytes(head[1])) != last:
        problems.append("head")
    return problems


def stored(conn: Any) -> tuple[list[tuple[Any, ...]], tuple[int, bytes]]:
    rows = conn.execute(
        "SELECT seq, kind, action, recorded_at, origin, body, seal"
        " FROM support_tool.events ORDER BY seq"
    ).fetchall()
    head = conn.execute("SELECT seq, seal FROM support_tool.head").fetchone()
    return rows, (int(head[0]), bytes(head[1]))


# --- fixtures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamStoreSetUp:
    db: TeamDatabase
    desk: str
    desk_url: str
    auditor: str
    auditor_url: str

    def connect(self, url: str, password: str) -> Any:
        import psycopg

        return psycopg.connect(url, password=password, autocommit=True)

    def desk_store(self) -> TeamStore:
        return TeamStore.open(self.desk_url, DESK_PASSWORD, "test")


@pytest.fixture
def team(team_database: TeamDatabase) -> TeamStoreSetUp:
    db = team_database
    team_admin.init_db(db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    desk, desk_url = db.login(db.desk_role, DESK_PASSWORD)
    auditor, auditor_url = db.login(db.auditor_role, AUDITOR_PASSWORD)
    return TeamStoreSetUp(db, desk, desk_url, auditor, auditor_url)


def attempt_body(login: str = "terminal-0007", **extra: Any) -> str:
    fields = {
        "operator": "anna",
        "workstation": "desk-07",
        "pid": 4242,
        "profile": "live",
        "api_host": "api.provider.example",
        "login": login,
        "game_id": "vs20olympgate",
        "clear_history": True,
        "reason": "TCK-1234",
        "batch_id": None,
        "retry_of": None,
    }
    return canonical({**fields, **extra})


def answer_body(outcome: str = "success", description: str = "Session closed") -> str:
    return canonical(
        {
            "outcome": outcome,
            "error_code": 0,
            "description": description,
            "http_status": 200,
            "elapsed_ms": 41,
            "attempts": 1,
        }
    )


# --- init-db -------------------------------------------------------------------------------


def test_init_db_twice_creates_then_only_finds_everything(team_database: TeamDatabase) -> None:
    db = team_database
    args = (db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    first = team_admin.init_db(*args)
    text = team_admin.describe(first, db.desk_role, db.auditor_role)
    for thing in (
        "extension pg_trgm",
        "table support_tool.events",
        "table support_tool.head",
        "table support_tool.open_attempts",
        "view support_tool.actions",
        "index support_tool.events_search_text",
        "index support_tool.events_login_seq",
        "index support_tool.events_outcome_action",
        "statistics support_tool.events_outcome_stats",
        "function support_tool.append_event(text, bigint, text)",
        "trigger events_no_update_delete on support_tool.events",
    ):
        assert f"created        {thing}" in text
    assert sorted(first.roles_created) == sorted([db.desk_role, db.auditor_role])
    assert f"GRANT {db.desk_role} TO desk_07;" in text

    second = team_admin.init_db(*args)
    again = team_admin.describe(second, db.desk_role, db.auditor_role)
    assert not second.anything_new
    assert "created" not in again
    assert "updated" not in again
    assert "Nothing new: the team store was already set up." in again
    assert second.unchanged == first.created
    assert "is a superuser" not in again


def test_init_db_as_a_superuser_says_to_prefer_a_dedicated_owner(
    team_database: TeamDatabase,
) -> None:
    db = team_database
    url = db.server.conninfo("admin", db.name)
    report = team_admin.init_db(url, None, db.desk_role, db.auditor_role)
    assert "'admin' is a superuser" in team_admin.describe(report, db.desk_role, db.auditor_role)


def test_init_db_as_a_user_who_is_not_the_owner_changes_nothing(
    team_database: TeamDatabase,
) -> None:
    db = team_database
    stranger, url = db.login("pg_read_all_data", "stranger-Pw-1!")
    with pytest.raises(ConfigurationError, match="pg_trgm") as caught:
        team_admin.init_db(url, "stranger-Pw-1!", db.desk_role, db.auditor_role)
    assert "Ask a database superuser to run CREATE EXTENSION pg_trgm" in str(caught.value)
    with db.admin() as conn:
        assert conn.execute("SELECT to_regnamespace('support_tool')").fetchone() == (None,)
    assert stranger


def test_init_db_says_which_roles_it_needs_when_it_may_not_create_them(
    team_database: TeamDatabase,
) -> None:
    db = team_database
    with db.server.admin() as conn:
        conn.execute(f'ALTER ROLE "{db.owner}" NOCREATEROLE')
    with pytest.raises(ConfigurationError) as caught:
        team_admin.init_db(db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    message = str(caught.value)
    assert f"CREATE ROLE {db.desk_role} NOLOGIN;" in message
    assert f"CREATE ROLE {db.auditor_role} NOLOGIN;" in message
    assert "Nothing was changed." in message
    with db.admin() as conn:  # the transaction took the schema back with it
        assert conn.execute("SELECT to_regnamespace('support_tool')").fetchone() == (None,)


def _open_attempts(conn: Any) -> list[int]:
    return [
        int(r[0]) for r in conn.execute("SELECT seq FROM support_tool.open_attempts ORDER BY 1")
    ]


def test_init_db_fills_the_open_attempts_of_an_existing_store_once(team: TeamStoreSetUp) -> None:
    """A store set up before the open attempts were kept gets them from its events once."""
    with team.desk_store() as store:
        for login in ("p-1", "p-2", "p-3"):
            store.append("attempt", None, attempt_body(login))
        store.append("answer", 1, answer_body())
        store.append("unknown", 3, answer_body("unknown", "Check with the provider"))
    with team.db.admin() as conn:  # as an older init-db left it: no table
        assert _open_attempts(conn) == [2]
        conn.execute("DROP TABLE support_tool.open_attempts")
    db = team.db
    args = (db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    report = team_admin.describe(team_admin.init_db(*args), db.desk_role, db.auditor_role)
    assert "created        table support_tool.open_attempts" in report
    assert not team_admin.init_db(*args).anything_new
    with team.desk_store() as store:
        store.append("attempt", None, attempt_body("p-4"))
        assert [r.id for r in store.page(AuditFilter(outcome="pending"))] == [6, 2]
        store.append("answer", 2, answer_body())
        assert [r.id for r in store.page(AuditFilter(outcome="pending"))] == [6]
    with team.connect(team.desk_url, DESK_PASSWORD) as conn:
        assert _open_attempts(conn) == [6]


def test_the_pending_filter_follows_answers_and_unknowns(team: TeamStoreSetUp) -> None:
    with team.desk_store() as store:
        ids = [store.append("attempt", None, attempt_body(f"p-{n}")).seq for n in range(4)]
        store.append("refused", None, attempt_body("p-r", outcome="invalid_input"))
        pending = AuditFilter(outcome="pending")
        assert [r.id for r in store.page(pending)] == ids[::-1]
        store.append("answer", ids[1], answer_body())
        store.append("unknown", ids[3], answer_body("unknown", "Check with the provider"))
        assert [r.id for r in store.page(pending)] == [ids[2], ids[0]]
        assert [r.id for r in store.page(pending, before_id=ids[2])] == [ids[0]]
        assert [r.id for r in store.page(AuditFilter(outcome="pending", login="p-2"))] == [ids[2]]
        with pytest.raises(AuditUnavailable, match="already has its closing event"):
            store.append("answer", ids[1], answer_body())
        assert [r.id for r in store.page(pending)] == [ids[2], ids[0]]
        assert store.check_chain().ok


# --- who may do what -----------------------------------------------------------------------

WRITES = {
    "INSERT events": "INSERT INTO support_tool.events VALUES "
    "(1, 'attempt', 1, '2026-01-01T00:00:00.000Z', 'x', '{}', '\\x00'::bytea)",
    "UPDATE events": "UPDATE support_tool.events SET body = '{}'",
    "DELETE events": "DELETE FROM support_tool.events",
    "TRUNCATE events": "TRUNCATE support_tool.events",
    "INSERT head": "INSERT INTO support_tool.head VALUES (false, 0, '\\x00'::bytea)",
    "UPDATE head": "UPDATE support_tool.head SET seq = 0",
    "DELETE head": "DELETE FROM support_tool.head",
    "TRUNCATE head": "TRUNCATE support_tool.head",
    "INSERT open_attempts": "INSERT INTO support_tool.open_attempts VALUES (99)",
    "UPDATE open_attempts": "UPDATE support_tool.open_attempts SET seq = 98",
    "DELETE open_attempts": "DELETE FROM support_tool.open_attempts",
    "TRUNCATE open_attempts": "TRUNCATE support_tool.open_attempts",
    "INSERT actions": "INSERT INTO support_tool.actions (id) VALUES (1)",
    "UPDATE actions": "UPDATE support_tool.actions SET login = 'x'",
    "DELETE actions": "DELETE FROM support_tool.actions",
}


@pytest.mark.parametrize("who", ["desk", "auditor"])
def test_desks_and_auditors_cannot_write_any_table(team: TeamStoreSetUp, who: str) -> None:
    import psycopg

    with team.desk_store() as store:
        store.append("attempt", None, attempt_body())  # something to change
    url, password = (
        (team.desk_url, DESK_PASSWORD) if who == "desk" else (team.auditor_url, AUDITOR_PASSWORD)
    )
    refusals: tuple[type[Exception], ...] = (psycopg.errors.InsufficientPrivilege,)
    with team.connect(url, password) as conn:
        for what, statement in WRITES.items():
            if what.endswith("actions"):  # the view: not writable by anyone at all
                refusals += (psycopg.errors.ObjectNotInPrerequisiteState,)
            with pytest.raises(refusals, match=r"permission denied|cannot"):
                conn.execute(statement)
        rows, head = stored(conn)
    assert len(rows) == 1
    assert head[0] == 1


def test_the_owner_cannot_insert_update_delete_or_truncate_either(team: TeamStoreSetUp) -> None:
    import psycopg

    with team.desk_store() as store:
        store.append("attempt", None, attempt_body())
    with team.connect(team.db.owner_url, team.db.owner_password) as owner:
        for what, statement in WRITES.items():
            if what.endswith("actions"):
                continue  # the view is not writable by anyone
            with pytest.raises(
                psycopg.errors.InsufficientPrivilege, match=r"append-only|appended only|head"
            ):
                owner.execute(statement)
        rows, head = stored(owner)
    assert len(rows) == 1
    assert reference_problems(rows, head) == []


def test_a_desk_appends_and_the_server_seals_as_the_format_says(team: TeamStoreSetUp) -> None:
    with team.desk_store() as store:
        with store.transaction() as appender:  # one commit: attempt, then its answer
            attempt = appender.append("attempt", None, attempt_body())
            answer = appender.append("answer", attempt.seq, answer_body())
        refused = store.append("refused", None, canonical({"outcome": "invalid_input"}))
        own = store.append("attempt", 4, attempt_body("player-001"))  # its own seq is fine
    assert (attempt.seq, answer.seq, refused.seq, own.seq) == (1, 2, 3, 4)
    for event in (attempt, answer, refused, own):
        assert TIMESTAMP.match(event.recorded_at)
    with team.connect(team.desk_url, DESK_PASSWORD) as conn:
        rows, head = stored(conn)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        (1, "attempt", 1, team.desk),
        (2, "answer", 1, team.desk),
        (3, "refused", 3, team.desk),
        (4, "attempt", 4, team.desk),
    ]
    previous = ZERO_SEAL
    for row in rows:
        assert bytes(row[6]) == reference_seal(previous, *row[:6])
        previous = bytes(row[6])
    assert [bytes(r[6]) for r in rows] == [attempt.seal, answer.seal, refused.seal, own.seal]
    assert head == (4, own.seal)
    assert reference_problems(rows, head) == []


def test_a_group_is_appended_in_one_round_trip_in_order_or_not_at_all(
    team: TeamStoreSetUp,
) -> None:
    """A batch's group commit sends its events together (pipeline mode): they get
    consecutive seqs in the order given, and one the server refuses takes the whole group
    with it (nothing of it is committed, the head does not move)."""
    with team.desk_store() as store:
        with store.transaction() as appender:
            sent = appender.append_all(
                [("attempt", None, attempt_body("a")), ("attempt", None, attempt_body("b"))]
            )
        assert [e.seq for e in sent] == [1, 2]
        with store.transaction() as appender:
            closed = appender.append_all(
                [("answer", 2, answer_body()), ("answer", 1, answer_body())]
            )
        assert [e.seq for e in closed] == [3, 4]
        with (
            pytest.raises(AuditUnavailable, match="already has its closing event"),
            store.transaction() as appender,
        ):
            appender.append_all(
                [("attempt", None, attempt_body("c")), ("answer", 1, answer_body())]
            )
        assert store.count_events() == 4
        assert store.check_chain().ok
        assert store.recompute_chain().problem is None


@pytest.mark.parametrize(
    ("kind", "action", "body", "refusal"),
    [
        ("answer", 99, answer_body(), "attempt 99, which does not exist"),
        ("unknown", None, answer_body("unknown"), "which does not exist"),
        ("answer", 2, answer_body(), "attempt 2, which does not exist"),  # 2 is an answer
        ("answer", 3, answer_body(), "attempt 3, which does not exist"),  # 3 is refused
        ("answer", 1, answer_body(), "already has its closing event"),  # 1 is answered
        ("unknown", 1, answer_body("unknown"), "already has its closing event"),
        ("attempt", 1, attempt_body(), "must belong to itself"),
        ("refused", 7, answer_body(), "must belong to itself"),
        ("migrated", None, canonical({"head": "00"}), "comes first, once"),
        ("closed", None, answer_body(), "unknown event kind"),
        ("answer", 3, '{"description":"caf\u00e9"}', "printable ASCII"),
        ("answer", 3, '{"a":1}\n', "printable ASCII"),
        ("answer", 3, "[1,2]", "one JSON object"),
        ("answer", 3, "{not json", "one JSON object"),
    ],
)
def test_events_that_break_the_format_are_refused(
    team: TeamStoreSetUp, kind: str, action: int | None, body: str, refusal: str
) -> None:
    with team.desk_store() as store:
        store.append("attempt", None, attempt_body())
        store.append("answer", 1, answer_body())
        store.append("refused", None, canonical({"outcome": "invalid_input"}))
        store.append("attempt", None, attempt_body())  # 4, open
        with pytest.raises(AuditUnavailable, match=re.escape(refusal)):
            store.append(kind, action, body)
        assert store.append("answer", 4, answer_body()).seq == 5  # nothing was used up
        assert store.check_chain().ok


def test_the_auditor_reads_everything_but_cannot_append(team: TeamStoreSetUp) -> None:
    import psycopg

    with team.desk_store() as store:
        store.append("attempt", None, attempt_body())
    with team.connect(team.auditor_url, AUDITOR_PASSWORD) as conn:
        rows, head = stored(conn)
        assert len(rows) == 1
        assert head[0] == 1
        assert conn.execute("SELECT count(*) FROM support_tool.actions").fetchone() == (1,)
        assert conn.execute("SELECT * FROM support_tool.chain_problems()").fetchall() == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM support_tool.append_event('attempt', NULL, '{}')")
    with (
        TeamStore.open(team.auditor_url, AUDITOR_PASSWORD, "auditor") as store,
        pytest.raises(AuditUnavailable, match="permission denied"),
    ):
        store.append("attempt", None, attempt_body())


# --- tampering -----------------------------------------------------------------------------


def _superuser_edit(team: TeamStoreSetUp, statement: str) -> None:
    """A superuser gets past the triggers (replica mode skips them): the seals must tell."""
    with team.db.admin() as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(statement)


@pytest.mark.parametrize(
    ("edit", "server_sees", "python_sees"),
    [
        (
            "UPDATE support_tool.events SET body = replace(body, 'TCK-1234', 'TCK-9999')"
            " WHERE seq = 2",
            "event 2 does not match its seal",
            ["seal of 2"],
        ),
        ("DELETE FROM support_tool.events WHERE seq = 2", "event 3 follows 1", ["seq 3"]),
        (
            "DELETE FROM support_tool.events WHERE seq = 4",
            "the head says event 4 but the newest event is 3",
            ["head"],
        ),
        (
            "UPDATE support_tool.events SET origin = 'someone_else' WHERE seq = 1",
            "event 1 does not match its seal",
            ["seal of 1"],
        ),
        (
            "UPDATE support_tool.events SET action = 3 WHERE seq = 4",
            "event 4 (answer) points at 3",
            ["seal of 4"],
        ),
        (
            "UPDATE support_tool.events SET action = 4 WHERE seq = 4",
            "event 4 (answer) points at 4",
            ["seal of 4"],
        ),
        (
            "UPDATE support_tool.events SET action = 1 WHERE seq = 2",
            "event 2 (attempt) points at 1",
            ["seal of 2"],
        ),
    ],
)
def test_a_superuser_edit_breaks_the_chain_where_it_happened(
    team: TeamStoreSetUp, edit: str, server_sees: str, python_sees: list[str]
) -> None:
    with team.desk_store() as store:
        store.append("attempt", None, attempt_body("player-001"))
        store.append("attempt", None, attempt_body("player-002"))
        store.append("answer", 1, answer_body())
        store.append("answer", 2, answer_body())
        assert store.check_chain().ok
        _superuser_edit(team, edit)
        report = store.check_chain()
        found = store.recompute_chain()  # what history verify trusts: the desk's own pass
    assert not report.ok
    assert any(server_sees in problem for _, problem in report.problems), report.problems
    assert found.problem is not None
    assert found.problem[0] == report.problems[0][0]
    with team.connect(team.auditor_url, AUDITOR_PASSWORD) as conn:
        problems = reference_problems(*stored(conn))
    assert [p for p in problems if any(p.startswith(s) for s in python_sees)], problems


def test_the_desk_finds_a_resealed_second_answer_to_one_attempt(team: TeamStoreSetUp) -> None:
    """Seals recomputed after the change hold, but an attempt closed twice is still found
    (the desk keeps the open attempts while it streams)."""
    from support_tool.audit import events

    trail = [("attempt", None, attempt_body()), ("answer", 1, answer_body())]
    trail.append(("answer", 1, answer_body("failed", "Player has a round in play")))
    previous, rows = events.GENESIS, []
    for seq, (kind, action, body) in enumerate(trail, 1):
        made = events.make_event(
            previous, seq, kind, "2026-11-30T10:00:00.000Z", json.loads(body), action=action
        )
        rows.append((made.seq, made.kind, made.action, made.recorded_at, "", made.body, made.seal))
        previous = made.seal
    with team.db.admin() as conn:  # a superuser drops what stands in the way
        conn.execute("DROP INDEX support_tool.events_one_closing_seq")
        conn.execute("SET session_replication_role = replica")
        for row in rows:
            conn.execute(
                "INSERT INTO support_tool.events (seq, kind, action, recorded_at,"
                " origin, body, seal) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                row,
            )
        conn.execute("UPDATE support_tool.head SET seq = 3, seal = %s", (previous,))
    with team.desk_store() as store:
        found = store.recompute_chain()
    assert found.problem is not None
    assert found.problem[0] == 3
    assert "event 3 (answer) points at 1, which is not an earlier attempt" in found.problem[1]
    assert found.events == 2


# --- many desks at once --------------------------------------------------------------------


def test_concurrent_desks_get_every_seq_once_and_a_valid_chain(team: TeamStoreSetUp) -> None:
    desks, per_desk = 6, 20
    failures: list[BaseException] = []
    start = threading.Barrier(desks)

    def desk(number: int) -> None:
        try:
            with team.desk_store() as store:
                start.wait(timeout=30)
                for i in range(per_desk):
                    with store.transaction() as appender:
                        attempt = appender.append(
                            "attempt", None, attempt_body(f"terminal-{number:02d}{i:02d}")
                        )
                    store.append("answer", attempt.seq, answer_body())
        except BaseException as exc:  # handed to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    assert not failures, failures
    with team.connect(team.auditor_url, AUDITOR_PASSWORD) as conn:
        rows, head = stored(conn)
        assert conn.execute("SELECT * FROM support_tool.chain_problems()").fetchall() == []
    assert [r[0] for r in rows] == list(range(1, desks * per_desk * 2 + 1))
    assert reference_problems(rows, head) == []


# --- reading actions -----------------------------------------------------------------------


def test_actions_join_attempts_and_closing_events_like_the_embedded_record(
    team: TeamStoreSetUp,
) -> None:
    assert ACTION_COLUMNS[: len(EMBEDDED_COLUMNS)] == EMBEDDED_COLUMNS
    with team.desk_store() as store:
        closed = store.append("attempt", None, attempt_body("Terminal-0007", batch_id="b1"))
        store.append("answer", closed.seq, answer_body(description="Session CLOSED ok"))
        pending = store.append("attempt", None, attempt_body("player-042"))
        refused = store.append(
            "refused",
            None,
            canonical({"login": "bad login", "outcome": "invalid_input", "description": "spaces"}),
        )
        everything = store.actions()
        assert [a["id"] for a in everything] == [refused.seq, pending.seq, closed.seq]
        first = everything[-1]
        assert first["login"] == "Terminal-0007"
        assert first["outcome"] == "success"
        assert first["finished_at"] > first["started_at"]
        assert first["clear_history"] is True
        assert first["origin"] == team.desk
        assert everything[1]["outcome"] == "pending"
        assert everything[1]["finished_at"] is None
        assert everything[0]["outcome"] == "invalid_input"
        # "contains", any case, over login (attempt) and description (closing event)
        assert [a["id"] for a in store.actions(text="terminal-00")] == [closed.seq]
        assert [a["id"] for a in store.actions(text="closed OK")] == [closed.seq]
        assert [a["id"] for a in store.actions(text="50%")] == []
        assert [a["id"] for a in store.actions(batch_id="b1")] == [closed.seq]
        assert [a["id"] for a in store.actions(outcome="pending")] == [pending.seq]
        assert len(store.actions(limit=2)) == 2


# --- the test server itself ----------------------------------------------------------------


@pytest.mark.parametrize("pid_file_lost", [False, True])
def test_the_private_server_is_stopped_even_when_pg_ctl_cannot_stop_it(
    postgres_server: PostgresServer, pid_file_lost: bool
) -> None:
    """A test that fails mid-way still leaves no server behind: pg_ctl stops it, or (when
    pg_ctl cannot, here because its pid file is gone) the process group is killed."""
    bindir = postgres_bindir()
    assert bindir is not None  # postgres_server would have skipped
    server = PostgresServer(bindir)
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="a test failed"):
        _fail_while_running(server, pid_file_lost, seen)
    assert seen
    poll_until(lambda: not is_postgres(seen[0]), 10, "the private server to be gone")
    assert not server.root.exists()


def _fail_while_running(server: PostgresServer, pid_file_lost: bool, seen: list[int]) -> None:
    """What the session fixture does around a failing session."""
    try:
        server.start()
        seen.append(int((server.data / "postmaster.pid").read_text().split()[0]))
        assert is_postgres(seen[0])
        if pid_file_lost:
            (server.data / "postmaster.pid").unlink()
        raise RuntimeError("a test failed")
    finally:
        server.stop()


# --- paging and filtering, as the History view reads ----------------------------------------


@dataclass(frozen=True)
class Seeded:
    """A small trail with every kind of action the filters must tell apart."""

    ids: dict[str, int]  # name -> action id


def _seed_history(store: TeamStore) -> Seeded:
    ids: dict[str, int] = {}

    def attempt(name: str, outcome: str | None, description: str = "", **fields: Any) -> None:
        event = store.append("attempt", None, attempt_body(**fields))
        ids[name] = event.seq
        if outcome is not None:
            kind = "unknown" if outcome == "unknown" else "answer"
            store.append(kind, event.seq, answer_body(outcome, description))

    attempt("anna-live", "success", "Session closed", login="Terminal-0001")
    attempt(
        "bob-test",
        "failed",
        "Player 50% OFF limits",
        login="terminal-0002",
        operator="bob",
        workstation="desk-02",
        profile="test",
    )
    attempt("batch", "success", "ok", login="terminal-0003", batch_id="b1")
    attempt(
        "retry", "success", "ok", login="terminal-0003", batch_id="b1.r081512-a3", retry_of="b1"
    )
    attempt("other-batch", "success", "ok", login="terminal-0003", batch_id="b10")
    attempt("dotted-batch", "success", "ok", login="terminal-0003", batch_id="b1.x")
    ids["refused"] = store.append(
        "refused",
        None,
        canonical(
            {
                "login": "bad login",
                "operator": "bob",
                "outcome": "invalid_input",
                "description": "Logins have no spaces",
            }
        ),
    ).seq
    attempt("unknown", "unknown", "check with the provider", login="terminal-0004")
    attempt("pending", None, login="terminal-0005", game_id="VS20_OLYMP")
    attempt("no-login", "success", "ok", login="")
    return Seeded(ids)


def _matches(flt: AuditFilter, row: dict[str, Any]) -> bool:
    """records.AuditFilter's meaning, in Python, over the view's rows."""
    for name in ("login", "profile", "outcome", "operator", "workstation"):
        wanted = getattr(flt, name)
        if wanted is not None and row[name] != wanted:
            return False
    if flt.batch_id is not None and not (
        row["batch_id"] == flt.batch_id
        or re.fullmatch(re.escape(flt.batch_id) + r"\.r\d{6}-[0-9a-f]{2}", row["batch_id"] or "")
    ):
        return False
    text = flt.text.strip().lower()
    return not text or any(text in str(row[c]).lower() for c in ("login", "game_id", "description"))


FILTERS = [
    AuditFilter(),
    AuditFilter(login="terminal-0003"),
    AuditFilter(login=""),
    AuditFilter(login="TERMINAL-0003"),  # exact means exact
    AuditFilter(profile="test"),
    AuditFilter(operator="bob"),
    AuditFilter(workstation="desk-02"),
    AuditFilter(outcome="success"),
    AuditFilter(outcome="failed"),
    AuditFilter(outcome="unknown"),
    AuditFilter(outcome="invalid_input"),
    AuditFilter(outcome="pending"),
    AuditFilter(batch_id="b1"),
    AuditFilter(batch_id="b1.r081512-a3"),
    AuditFilter(text="TERMINAL-000"),  # any case, over login
    AuditFilter(text="  olymp "),  # over game, trimmed
    AuditFilter(text="no spaces"),  # over a refusal's description
    AuditFilter(text="50%"),  # a wildcard taken literally
    AuditFilter(text="_"),  # likewise: only the game VS20_OLYMP has one
    AuditFilter(text="vs20_"),
    AuditFilter(text="ok", login="terminal-0003", outcome="success"),
    AuditFilter(text="terminal", operator="anna", batch_id="b1"),
]


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_page_filters_like_the_embedded_store(team: TeamStoreSetUp, flt: AuditFilter) -> None:
    with team.desk_store() as store:
        _seed_history(store)
        rows = store.actions()
        expected = [r["id"] for r in rows if _matches(flt, r)]
        assert [r.id for r in store.page(flt)] == expected
        by_id = {r["id"]: r for r in rows}
        for record in store.page(flt):
            assert isinstance(record, AuditRecord)
            assert record.as_dict() == {c: by_id[record.id][c] for c in EMBEDDED_COLUMNS}


def test_the_filters_find_what_they_should(team: TeamStoreSetUp) -> None:
    """The reference above agrees with hand-written expectations (so it cannot drift)."""
    with team.desk_store() as store:
        ids = _seed_history(store).ids
        page = store.page
        assert [r.id for r in page(AuditFilter(batch_id="b1"))] == [ids["retry"], ids["batch"]]
        assert [r.id for r in page(AuditFilter(outcome="pending"))] == [ids["pending"]]
        assert [r.id for r in page(AuditFilter(text="50%"))] == [ids["bob-test"]]
        assert [r.id for r in page(AuditFilter(text="_"))] == [ids["pending"]]
        assert [r.id for r in page(AuditFilter(operator="bob"))] == [
            ids["refused"],
            ids["bob-test"],
        ]
        assert [r.id for r in page(AuditFilter(login=""))] == [ids["no-login"]]
        assert [r.id for r in page(AuditFilter(text="terminal-0001"))] == [ids["anna-live"]]


@pytest.mark.parametrize("flt", [AuditFilter(), AuditFilter(login="terminal-0003")], ids=repr)
def test_pages_follow_each_other_without_gap_or_repeat(
    team: TeamStoreSetUp, flt: AuditFilter
) -> None:
    with team.desk_store() as store:
        _seed_history(store)
        everything = [r.id for r in store.page(flt, limit=1000)]
        for size in (1, 2, 3, len(everything), len(everything) + 1):
            seen: list[int] = []
            before: int | None = None
            while page := store.page(flt, before, limit=size):
                assert len(page) <= size
                seen += [r.id for r in page]
                before = page[-1].id
            assert seen == everything
        assert store.page(flt, before_id=min(everything)) == []
        assert [r.id for r in store.page(flt, before_id=everything[0])] == everything[1:]
        assert [r.id for r in store.page(flt, before_id=everything[0] + 1)] == everything


def test_newer_returns_what_arrived_after_a_row(team: TeamStoreSetUp) -> None:
    with team.desk_store() as store:
        ids = _seed_history(store).ids
        everything = [r.id for r in store.page(AuditFilter())]
        assert [r.id for r in store.newer(AuditFilter(), ids["refused"])] == [
            i for i in everything if i > ids["refused"]
        ]
        assert [r.id for r in store.newer(AuditFilter(), ids["refused"], limit=2)] == (
            everything[:2]
        )
        assert store.newer(AuditFilter(), everything[0]) == []
        later = store.append("attempt", None, attempt_body("terminal-0003"))
        store.append("attempt", None, attempt_body("terminal-0009"))
        flt = AuditFilter(login="terminal-0003")
        assert [r.id for r in store.newer(flt, everything[0])] == [later.seq]


def test_get_reads_one_action_and_nothing_else(team: TeamStoreSetUp) -> None:
    with team.desk_store() as store:
        ids = _seed_history(store).ids
        record = store.get(ids["bob-test"])
        assert record is not None
        assert (record.operator, record.workstation, record.profile) == ("bob", "desk-02", "test")
        assert record.outcome == "failed"
        assert record.description == "Player 50% OFF limits"
        assert record.finished_at is not None
        assert record == store.page(AuditFilter(), before_id=ids["bob-test"] + 1, limit=1)[0]
        pending = store.get(ids["pending"])
        assert pending is not None
        assert (pending.outcome, pending.finished_at) == ("pending", None)
        assert store.get(ids["anna-live"] + 1) is None  # the answer event is not an action
        assert store.get(10_000) is None
        assert store.count_events() == store.check_chain().events
