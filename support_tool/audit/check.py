"""Verification of a desk's SQLite trail (docs/audit-trail.md, "What verify checks").

Every event's seal is checked from its own fields and the *stored* seal before it, so the
trail is split into seq ranges checked side by side (this process and spawned workers,
each with its own read-only connection). The common case costs one pass per range in which
SQLite builds the sealed bytes in C (``text_factory = bytes``) and checks each event's
types and own link, and a loop that is C all the way down (``map`` over ``hashlib``, in
arrays small enough to stay in the processor's cache: measured as fast as the plainest
read-and-hash loop, ``benchmarks/verify_floor.py``);
anything out of order is then looked at again, slowly, to name the first event at fault.
The links between events are checked on the indexes alone. The ``actions`` view is derived
from the events, so there is nothing else to compare.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from operator import add, itemgetter, methodcaller

from support_tool.audit import events

# The documented concatenation with each char(10) written as the newline itself: the same
# text, one function call fewer per separator. Its cost is the 11 concatenations (SQLite
# 3.40 allocates a fresh buffer for each), which nothing byte-identical avoids: printf-style
# formatting would stop at a NUL byte that the concatenation seals.
_NL = "'\n'"
TAIL = f"{_NL}||seq||{_NL}||kind||{_NL}||action||{_NL}||recorded_at||{_NL}||origin||{_NL}||body"
# What the seal does not cover: the storage class of each column (a BLOB holding the same
# bytes as the text seals the same, but reads differently). The body's JSON is covered by
# the seal (support-tool writes only canonical JSON); the views read a body that is not
# JSON as empty fields, never as an error.
_TYPED = (
    "kind IN ('attempt', 'answer', 'unknown', 'refused', 'migrated')"
    " AND typeof(recorded_at) = 'text' AND typeof(origin) = 'text'"
    " AND typeof(body) = 'text' AND typeof(seal) = 'blob' AND length(seal) = 32"
)
# Each event belongs to itself or (answer, unknown) to an earlier event (which implies an
# integer action); whether that is an attempt, answered once, is check_links'.
_OWN_LINK = (
    "iif(kind IN ('answer', 'unknown'), action < seq,"
    " action = seq AND (kind <> 'migrated' OR seq = 1))"
)
# What the one pass checks per event, the same as _TYPED and _OWN_LINK for less: the kind
# and its link in one CASE (at most two comparisons for the common kinds), storage classes
# by comparison (NULL < numbers < TEXT < BLOB whatever the column's affinity) instead of
# typeof(); the seal's length is checked by comparing it with its 32-byte digest.
_PASSES = (
    "CASE kind WHEN 'attempt' THEN action = seq WHEN 'answer' THEN action < seq"
    " WHEN 'unknown' THEN action < seq WHEN 'refused' THEN action = seq"
    " WHEN 'migrated' THEN action = seq AND seq = 1 END"
    " AND recorded_at >= '' AND recorded_at < x'' AND origin >= '' AND origin < x''"
    " AND body >= '' AND body < x'' AND seal >= x''"
)
PARALLEL_FROM = 200_000  # below this many events one process is quicker than starting more
_RANGE = 250_000
_BATCH = 256  # rows per fetch: few round trips into Python, arrays that stay in cache


@dataclass(frozen=True)
class Fault:
    """The first thing wrong found by one check: where (event seq) and what, in words."""

    seq: int
    problem: str


def connect(uri: str) -> sqlite3.Connection:
    db = sqlite3.connect(uri, uri=True)
    db.text_factory = bytes
    return db


class Damaged(sqlite3.DatabaseError):
    """``PRAGMA quick_check`` found a damaged page (raised in a worker, so that the caller
    reports damage, not tampering)."""


def check_pages(uri: str) -> Fault | None:
    """``PRAGMA quick_check`` of every table but ``events`` (and its indexes). The events
    are read in full by the other checks, where a damaged page stops the read with
    SQLITE_CORRUPT; checking their pages again would read the largest table twice."""
    db = sqlite3.connect(uri, uri=True)
    try:
        names = [str(r[0]) for r in db.execute(_TABLES)]
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            found = [str(r[0]) for r in db.execute(f"PRAGMA quick_check({quoted})")]
            if found != ["ok"]:
                raise Damaged(found[0])
        return None
    finally:
        db.close()


_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'events'"
_SCAN = (
    f"SELECT seal, iif({_PASSES}, {TAIL}, NULL)"  # noqa: S608
    " FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq"
)
_UNLINKED = "event {:,} answers an event that is not its attempt."
_SEAL = itemgetter(0)
_SEALED_BYTES = itemgetter(1)
_DIGEST = methodcaller("digest")


def check_range(uri: str, lo: int, hi: int) -> Fault | None:
    """Check events ``lo``…``hi``: each present once, in order, of the right types,
    belonging to itself or to an earlier event, and each seal matching its own fields and
    the stored seal before it. All well costs one pass; anything else is looked at again
    by :func:`_range_fault`, which names the first event at fault."""
    db = connect(uri)
    try:
        if _seals_hold(db, lo, hi):
            return None
        return _range_fault(db, lo, hi)
    finally:
        db.close()


def _previous_seal(db: sqlite3.Connection, lo: int) -> bytes | None:
    if lo <= 1:
        return events.GENESIS
    row = db.execute("SELECT seal FROM events WHERE seq = ?", (lo - 1,)).fetchone()
    return row[0] if row and isinstance(row[0], bytes) else None


def _seals_hold(db: sqlite3.Connection, lo: int, hi: int) -> bool:
    """Whether ``lo``…``hi`` is complete, well typed and linked, and every seal matches.
    SQLite hands over (stored seal, sealed bytes or NULL) in small arrays; each array is
    hashed and compared with no Python code per event (TypeError: a NULL, a wrong type)."""
    previous = _previous_seal(db, lo)
    if previous is None:
        return False
    cursor = db.execute(_SCAN, (lo, hi))
    count = 0
    try:
        while rows := cursor.fetchmany(_BATCH):
            seals = list(map(_SEAL, rows))
            sealed = map(add, itertools.chain((previous,), seals), map(_SEALED_BYTES, rows))
            if list(map(_DIGEST, map(hashlib.sha256, sealed))) != seals:  # each 32 bytes
                return False
            previous = seals[-1]
            count += len(rows)
    except TypeError:
        return False
    return count == hi - lo + 1


def _first_where(db: sqlite3.Connection, condition: str, lo: int, hi: int) -> int | None:
    found = db.execute(
        f"SELECT MIN(seq) FROM events WHERE seq BETWEEN ? AND ? AND ({condition}) IS NOT 1",  # noqa: S608
        (lo, hi),
    ).fetchone()[0]
    return int(found) if found is not None else None


def _range_fault(db: sqlite3.Connection, lo: int, hi: int) -> Fault | None:
    """The first event in ``lo``…``hi`` that is missing, of a wrong type, linked wrong or
    sealed wrong."""
    previous = _previous_seal(db, lo)
    if previous is None:
        return None  # the range before reports that event
    untyped = _first_where(db, f"{_TYPED} AND typeof(action) = 'integer'", lo, hi)
    unlinked = _first_where(db, _OWN_LINK, lo, min(hi, untyped - 1) if untyped else hi)
    end = min(x for x in (hi + 1, untyped or hi + 1, unlinked or hi + 1)) - 1
    expected = lo
    cursor = db.execute(
        f"SELECT seq, seal, {TAIL} FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq",  # noqa: S608
        (lo, end),
    )
    for seq, seal, tail in cursor:
        if seq != expected:
            return Fault(expected, f"event {expected:,} is missing (deleted).")
        if events.seal_after(previous, tail) != seal:
            return Fault(seq, f"event {seq:,} was changed, moved or inserted after sealing.")
        previous = seal
        expected += 1
    if untyped and expected == untyped:
        return Fault(untyped, f"event {untyped:,} holds a value support-tool never writes.")
    if unlinked and expected == unlinked:
        return Fault(unlinked, _UNLINKED.format(unlinked))
    if expected <= hi:
        return Fault(expected, f"event {expected:,} is missing (deleted).")
    return None


# On the covering indexes alone, so no event is read, and as one merge of the two (both
# in seq order; no look-up per closing event): the closing events answer distinct attempts
# exactly when the distinct actions they name that are attempts are as many as they are.
# (Each one's being earlier is checked in its range.) Only when the counts differ are the
# closing events looked at again, to name the first at fault.
_CLOSING = (
    "FROM events INDEXED BY events_closing"
    " WHERE kind IN ('answer', 'unknown') AND action BETWEEN ?1 AND ?2"
)
_LINKED = (
    f"SELECT (SELECT COUNT(*) FROM (SELECT action {_CLOSING}"  # noqa: S608
    " INTERSECT SELECT seq FROM events INDEXED BY events_attempts"
    " WHERE kind = 'attempt' AND seq BETWEEN ?1 AND ?2 ORDER BY 1)),"
    f" (SELECT COUNT(*) {_CLOSING})"
)
_NOT_AN_ATTEMPT = (
    "SELECT MIN(c.seq) FROM events c INDEXED BY events_closing"
    " LEFT JOIN events a INDEXED BY events_attempts ON a.kind = 'attempt' AND a.seq = c.action"
    " WHERE c.kind IN ('answer', 'unknown') AND c.action BETWEEN ? AND ? AND a.seq IS NULL"
)
_TWICE = (
    "SELECT action, MAX(seq) FROM events INDEXED BY events_closing"
    " WHERE kind IN ('answer', 'unknown') AND action BETWEEN ? AND ?"
    " GROUP BY action HAVING COUNT(*) > 1"
)


def check_links(uri: str, lo: int = 1, hi: int = 1 << 62) -> Fault | None:
    """The first closing event, among those answering ``lo``…``hi``, that answers an
    event that is not an attempt, or an attempt a second time."""
    db = connect(uri)
    try:
        linked, closing = db.execute(_LINKED, (lo, hi)).fetchone()
        if linked == closing:
            return None
        found = [
            Fault(last, f"event {last:,} answers attempt {action:,} a second time.")
            for action, last in db.execute(_TWICE, (lo, hi))
        ]
        (stray,) = db.execute(_NOT_AN_ATTEMPT, (lo, hi)).fetchone()
        if stray is not None:
            found.append(Fault(stray, _UNLINKED.format(stray)))
        return min(found, key=lambda f: f.seq, default=None)
    finally:
        db.close()


Task = tuple[Callable[..., Fault | None], tuple[object, ...]]


def _tasks(uri: str, last: int, parts: int) -> list[Task]:
    """The checks, independent of each other, to be shared between ``parts`` processes:
    the links and the other tables' pages first, then the seal ranges (small enough that
    the processes finish together)."""
    size = max(1, min(_RANGE, -(-last // max(1, parts))))
    spans = [(lo, min(last, lo + size - 1)) for lo in range(1, last + 1, size)] or [(1, 0)]
    half = last // 2
    return [
        (check_links, (uri, 1, half)),
        (check_links, (uri, half + 1, 1 << 62)),
        (check_pages, (uri,)),
        *((check_range, (uri, lo, hi)) for lo, hi in spans),
    ]


_WANTED = {
    "events": {"seq", "kind", "action", "recorded_at", "origin", "body", "seal"},
    "events_head": {"seq", "seal"},
}
_INDEXES = ("events_closing", "events_attempts")


def structure(db: sqlite3.Connection) -> str:
    """'' when the file has the tables and indexes verify reads, else what is wrong."""
    db.text_factory = str
    names = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master")}
    missing = (set(_WANTED) | {"actions"}) - names
    if missing:
        return f"it has no {', '.join(sorted(missing))} table (not a history this version knows)."
    for table, wanted in _WANTED.items():
        columns = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
        if not wanted <= columns:
            return f"its {table} table lacks " + ", ".join(sorted(wanted - columns)) + "."
    lost = [name for name in _INDEXES if name not in names]
    if lost:
        return f"its index {lost[0]} was removed (not a history this version knows)."
    return ""


def verify(db: sqlite3.Connection, uri: str) -> events.ChainReport:
    """Check every event (see the module docstring); ``db`` is a read-only connection to
    the file that ``uri`` names (which the workers open again)."""
    problem = structure(db)
    if problem:
        return events.unreadable(problem)
    db.text_factory = bytes
    db.execute("BEGIN")  # one snapshot: other processes may append while this runs
    try:
        return _verify(db, uri)
    finally:
        db.execute("COMMIT")


def _verify(db: sqlite3.Connection, uri: str) -> events.ChainReport:
    last = int(db.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)
    cores = os.cpu_count() or 1
    if last >= PARALLEL_FROM and cores > 1:
        faults = _shared(_tasks(uri, last, cores), cores - 1)
    else:
        faults = [f for f in map(_run, _tasks(uri, last, 1)) if f is not None]
    before = db.execute("SELECT MIN(seq) FROM events WHERE seq < 1").fetchone()[0]
    if before is not None:  # outside every range checked above
        faults.append(Fault(before, f"event {before:,} was inserted with a made-up number."))
    head_row = db.execute("SELECT seq, seal FROM events_head WHERE one = 1").fetchone()
    newest = db.execute("SELECT seal, recorded_at FROM events WHERE seq = ?", (last,)).fetchone()
    seal = newest[0] if newest and isinstance(newest[0], bytes) else events.GENESIS
    at = newest[1].decode("utf-8", "replace") if newest and isinstance(newest[1], bytes) else ""
    if (head_row is None and last) or (head_row is not None and tuple(head_row) != (last, seal)):
        recorded = int(head_row[0]) if head_row and isinstance(head_row[0], int) else 0
        faults.append(
            Fault(
                last + 1,
                f"the newest events are missing: the trail ends at event {last:,} but "
                f"{recorded:,} were recorded.",
            )
        )
    if faults:
        first = min(faults, key=lambda f: f.seq)
        verified = max(0, first.seq - 1)
        return events.ChainReport(False, verified, seal.hex(), first.problem, first.seq)
    return events.ChainReport(True, last, seal.hex(), head_at=at)


def _shared(tasks: list[Task], workers: int) -> list[Fault]:
    """Run ``tasks`` here and in ``workers`` worker processes at once: every task is
    queued for the workers, and this process takes them from the back of the queue,
    running each one no worker has started (so no core idles while the workers start).
    If workers cannot be started (a host that forbids it, a main module without the
    ``__main__`` guard), everything runs here: slower, same answer."""
    # spawn, not fork: the window calls this from a worker thread of a Qt process.
    context = multiprocessing.get_context("spawn")
    found: list[Fault | None] = []
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            queued: list[Future[Fault | None]] = [pool.submit(_run, task) for task in tasks]
            for task, future in zip(reversed(tasks), reversed(queued), strict=True):
                if future.cancel():
                    found.append(_run(task))
            found += [f.result() for f in queued if not f.cancelled()]
    except (BrokenProcessPool, OSError, RuntimeError):
        found = list(map(_run, tasks))
    return [f for f in found if f is not None]


def _run(task: tuple[Callable[..., Fault | None], tuple[object, ...]]) -> Fault | None:
    function, args = task
    return function(*args)


def anchor_problem(db: sqlite3.Connection, anchor: events.Anchor) -> str:
    """'' when event ``anchor.events`` still has the anchored time and seal (call after a
    full verification), else what changed, in words."""
    row = db.execute(
        "SELECT recorded_at, seal FROM events WHERE seq = ?", (anchor.events,)
    ).fetchone()
    if row is None:
        return events.anchor_mismatch(anchor, None)
    seal = row[1].hex() if isinstance(row[1], bytes) else ""
    return events.anchor_mismatch(anchor, (row[0], seal))
