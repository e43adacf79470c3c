"""The audit trail's format (docs/audit-trail.md): event kinds, canonical body, seal, anchor.

Kept free of any database so that the desk's SQLite store and the team's PostgreSQL store
compute, check and print exactly the same bytes. Every event is sealed when it is written
and never changed: an *attempt* is sealed and committed before a request leaves, and its
*answer* (or, after a crash, *unknown*) is a second event naming it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

ATTEMPT = "attempt"
ANSWER = "answer"
UNKNOWN = "unknown"
REFUSED = "refused"
MIGRATED = "migrated"
KINDS = (ATTEMPT, ANSWER, UNKNOWN, REFUSED, MIGRATED)
OWN_ACTION = (ATTEMPT, REFUSED, MIGRATED)  # ``action`` equals the event's own ``seq``
CLOSING = (ANSWER, UNKNOWN)  # ``action`` names the earlier attempt they close

ATTEMPT_KEYS = (
    "operator",
    "workstation",
    "pid",
    "profile",
    "api_host",
    "login",
    "game_id",
    "clear_history",
    "reason",
    "batch_id",
    "retry_of",
)
CLOSING_KEYS = ("outcome", "error_code", "description", "http_status", "elapsed_ms", "attempts")

SEAL_BYTES = 32
GENESIS = bytes(SEAL_BYTES)  # seal(0)


# One encoder for every body (``json.dumps`` with these options builds a new one per
# call, a third of the cost of encoding a body).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
).encode


def canonical_body(fields: Mapping[str, object]) -> str:
    """One JSON text per set of fields: keys sorted, no spaces, ASCII only, no NaN, so the
    desk and the server (and any later reader) seal exactly the same bytes."""
    return _CANONICAL(fields if type(fields) is dict else dict(fields))


def tail(seq: int, kind: str, action: int, recorded_at: str, origin: str, body: str) -> bytes:
    """What follows the previous seal in the sealed bytes (body last, so one reading)."""
    return f"\n{seq}\n{kind}\n{action}\n{recorded_at}\n{origin}\n{body}".encode()


def seal_after(previous: bytes, event_tail: bytes) -> bytes:
    """seal(n) = SHA-256(seal(n-1) ‖ tail(n))."""
    return hashlib.sha256(previous + event_tail).digest()


@dataclass(frozen=True)
class Event:
    """One sealed event as stored."""

    seq: int
    kind: str
    action: int
    recorded_at: str
    origin: str
    body: str
    seal: bytes

    def fields(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.body)
        return loaded


def make_event(
    previous: bytes,
    seq: int,
    kind: str,
    recorded_at: str,
    body: Mapping[str, object],
    *,
    action: int | None = None,
    origin: str = "",
) -> Event:
    """Seal a new event after ``previous`` (the stored seal of event ``seq - 1``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    own = seq if action is None else action
    text = canonical_body(body)
    sealed = seal_after(previous, tail(seq, kind, own, recorded_at, origin, text))
    return Event(seq, kind, own, recorded_at, origin, text, sealed)


def first_bad_seal(previous: bytes, rows: list[tuple[int, bytes, bytes]]) -> int | None:
    """The first ``seq`` among ``(seq, stored seal, tail)`` rows (in order, starting right
    after the event whose stored seal is ``previous``) whose seal does not match."""
    for seq, stored, event_tail in rows:
        if hashlib.sha256(previous + event_tail).digest() != stored:
            return seq
        previous = stored
    return None


ANCHOR_PREFIX = "support-tool anchor v1"
_ANCHOR = re.compile(
    r"^support-tool anchor v1 events=(?P<events>[1-9][0-9]{0,17}) "
    r"at=(?P<at>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z) "
    r"seal=(?P<seal>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Anchor:
    """A state of the trail to keep elsewhere: ``events`` events, the newest recorded at
    ``at`` with seal ``seal`` (hex). Any later rewrite of events 1…events changes it."""

    events: int
    at: str
    seal: str

    def line(self) -> str:
        return f"{ANCHOR_PREFIX} events={self.events} at={self.at} seal={self.seal}"


def parse_anchor(line: str) -> Anchor:
    """Read a pasted anchor line; ValueError (with a plain sentence) if it is not one."""
    found = _ANCHOR.match(line.strip())
    if found is None:
        raise ValueError(
            "That is not an anchor line. It looks like: "
            f"{ANCHOR_PREFIX} events=1042 at=2026-11-30T14:20:00.123Z seal=<64 hex digits> "
            "(print one with: support-tool history anchor)."
        )
    return Anchor(int(found["events"]), found["at"], found["seal"])


def anchor_mismatch(anchor: Anchor, found: tuple[str, str] | None) -> str:
    """'' when the anchored event, as the store now holds it (``found``: its recorded_at
    and seal in hex, None if it is gone), still has the anchored time and seal; else what
    changed, in words. Every store asks this after a full verification."""
    if found is None:
        return (
            f"the anchor names event {anchor.events:,}, but the trail now ends before it: "
            "events were removed and the trail rewritten since the anchor was taken."
        )
    if found != (anchor.at, anchor.seal):
        return (
            f"event {anchor.events:,} no longer has the anchored seal: the trail up to it "
            "was rewritten (every seal recomputed) since the anchor was taken."
        )
    return ""


@dataclass(frozen=True)
class ChainReport:
    """What verification found: ``ok``, how many events it checked, the head (seal in hex
    and time of the newest event), and for a broken trail the first event at fault and
    what is wrong with it, in words. ``record_id`` is that event's ``seq``."""

    ok: bool
    checked: int
    head_seal: str
    problem: str = ""
    record_id: int | None = None
    head_at: str = ""

    def anchor(self) -> str:
        """The anchor line for the verified head ("" when there is nothing to anchor)."""
        if not self.ok or not self.checked:
            return ""
        return Anchor(self.checked, self.head_at, self.head_seal).line()

    def describe(self) -> str:
        if self.ok:
            return (
                f"The audit history is intact: {self.checked:,} sealed "
                f"event{'' if self.checked == 1 else 's'} verified. "
                f"Chain head: {self.head_seal}"
            )
        if not self.head_seal:  # see unreadable()
            return (
                f"The audit history cannot be verified: {self.problem} Keep the file as "
                "evidence (do not edit or delete it) and tell your supervisor."
            )
        return (
            f"The audit history was altered outside support-tool: {self.problem} "
            f"({self.checked:,} events before it verified.) Keep the file as evidence and "
            "tell your supervisor."
        )


def unreadable(problem: str) -> ChainReport:
    """The report for a history that cannot be checked at all (damaged, or not a history
    this version can read): it fails, as an altered one does."""
    return ChainReport(False, 0, "", problem)
