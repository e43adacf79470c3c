"""Verification of a desk's SQLite trail (docs/audit-trail.md, "What verify checks").

Every event's seal is checked from its own fields and the *stored* seal before it, so the
trail is split into seq ranges checked side by side in worker processes, each with its own
read-only connection; SQLite builds the sealed bytes in C (``TAIL``, ``text_factory =
bytes``). The structural checks (head, links between events, the view table) are SQL.
Every check names the first event (or action) at fault; the smallest of them is reported.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from support_tool.audit import events

TAIL = (
    "char(10)||seq||char(10)||kind||char(10)||action||char(10)||recorded_at"
    "||char(10)||origin||char(10)||body"
)


def _typed(t: str) -> str:
    """True when the event (table alias ``t``) has the types support-tool writes."""
    return (
        f"typeof({t}kind) = 'text'"
        f" AND {t}kind IN ('attempt', 'answer', 'unknown', 'refused', 'migrated')"
        f" AND typeof({t}action) = 'integer' AND typeof({t}recorded_at) = 'text'"
        f" AND typeof({t}origin) = 'text' AND typeof({t}body) = 'text' AND json_valid({t}body)"
        f" AND typeof({t}seal) = 'blob' AND length({t}seal) = 32"
    )


_TYPED = _typed("")
PARALLEL_FROM = 200_000  # below this many events one process is quicker than starting more
_RANGE = 250_000


@dataclass(frozen=True)
class Fault:
    """The first thing wrong found by one check: where (event seq) and what, in words."""

    seq: int
    problem: str
    in_view: bool = False  # about a history line (the per-action view), not an event


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
_UNLINKED_IF = (
    "(e.kind IN ('attempt', 'refused', 'migrated') AND e.action IS NOT e.seq)"
    " OR (e.kind = 'migrated' AND e.seq <> 1)"
    " OR (e.kind IN ('answer', 'unknown') AND (a.kind IS NOT 'attempt' OR e.action >= e.seq))"
)
# One pass over a range in C: how many events, the first of a wrong type, the first that
# belongs to an event that is not its own or its attempt (see check_links).
_SCAN = (
    "SELECT COUNT(*), MIN(CASE WHEN NOT (" + _typed("e.") + ") THEN e.seq END),"  # noqa: S608
    " MIN(CASE WHEN " + _UNLINKED_IF + " THEN e.seq END)"
    " FROM events e LEFT JOIN events a ON a.seq = e.action AND e.kind IN ('answer', 'unknown')"
    " WHERE e.seq BETWEEN ? AND ?"
)
_UNLINKED = "event {:,} answers an event that is not its attempt."


def check_range(uri: str, lo: int, hi: int) -> Fault | None:
    """Check events ``lo``…``hi``: each present once, in order, of the right types,
    belonging to itself or to its attempt, and each seal matching its own fields and the
    stored seal before it. The common case (all well) costs one pass in SQL and one
    SHA-256 per event; anything else is looked at again by :func:`_range_fault`, which
    names the first event at fault."""
    db = connect(uri)
    try:
        count, untyped, unlinked = db.execute(_SCAN, (lo, hi)).fetchone()
        faults: list[Fault | None] = []
        if count != hi - lo + 1 or untyped is not None or not _seals_hold(db, lo, hi):
            faults.append(_range_fault(db, lo, hi))
        if unlinked is not None:
            faults.append(Fault(unlinked, _UNLINKED.format(unlinked)))
        return min((f for f in faults if f), key=lambda f: f.seq, default=None)
    finally:
        db.close()


def _seals_hold(db: sqlite3.Connection, lo: int, hi: int) -> bool:
    """Whether every seal in ``lo``…``hi`` matches, for a range already known to be
    complete and well typed (the loop runs millions of times: nothing else in it)."""
    previous = events.GENESIS
    if lo > 1:
        row = db.execute("SELECT seal FROM events WHERE seq = ?", (lo - 1,)).fetchone()
        if row is None or not isinstance(row[0], bytes):
            return False
        previous = row[0]
    sha256 = hashlib.sha256
    for seal, tail in db.execute(_SEALED, (lo, hi)):
        if sha256(previous + tail).digest() != seal:
            return False
        previous = seal
    return True


_SEALED = f"SELECT seal, {TAIL} FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq"  # noqa: S608


def _range_fault(db: sqlite3.Connection, lo: int, hi: int) -> Fault | None:
    """The first event in ``lo``…``hi`` that is missing, of a wrong type or sealed wrong."""
    previous = events.GENESIS
    if lo > 1:
        row = db.execute("SELECT seal FROM events WHERE seq = ?", (lo - 1,)).fetchone()
        if row is None or not isinstance(row[0], bytes):
            return None  # the range before reports that event
        previous = row[0]
    expected = lo
    untyped = db.execute(
        f"SELECT MIN(seq) FROM events WHERE seq BETWEEN ? AND ? AND NOT ({_TYPED})",  # noqa: S608
        (lo, hi),
    ).fetchone()[0]
    cursor = db.execute(
        f"SELECT seq, seal, {TAIL} FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq",  # noqa: S608
        (lo, min(hi, untyped - 1) if untyped else hi),
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
    if expected <= hi:
        return Fault(expected, f"event {expected:,} is missing (deleted).")
    return None


def check_links(uri: str) -> Fault | None:
    """No attempt has two closing events (the partial index ``events_closing`` answers
    this without reading the events; each event's own link is checked in check_range)."""
    db = connect(uri)
    try:
        row = db.execute(
            "SELECT MAX(seq), action FROM events WHERE kind IN ('answer', 'unknown')"
            " GROUP BY action HAVING COUNT(*) > 1 ORDER BY 1 LIMIT 1"
        ).fetchone()
        if row:
            return Fault(row[0], f"event {row[0]:,} answers attempt {row[1]:,} a second time.")
        return None
    finally:
        db.close()


def _field(source: str, key: str) -> str:
    return f"json_extract({source}.body, '$.{key}')"


_CLOSE_SRC = "(CASE WHEN e.kind = 'refused' THEN e.body ELSE c.body END)"
_VIEW_MISMATCH = " OR ".join(
    [
        "e.seq IS NULL",
        "e.kind NOT IN ('attempt', 'refused')",
        "a.started_at IS NOT e.recorded_at",
        *(
            f"a.{key} IS NOT {_field('e', key)}"
            for key in ("operator", "workstation", "pid", "profile", "api_host", "login")
        ),
        f"a.game_id IS NOT {_field('e', 'game_id')}",
        f"a.clear_history IS NOT {_field('e', 'clear_history')}",
        f"a.reason IS NOT {_field('e', 'reason')}",
        f"a.batch_id IS NOT {_field('e', 'batch_id')}",
        "a.finished_at IS NOT (CASE WHEN e.kind = 'refused' THEN e.recorded_at"
        " ELSE c.recorded_at END)",
        f"a.outcome IS NOT COALESCE(json_extract({_CLOSE_SRC}, '$.outcome'), 'pending')",
        *(
            f"a.{key} IS NOT json_extract({_CLOSE_SRC}, '$.{key}')"
            for key in ("error_code", "http_status", "elapsed_ms")
        ),
        f"a.description IS NOT COALESCE(json_extract({_CLOSE_SRC}, '$.description'), '')",
        f"a.attempts IS NOT COALESCE(json_extract({_CLOSE_SRC}, '$.attempts'), 0)",
    ]
)


def check_view(uri: str, lo: int, hi: int) -> Fault | None:
    """The ``actions`` rows with ids ``lo``…``hi`` say what their events say, and every
    attempt or refused event in that range has its row: the views people read cannot
    show something the trail does not."""
    db = connect(uri)
    try:
        return _view_fault(db, lo, hi)
    except sqlite3.OperationalError:  # a body that is not JSON: check_range names it
        return Fault(hi, f"an event between {lo:,} and {hi:,} is not what support-tool writes.")
    finally:
        db.close()


def _view_fault(db: sqlite3.Connection, lo: int, hi: int) -> Fault | None:
    """The first ``actions`` line in ``lo``…``hi`` its events do not bear out."""
    row = db.execute(
        "SELECT a.id FROM actions a LEFT JOIN events e ON e.seq = a.id"  # noqa: S608
        " LEFT JOIN events c ON c.action = a.id AND c.kind IN ('answer', 'unknown')"
        f" WHERE a.id BETWEEN ? AND ? AND ({_VIEW_MISMATCH}) ORDER BY a.id LIMIT 1",
        (lo, hi),
    ).fetchone()
    if row:
        return Fault(
            row[0], f"the history line #{row[0]:,} does not match its sealed events.", True
        )
    row = db.execute(
        "SELECT e.seq FROM events e LEFT JOIN actions a ON a.id = e.seq"
        " WHERE e.seq BETWEEN ? AND ? AND e.kind IN ('attempt', 'refused')"
        " AND a.id IS NULL ORDER BY e.seq LIMIT 1",
        (lo, hi),
    ).fetchone()
    if row:
        return Fault(row[0], f"the history line for event {row[0]:,} was removed.", True)
    return None


def _tasks(uri: str, last: int) -> list[tuple[Callable[..., Fault | None], tuple[object, ...]]]:
    size = max(1, min(_RANGE, -(-last // max(2, os.cpu_count() or 1))))
    spans = [(lo, min(last, lo + size - 1)) for lo in range(1, last + 1, size)] or [(1, 0)]
    return [
        *((check_range, (uri, lo, hi)) for lo, hi in spans),
        (check_links, (uri,)),
        *((check_view, (uri, lo, hi)) for lo, hi in spans),
        (check_pages, (uri,)),
    ]


def structure(db: sqlite3.Connection) -> str:
    """'' when the file has the tables verify reads, else what is wrong, in words."""
    db.text_factory = str
    names = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = {"events", "events_head", "actions"} - names
    if missing:
        return f"it has no {', '.join(sorted(missing))} table (not a history this version knows)."
    columns = {str(r[1]) for r in db.execute("PRAGMA table_info(events)")}
    wanted = {"seq", "kind", "action", "recorded_at", "origin", "body", "seal"}
    if not wanted <= columns:
        return "its events table lacks " + ", ".join(sorted(wanted - columns)) + "."
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
    last_row = db.execute("SELECT MAX(seq) FROM events").fetchone()
    last = int(last_row[0] or 0)
    tasks = _tasks(uri, last)
    if last >= PARALLEL_FROM:
        faults = _in_parallel(tasks)
    else:
        faults = [f for f in map(_run, tasks) if f is not None]
    stray = db.execute(
        "SELECT MIN(id) FROM actions WHERE id NOT BETWEEN 1 AND ?", (last,)
    ).fetchone()[0]
    if stray is not None:
        faults.append(
            Fault(stray, f"the history line #{stray:,} does not match its sealed events.", True)
        )
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
        # The events are the evidence: a fault in them is named before any history line it
        # throws out of step (deleting an answer also leaves its line unsupported), so the
        # report does not depend on how a batch interleaved its events.
        first = min(faults, key=lambda f: (f.in_view, f.seq))
        verified = max(0, first.seq - 1)
        return events.ChainReport(False, verified, seal.hex(), first.problem, first.seq)
    return events.ChainReport(True, last, seal.hex(), head_at=at)


def _in_parallel(
    tasks: list[tuple[Callable[..., Fault | None], tuple[object, ...]]],
) -> list[Fault]:
    """Run ``tasks`` in worker processes; if workers cannot be started (a host that forbids
    it, a main module without the ``__main__`` guard), check here instead: slower, same
    answer."""
    # spawn, not fork: the window calls this from a worker thread of a Qt process.
    context = multiprocessing.get_context("spawn")
    workers = min(len(tasks), os.cpu_count() or 1)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return [f for f in pool.map(_run, tasks) if f is not None]
    except (BrokenProcessPool, OSError, RuntimeError):
        return [f for f in map(_run, tasks) if f is not None]


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
