"""Verifying the team trail on the desk's (or auditor's) own machine, trusting no server code.

The server computes seals with ``support_tool.event_seal`` and checks them with
``support_tool.chain_problems()``; a superuser who replaced those functions (to say
"fine" whatever the rows hold) and then edited an event would pass a check the server runs.
So ``history verify`` reads the stored rows and recomputes every seal here, with the same
code the embedded file uses (audit/events.py), and checks the structure while it streams:

* seq runs 1, 2, 3... without a gap;
* attempt, refused and migrated events belong to themselves (action = seq);
* an answer or unknown names an attempt that is still open (an earlier attempt, closed
  once): a set of the attempts still open is all this keeps, so memory stays bounded by
  the attempts in flight, not the trail;
* the head row names the newest event and its seal.

Everything is read in one REPEATABLE READ, READ ONLY transaction (one snapshot: appends
meanwhile are simply not part of it), in seq order, streamed through a server-side cursor
in binary, 10,000 rows at a time (never whole).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from support_tool.audit import events
from support_tool.audit.events import seal_after, tail

if TYPE_CHECKING:
    import psycopg

VERIFY_TIMEOUT_MS = 10 * 60_000  # a trail of millions streams for seconds; bounded all the same
_ROWS = (
    "SELECT seq, kind, action, recorded_at, origin, body, seal"
    " FROM support_tool.events ORDER BY seq"
)
BATCH_ROWS = 10_000  # rows per round trip of the server-side cursor: bounded memory


@dataclass(frozen=True)
class Recomputed:
    """What the desk found: events read, the newest one's seq, seal (hex) and time, the
    head row's seq, and the first problem (seq, words) if any."""

    events: int
    head_seq: int
    head_seal: str
    head_at: str
    problem: tuple[int, str] | None


def recompute(conn: psycopg.Connection[tuple[Any, ...]]) -> Recomputed:
    """Check every stored event on this side, in one read-only snapshot (see module doc)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = {int(VERIFY_TIMEOUT_MS)}")
        # A server-side cursor in binary: of the ways measured (COPY in binary or text, a
        # cursor in text), it cost the desk the least CPU (benchmarks/bench_team.py).
        with conn.cursor(name="support_tool_verify", binary=True) as cur:
            cur.itersize = BATCH_ROWS
            cur.execute(_ROWS)
            found = _walk(cur)
        head = conn.execute("SELECT seq, seal FROM support_tool.head").fetchone()
    count, seq, seal, at, problem = found
    head_seq, head_seal = (int(head[0]), bytes(head[1])) if head else (0, events.GENESIS)
    if problem is None and (head_seq, head_seal) != (seq, seal):
        problem = (
            head_seq,
            f"the head says event {head_seq} but the newest event is {seq} or has another "
            "seal: the newest events were removed or changed",
        )
    return Recomputed(count, seq, seal.hex(), at, problem)


def _walk(
    rows: Any,
) -> tuple[int, int, bytes, str, tuple[int, str] | None]:
    """One pass over (seq, kind, action, recorded_at, origin, body, seal) rows in seq
    order: (events read, last seq, last seal, last time, first problem or None). Stops at
    the first problem: everything after it is unproven anyway."""
    own, closing, attempt = set(events.OWN_ACTION), set(events.CLOSING), events.ATTEMPT
    open_attempts: set[int] = set()
    previous, last, at, count = events.GENESIS, 0, "", 0
    for seq, kind, action, recorded_at, origin, body, seal in rows:
        if seq != last + 1:
            return count, last, previous, at, (seq, _gap(seq, last))
        if seal_after(previous, tail(seq, kind, action, recorded_at, origin, body)) != seal:
            return count, last, previous, at, (seq, _altered(seq))
        if kind in own:
            if action != seq:
                return count, last, previous, at, (seq, _link(seq, kind, action))
            if kind == attempt:
                open_attempts.add(seq)
        elif kind in closing and action in open_attempts:
            open_attempts.discard(action)
        else:
            return count, last, previous, at, (seq, _link(seq, kind, action))
        previous, last, at, count = bytes(seal), seq, recorded_at, count + 1
    return count, last, previous, at, None


def _gap(seq: int, last: int) -> str:
    return f"event {seq} follows {last}: events are missing or numbered out of order"


def _altered(seq: int) -> str:
    return f"event {seq} does not match its seal: it was altered, moved or inserted"


def _link(seq: int, kind: str, action: int) -> str:
    return (
        f"event {seq} ({kind}) points at {action}, which is not an earlier attempt "
        "without a closing event"
    )
