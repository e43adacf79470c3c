"""The team audit store: docs/audit-trail.md's sealed events, kept by a PostgreSQL server.

The desk never assigns ``seq``, ``recorded_at``, ``origin`` or the seal: it hands an event's
kind, action and canonical JSON body to ``support_tool.append_event`` (created by
``support-tool audit init-db``), which the server runs as the schema's owner. Appends
happen in transactions the caller controls, so an attempt is committed before its request
leaves and a batch can commit several events at once.

psycopg is imported only here and in ``team_admin`` and only when a team store is used:
without the ``team`` extra, every other part of support-tool works as before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from support_tool.audit import team_reads, team_verify
from support_tool.audit.records import COLUMNS, AuditFilter, AuditRecord, _record
from support_tool.errors import AuditUnavailable, ConfigurationError

if TYPE_CHECKING:
    import psycopg

SCHEMA = "support_tool"
CONNECT_TIMEOUT_S = 5  # a server that has not answered by then is not reachable
STATEMENT_TIMEOUT_MS = 15_000  # no append or read waits longer than a request's deadline
VERIFY_TIMEOUT_MS = 10 * 60_000  # checking every event: ~4 s a million, bounded all the same
INSTALL_HINT = (
    "The team audit store needs PostgreSQL support, which is not installed: "
    "pip install 'support-tool[team]'"
)
# The columns of the actions view, in order: the embedded record's own columns (one list
# for both stores, so a column added there cannot be forgotten here), then pid, retry_of and
# origin (the database role that appended the attempt).
ACTION_COLUMNS = (*COLUMNS, "pid", "retry_of", "origin")


class PasswordNeeded(AuditUnavailable):
    """The server asked for a password and none was given."""


def driver() -> ModuleType:
    """psycopg, or a configuration error saying how to install it."""
    try:
        import psycopg
    except ImportError:
        raise ConfigurationError(INSTALL_HINT) from None
    return psycopg


def server_message(exc: BaseException) -> str:
    """The server's or libpq's own words, on one line, without psycopg's decorations."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = str(primary or exc).strip().removeprefix("connection is bad: ")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return "; ".join(lines).rstrip(".?") or type(exc).__name__


def connect(
    conninfo: str,
    password: str | None = None,
    *,
    what: str,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
) -> psycopg.Connection[tuple[Any, ...]]:
    """Open a connection with bounded connect and statement time; ``what`` names the store
    in the message a person reads when it cannot be reached."""
    pg = driver()
    extra: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "application_name": "support-tool",
        "options": f"-c statement_timeout={int(statement_timeout_ms)} -c lock_timeout=10000",
    }
    if password:
        extra["password"] = password
    try:
        # Autocommit: every append or read runs in an explicit transaction block, and no
        # connection sits idle inside a transaction holding locks.
        conn: psycopg.Connection[tuple[Any, ...]] = pg.connect(conninfo, autocommit=True, **extra)
    except pg.Error as exc:
        if not password and "no password supplied" in str(exc):
            raise PasswordNeeded(
                f"The team audit store {what} asks for a password and none was given: run "
                "support-tool audit use URL again and type the password (standard input)."
            ) from None
        raise AuditUnavailable(
            f"Could not connect to the team audit store {what}: {server_message(exc)}. Check "
            "that the server is running and that the URL, user and password are right."
        ) from None
    return conn


@dataclass(frozen=True)
class AppendedEvent:
    """What the server assigned to an appended event."""

    seq: int
    recorded_at: str
    seal: bytes

    @property
    def seal_hex(self) -> str:
        return self.seal.hex()


@dataclass(frozen=True)
class ChainReport:
    """The server-side chain check: problems (seq, text) found, events checked, head."""

    events: int
    head_seq: int
    head_seal: str
    problems: tuple[tuple[int, str], ...]

    @property
    def ok(self) -> bool:
        return not self.problems


# Typed, so that an attempt's NULL and an answer's number run the same prepared statement.
_APPEND = (
    "SELECT seq, recorded_at, seal FROM support_tool.append_event(%s::text, %s::bigint, %s::text)"
)


class Appender:
    """Appends inside one open transaction (see :meth:`TeamStore.transaction`)."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], what: str) -> None:
        self._conn = conn
        self._what = what

    def append(self, kind: str, action: int | None, body: str) -> AppendedEvent:
        """Append one event; ``action`` None means "itself" (attempt, refused, migrated).
        ``body`` is the event's canonical JSON (docs/audit-trail.md)."""
        return self.append_all([(kind, action, body)])[0]

    def append_all(self, items: list[tuple[str, int | None, str]]) -> list[AppendedEvent]:
        """Append (kind, action, body) events in order, sent together (psycopg's pipeline
        mode: one round trip instead of one per event, while the head's lock is held);
        still inside the caller's transaction, so they are committed together or not at
        all, and the caller's commit is what makes them durable."""
        pg = driver()
        cur = self._conn.cursor()
        try:
            cur.executemany(_APPEND, items, returning=True)
            found = []
            for _ in items:
                row = cur.fetchone()
                assert row is not None  # the function always returns one row
                found.append(AppendedEvent(int(row[0]), str(row[1]), bytes(row[2])))
                cur.nextset()
        except pg.Error as exc:
            raise AuditUnavailable(
                f"The team audit store {self._what} refused the event: {server_message(exc)}"
            ) from None
        return found


class TeamStore:
    """One desk's connection to the team store, shared by its threads one call at a time."""

    def __init__(
        self,
        conn: psycopg.Connection[tuple[Any, ...]],
        what: str,
        source: team_verify.Source | None = None,
    ) -> None:
        """``source`` says how more connections to the same store are opened (verify's
        worker processes); without it, verify reads on ``conn`` alone."""
        self._conn = conn
        self._what = what
        self._source = source
        self._lock = threading.Lock()

    @classmethod
    def open(cls, conninfo: str, password: str | None, what: str) -> TeamStore:
        source = team_verify.Source(conninfo, password, what)
        return cls(connect(conninfo, password, what=what), what, source)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> TeamStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Appender]:
        """Events appended inside are committed together when the block ends (or none are)."""
        pg = driver()
        with self._lock:
            try:
                with self._conn.transaction():
                    yield Appender(self._conn, self._what)
            except pg.Error as exc:
                raise AuditUnavailable(
                    f"The team audit store {self._what} did not keep the events: "
                    f"{server_message(exc)}"
                ) from None

    def append(self, kind: str, action: int | None, body: str) -> AppendedEvent:
        """Append and commit one event."""
        with self.transaction() as appender:
            return appender.append(kind, action, body)

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """The connection, inside one transaction, with the server's errors in words."""
        pg = driver()
        with self._lock:
            try:
                with self._conn.transaction():
                    yield self._conn
            except pg.Error as exc:
                raise AuditUnavailable(
                    f"The team audit store {self._what} cannot be read: {server_message(exc)}"
                ) from None

    def _read(self, query: Any, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._reading() as conn:
            # Never a prepared (generic) plan: which index serves a filter depends on its
            # values (a common text is read newest first, a rare one from its index), so
            # each read is planned with its own.
            return conn.execute(query, params, prepare=False).fetchall()

    def actions(
        self,
        *,
        text: str = "",
        login: str | None = None,
        profile: str | None = None,
        outcome: str | None = None,
        batch_id: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Actions with the team store's own columns too (pid, retry_of, origin), newest
        first, as :meth:`page` filters them."""
        flt = AuditFilter(text, login, profile, outcome, batch_id)
        query, params = team_reads.action_query(flt, ACTION_COLUMNS, limit=limit)
        return [
            dict(zip(ACTION_COLUMNS, row, strict=True)) for row in self._read(query, tuple(params))
        ]

    def page(
        self, flt: AuditFilter, before_id: int | None = None, limit: int = 256
    ) -> list[AuditRecord]:
        """Up to ``limit`` actions older than ``before_id``, newest first (keyset paging:
        a page deep in a million actions costs what the first one does)."""
        query, params = team_reads.action_query(flt, before_id=before_id, limit=limit)
        return [_record(row) for row in self._read(query, tuple(params))]

    def newer(self, flt: AuditFilter, after_id: int, limit: int = 256) -> list[AuditRecord]:
        """Actions newer than ``after_id`` matching ``flt``, newest first."""
        query, params = team_reads.action_query(flt, after_id=after_id, limit=limit)
        return [_record(row) for row in self._read(query, tuple(params))]

    def get(self, row_id: int) -> AuditRecord | None:
        """One action by id (its attempt's seq), or None."""
        from psycopg import sql

        query = sql.SQL("SELECT {} FROM support_tool.actions v WHERE v.id = %s").format(
            sql.SQL(", ").join(sql.Identifier("v", c) for c in COLUMNS)
        )
        rows = self._read(query, (int(row_id),))
        return _record(rows[0]) if rows else None

    def count_events(self) -> int:
        """How many events the trail holds, from the head row (no count over the table)."""
        rows = self._read("SELECT seq FROM support_tool.head")
        return int(rows[0][0]) if rows else 0

    def backend_pid(self) -> int:
        """The server process serving this connection (benchmarks read its CPU time)."""
        return int(self._conn.info.backend_pid)

    def recompute_chain(self) -> team_verify.Recomputed:
        """Every seal and link recomputed on this side from the stored rows, in one
        read-only snapshot (audit/team_verify.py; a long trail by several processes
        sharing it): what ``history verify`` trusts, since the server's own check is code
        a superuser could replace."""
        pg = driver()
        with self._lock:
            try:
                return team_verify.recompute(self._conn, self._source)
            except pg.Error as exc:
                raise AuditUnavailable(
                    f"The team audit store {self._what} cannot be read: {server_message(exc)}"
                ) from None

    def check_chain(self) -> ChainReport:
        """docs/audit-trail.md's checks 1-4, computed by the server over the stored rows.
        One snapshot for the check and the head, so appends meanwhile cannot make them
        disagree; a longer statement limit, as a trail of millions takes seconds."""
        with self._reading() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            conn.execute(f"SET LOCAL statement_timeout = {int(VERIFY_TIMEOUT_MS)}")
            problems = conn.execute("SELECT seq, problem FROM support_tool.chain_problems()")
            found = tuple((int(s), str(p)) for s, p in problems.fetchall())
            head = conn.execute("SELECT seq, seal FROM support_tool.head").fetchone()
            seq, seal = head if head else (0, bytes(32))
            count = seq  # with no problem, seq runs 1..head without a gap
            if found:
                counted = conn.execute("SELECT count(*) FROM support_tool.events").fetchone()
                count = counted[0] if counted else 0
        return ChainReport(
            events=int(count), head_seq=int(seq), head_seal=bytes(seal).hex(), problems=found
        )


@dataclass(frozen=True)
class Readiness:
    """What ``audit status`` reports about a reachable server."""

    server_version: str
    user: str
    initialised: bool
    can_append: bool
    can_read: bool
    events: int | None


def readiness(conn: psycopg.Connection[tuple[Any, ...]]) -> Readiness:
    """Whether the schema exists and what this login may do with it."""
    version, user, has_schema = conn.execute(
        "SELECT current_setting('server_version'), session_user, "
        "to_regclass('support_tool.events') IS NOT NULL "
        "AND to_regprocedure('support_tool.append_event(text,bigint,text)') IS NOT NULL"
    ).fetchone() or ("", "", False)
    if not has_schema:
        return Readiness(str(version), str(user), False, False, False, None)
    can_append, can_read = conn.execute(
        "SELECT has_schema_privilege('support_tool', 'USAGE') AND has_function_privilege("
        "'support_tool.append_event(text,bigint,text)', 'EXECUTE'),"
        " has_schema_privilege('support_tool', 'USAGE')"
        " AND has_table_privilege('support_tool.head', 'SELECT')"
    ).fetchone() or (False, False)
    events = None
    if can_read:
        row = conn.execute("SELECT seq FROM support_tool.head").fetchone()
        events = int(row[0]) if row else 0
    return Readiness(str(version), str(user), True, bool(can_append), bool(can_read), events)
