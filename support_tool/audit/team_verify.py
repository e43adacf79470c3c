"""Verifying the team trail on the desk's (or auditor's) own machine, trusting no server code.

The server computes seals with ``support_tool.event_seal`` and checks them with
``support_tool.chain_problems()``; a superuser who replaced those functions (to say
"fine" whatever the rows hold) and then edited an event would pass a check the server runs.
So ``history verify`` reads the stored rows and recomputes every seal here, from the raw
columns, as docs/audit-trail.md spells them (audit/events.py), and checks the structure:

* seq runs 1, 2, 3... without a gap;
* attempt, refused and migrated events belong to themselves (action = seq);
* an answer or unknown names an attempt that is still open (an earlier attempt, closed
  once): a set of the attempts still open is all this keeps, so memory stays bounded by
  the attempts in flight, not the trail;
* the head row names the newest event and its seal.

Everything is read in one REPEATABLE READ, READ ONLY snapshot (appends meanwhile are not
part of it), in seq order, through server-side cursors in binary, a batch at a time.

A long trail is split, as the embedded file's check is (audit/check.py), into seq ranges
checked side by side: this process and spawned workers, each on its own connection that
imports the snapshot this one exported (``pg_export_snapshot``), so every range sees the
same rows. Each range starts from the *stored* seal of the event before it, and the ranges
are then stitched in order: each range's first event must follow the previous range's last,
whose verified seal must be the one the range started from; a closing event that names an
attempt before its range is checked against the attempts the earlier ranges left open.

Per event, the common case runs no Python code of ours: text columns arrive as bytes
(no decoding), the sealed bytes are one ``bytes %`` format per row, and a batch's seals are
hashed and compared in ``map`` chains, as audit/check.py does. Anything out of order sends
that batch through the plain per-event walk, which names the first event at fault.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from operator import add, eq, itemgetter, methodcaller
from typing import TYPE_CHECKING, Any

from support_tool.audit import events

if TYPE_CHECKING:
    import psycopg

VERIFY_TIMEOUT_MS = 10 * 60_000  # a trail of millions streams for seconds; bounded all the same
BATCH_ROWS = 2_000  # rows per round trip of a server-side cursor: bounded memory, warm caches
PARALLEL_FROM = 200_000  # below this many events one process is quicker than starting more
MAX_PROCESSES = 8  # a desk's cores; more would only queue on the server
_RANGE = 250_000  # at most this many events a range, so that the processes finish together
_SNAPSHOT = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")
_COLUMNS = "SELECT seq, kind, action, recorded_at, origin, body, seal FROM support_tool.events"

# docs/audit-trail.md's sealed bytes after the previous seal, from one row as read
# (seq, kind, action, recorded_at, origin, body, seal): the seal itself is consumed by
# "%.0b" and adds nothing. The same bytes as events.tail() (text columns read as UTF-8).
_TAIL = b"\n%d\n%b\n%d\n%b\n%b\n%b%.0b"
_SEQ, _KIND, _ACTION, _SEAL = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(6)
_DIGEST = methodcaller("digest")
_KINDS = frozenset(k.encode() for k in events.KINDS)
_OWN = frozenset(k.encode() for k in events.OWN_ACTION)
_CLOSING = frozenset(k.encode() for k in events.CLOSING)
_ATTEMPT = events.ATTEMPT.encode()


@dataclass(frozen=True)
class Recomputed:
    """What the desk found: events read, the newest one's seq, seal (hex) and time, the
    head row's seq, and the first problem (seq, words) if any."""

    events: int
    head_seq: int
    head_seal: str
    head_at: str
    problem: tuple[int, str] | None


@dataclass(frozen=True)
class Source:
    """How a worker process opens its own connection (never an open one: each process
    connects for itself). The password travels in the pipe to the worker, not in its
    arguments or environment."""

    conninfo: str
    password: str | None
    what: str


@dataclass(frozen=True)
class Span:
    """One seq range to check; None for no bound (the first and last ranges)."""

    lo: int | None
    hi: int | None


@dataclass
class Closing:
    """A closing event naming an attempt before its range: checked when stitching, with
    the stored seal and time before it (what is reported if it is the first problem)."""

    seq: int
    kind: str
    action: int
    before_seal: bytes
    before_at: str


@dataclass
class Checked:
    """What one range found: its first event, the stored seal before it (None: no such
    event), the events verified, the last one's seq, seal and time, the first problem, the
    attempts it left open and the closing events it could not match itself."""

    first: int = 0
    before: bytes | None = None
    count: int = 0
    last: int = 0
    seal: bytes = events.GENESIS
    at: str = ""
    problem: tuple[int, str] | None = None
    open: set[int] = field(default_factory=set)
    earlier: list[Closing] = field(default_factory=list)


# --- one range ----------------------------------------------------------------------------


def check_span(conn: psycopg.Connection[tuple[Any, ...]], span: Span, name: str) -> Checked:
    """Check the events of ``span`` on ``conn`` (inside the snapshot's transaction)."""
    from psycopg.types.string import ByteaBinaryLoader

    found = Checked()
    at = ""
    if span.lo is not None and span.lo > 1:
        row = conn.execute(
            "SELECT seal, recorded_at FROM support_tool.events WHERE seq = %s", (span.lo - 1,)
        ).fetchone()
        found.before = bytes(row[0]) if row and isinstance(row[0], bytes) else None
        at = str(row[1]) if row else ""
    else:
        found.before = events.GENESIS
    where, params = _bounds(span)
    with conn.cursor(name=name, binary=True) as cur:
        # Text as the bytes the server sent (UTF-8): what is sealed, with no decoding.
        cur.adapters.register_loader("text", ByteaBinaryLoader)
        cur.itersize = BATCH_ROWS
        cur.execute(f"{_COLUMNS}{where} ORDER BY seq", params)
        rows = cur.fetchmany(BATCH_ROWS)
        if not rows:
            return found
        found.first = found.last = int(rows[0][0])
        if found.before is None or (span.lo is not None and found.first != span.lo):
            return found  # stitching reports the gap before this range
        found.last, found.seal, found.at = found.first - 1, found.before, at
        low = found.first
        while rows and found.problem is None:
            if not _batch_holds(rows, found):
                _walk(rows, found, low)
            rows = cur.fetchmany(BATCH_ROWS) if found.problem is None else []
    return found


def _bounds(span: Span) -> tuple[str, tuple[int, ...]]:
    if span.lo is not None and span.hi is not None:
        return " WHERE seq BETWEEN %s AND %s", (span.lo, span.hi)
    if span.lo is not None:
        return " WHERE seq >= %s", (span.lo,)
    if span.hi is not None:
        return " WHERE seq <= %s", (span.hi,)
    return "", ()


def _batch_holds(rows: list[tuple[Any, ...]], found: Checked) -> bool:
    """Whether a batch is numbered on from ``found.last``, every seal matches and every
    link holds, checked in ``map`` chains (no Python code per event); if so, ``found``
    moves past it. False (nothing changed): :func:`_walk` looks again, event by event."""
    try:
        seals = list(map(_SEAL, rows))
        chained = map(add, itertools.chain((found.seal,), seals), map(_TAIL.__mod__, rows))
        if list(map(_DIGEST, map(hashlib.sha256, chained))) != seals:
            return False
    except TypeError:  # a NULL or a value of another type: the walk names it
        return False
    seqs = list(map(_SEQ, rows))
    if seqs != list(range(found.last + 1, found.last + 1 + len(rows))):
        return False
    kinds, actions = list(map(_KIND, rows)), list(map(_ACTION, rows))
    own = list(map(_OWN.__contains__, kinds))
    if list(map(eq, seqs, actions)) != own or not _KINDS.issuperset(kinds):
        return False
    opened = itertools.compress(seqs, map(_ATTEMPT.__eq__, kinds))
    closing = list(map(_CLOSING.__contains__, kinds))
    closed = list(itertools.compress(actions, closing))
    # Each names an earlier event (own links were checked above); an attempt opened in
    # this batch before it, or one still open from before; each one once.
    if not all(map(int.__lt__, closed, itertools.compress(seqs, closing))):
        return False
    still_open = found.open | set(opened)
    named = set(closed)
    if len(named) != len(closed) or not named <= still_open:
        return False  # or one names an attempt before this range: the walk keeps it
    found.open = still_open - named
    found.count += len(rows)
    found.last, found.seal = seqs[-1], seals[-1]
    found.at = bytes(rows[-1][3]).decode("utf-8", "replace")
    return True


def _walk(rows: Iterable[tuple[Any, ...]], found: Checked, low: int) -> None:
    """Event by event from ``found`` (the verified state before ``rows``): moves it past
    every event that holds, and stops at the first problem, recorded in ``found``. A
    closing event naming an event before ``low`` (the range's first) is kept for
    stitching: whether that attempt was open is known to the earlier ranges."""
    for row in rows:
        seq, kind_b, action, at_b, seal = row[0], row[1], row[2], row[3], row[6]
        kind = _text(kind_b)
        if seq != found.last + 1:
            found.problem = (seq, _gap(seq, found.last))
            return
        computed = _sealed(found.seal, row)
        if computed is None or computed != seal:
            found.problem = (seq, _altered(seq))
            return
        if kind in events.OWN_ACTION:
            if action != seq:
                found.problem = (seq, _link(seq, kind, action))
                return
            if kind == events.ATTEMPT:
                found.open.add(seq)
        elif kind in events.CLOSING and action in found.open:
            found.open.discard(action)
        elif kind in events.CLOSING and isinstance(action, int) and action < low:
            found.earlier.append(Closing(seq, kind, action, found.seal, found.at))
        else:
            found.problem = (seq, _link(seq, kind, action))
            return
        found.last, found.seal, found.at = seq, bytes(seal), _text(at_b)
        found.count += 1


def _sealed(previous: bytes, row: tuple[Any, ...]) -> bytes | None:
    """The seal ``row`` should have after ``previous``; None when a column holds a value
    support-tool never writes (a NULL), which no seal matches."""
    seq, kind, action, at, origin, body, _ = row
    try:
        return events.seal_after(previous, _TAIL % (seq, kind, action, at, origin, body, b""))
    except TypeError:
        return None


def _text(value: object) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# --- the ranges together ------------------------------------------------------------------


def stitch(parts: Sequence[Checked], head: tuple[int, bytes]) -> Recomputed:
    """The ranges' findings in seq order as one pass over the whole trail would find them
    (see the module doc), then the head compared with the newest event."""
    count, last, seal, at = 0, 0, events.GENESIS, ""
    still_open: set[int] = set()
    for part in parts:
        if not part.first:
            continue  # no events in this range: the next one's first must follow ``last``
        if part.first != last + 1:
            return Recomputed(count, last, seal.hex(), at, (part.first, _gap(part.first, last)))
        if part.before != seal:  # the same stored event, read in the same snapshot
            return Recomputed(count, last, seal.hex(), at, (part.first, _altered(part.first)))
        for closing in part.earlier:
            if closing.action not in still_open:
                done = count + closing.seq - part.first
                link = (closing.seq, _link(closing.seq, closing.kind, closing.action))
                return Recomputed(
                    done, closing.seq - 1, closing.before_seal.hex(), closing.before_at, link
                )
            still_open.discard(closing.action)
        count += part.count
        if part.problem is not None:
            return Recomputed(count, part.last, part.seal.hex(), part.at, part.problem)
        still_open |= part.open
        last, seal, at = part.last, part.seal, part.at
    head_seq, head_seal = head
    problem: tuple[int, str] | None = None
    if (head_seq, head_seal) != (last, seal):
        problem = (
            head_seq,
            f"the head says event {head_seq} but the newest event is {last} or has another "
            "seal: the newest events were removed or changed",
        )
    return Recomputed(count, last, seal.hex(), at, problem)


def spans(last: int, parts: int) -> list[Span]:
    """Seq ranges over 1..``last`` for ``parts`` processes: the first open below, the last
    open above (so that nothing numbered outside 1..last is missed)."""
    if parts <= 1 or last < PARALLEL_FROM:
        return [Span(None, None)]
    size = max(1, min(_RANGE, -(-last // parts)))
    found = [Span(lo, lo + size - 1) for lo in range(1, last + 1, size)]
    found[0] = Span(None, found[0].hi)
    found[-1] = Span(found[-1].lo, None)
    return found


def processes() -> int:
    """How many processes check ranges side by side: this desk's cores, up to eight."""
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def recompute(
    conn: psycopg.Connection[tuple[Any, ...]], source: Source | None = None
) -> Recomputed:
    """Check every stored event on this side, in one read-only snapshot (see module doc).
    With a ``source`` to open more connections, a long trail is checked by several
    processes; without, on ``conn`` alone."""
    with conn.transaction():
        _begin(conn)
        newest = conn.execute("SELECT max(seq) FROM support_tool.events").fetchone()
        head = conn.execute("SELECT seq, seal FROM support_tool.head").fetchone()
        last = int(newest[0]) if newest and newest[0] is not None else 0
        ranges = spans(last, processes() if source is not None else 1)
        here = _Here(conn)
        if len(ranges) > 1 and source is not None:
            # This transaction's snapshot (taken at its first read above), for the workers.
            exported = conn.execute("SELECT pg_export_snapshot()").fetchone()
            tasks = [(source, str(exported[0] if exported else ""), span) for span in ranges]
            parts = _shared(tasks, here, len(ranges), processes() - 1)
        else:
            parts = [here(span) for span in ranges]
    found = (int(head[0]), bytes(head[1])) if head else (0, events.GENESIS)
    return stitch(parts, found)


def _begin(conn: psycopg.Connection[tuple[Any, ...]], snapshot: str = "") -> None:
    """The first statements of a verifying transaction (in ``snapshot``, if given: a
    worker's, which must see exactly the rows the coordinator sees)."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    if snapshot:
        conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # checked against _SNAPSHOT
    conn.execute(f"SET LOCAL statement_timeout = {int(VERIFY_TIMEOUT_MS)}")
    conn.execute("SET LOCAL client_encoding = 'UTF8'")  # the bytes sealed, as read
    conn.execute("SET LOCAL jit = off")  # compiling a plain range scan costs more than it saves


class _Here:
    """Checks a range on this process's own connection, in its exported snapshot."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        self._conn = conn
        self._names = itertools.count()

    def __call__(self, span: Span) -> Checked:
        return check_span(self._conn, span, f"support_tool_verify_{next(self._names)}")


Task = tuple[Source, str, Span]


def check_in_snapshot(source: Source, snapshot: str, span: Span) -> Checked:
    """A worker process: its own connection, the coordinator's snapshot, one range. The
    server's errors come back as :class:`AuditUnavailable` (a plain sentence)."""
    from support_tool.audit.team_store import connect, driver, server_message
    from support_tool.errors import AuditUnavailable

    if snapshot and not _SNAPSHOT.match(snapshot):  # "" only in tests: a snapshot of its own
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    pg = driver()
    try:
        with (
            connect(
                source.conninfo,
                source.password,
                what=source.what,
                statement_timeout_ms=VERIFY_TIMEOUT_MS,
            ) as conn,
            conn.transaction(),
        ):
            _begin(conn, snapshot)
            return check_span(conn, span, "support_tool_verify")
    except pg.Error as exc:
        raise AuditUnavailable(
            f"The team audit store {source.what} cannot be read: {server_message(exc)}"
        ) from None


def _shared(
    tasks: list[Task], here: Callable[[Span], Checked], count: int, workers: int
) -> list[Checked]:
    """The ranges checked here and in ``workers`` spawned processes at once, in order, as
    audit/check.py shares its tasks: every range is queued for the workers, and this
    process takes them from the back of the queue, checking each one no worker has started
    on its own connection. If workers cannot be started, everything runs here: slower,
    same answer."""
    context = multiprocessing.get_context("spawn")  # the window calls this from a thread
    found: dict[int, Checked] = {}
    try:
        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
            queued: list[Future[Checked]] = [
                pool.submit(check_in_snapshot, *task) for task in tasks
            ]
            for index in reversed(range(count)):
                if queued[index].cancel():
                    found[index] = here(tasks[index][2])
            for index, future in enumerate(queued):
                if not future.cancelled():
                    found[index] = future.result()
    except (BrokenProcessPool, OSError, RuntimeError):
        found = {index: here(task[2]) for index, task in enumerate(tasks)}
    return [found[index] for index in range(count)]


def _gap(seq: int, last: int) -> str:
    return f"event {seq} follows {last}: events are missing or numbered out of order"


def _altered(seq: int) -> str:
    return f"event {seq} does not match its seal: it was altered, moved or inserted"


def _link(seq: int, kind: str, action: object) -> str:
    return (
        f"event {seq} ({kind}) points at {action}, which is not an earlier attempt "
        "without a closing event"
    )
