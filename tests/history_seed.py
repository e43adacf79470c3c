"""Fill a history file quickly with realistic sealed events (for model tests, verify and
benchmarks): each action is an attempt and its answer, sealed in Python and written with
``executemany``; the views are then derived from them by opening the store, in one pass,
as they are for a converted file.

The bodies are formatted from a template rather than by ``json.dumps`` (a million actions
in seconds, not a minute); :func:`_pair` checks the first ones against the canonical
encoding, so a template that drifted from the format fails loudly."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from support_tool.audit import events
from support_tool.audit.log import EVENTS_SCHEMA, AuditLog

OUTCOMES = (
    ("success", 0, "Success", 200),
    ("refused", 17, "Player not found", 200),
    ("refused", 4, "Round not found", 200),
    ("transport_failure", None, "The provider answered HTTP 500: Internal Server Error", 500),
)
_EVENT = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"
_ATTEMPT = (
    '{{"api_host":"api.example.com","batch_id":null,"clear_history":{clear},'
    '"game_id":"{game}","login":"{login}","operator":"agent","pid":1,"profile":"live",'
    '"reason":"","retry_of":null,"workstation":"desk-1"}}'
)
_ANSWER = (
    '{{"attempts":1,"description":"{description}","elapsed_ms":{elapsed},'
    '"error_code":{code},"http_status":{status},"outcome":"{outcome}"}}'
)
Row = tuple[int, str, int, str, str, str, bytes]


def _bodies(n: int) -> tuple[str, str, str, str]:
    """Attempt and answer body of action ``n`` (canonical JSON), and their times."""
    outcome, code, description, status = OUTCOMES[n % len(OUTCOMES)]
    attempt = _ATTEMPT.format(
        clear="true" if n % 2 else "false",
        game="vs20olympgate" if n % 3 else "",
        login=f"terminal-{n:07d}",
    )
    answer = _ANSWER.format(
        description=description,
        elapsed=40 + n % 100,
        code="null" if code is None else code,
        status=status,
        outcome=outcome,
    )
    at = f"2026-01-01T00:00:{n % 60:02d}"
    return attempt, answer, at + ".000Z", at + ".100Z"


def _pair(seal: bytes, n: int) -> tuple[Row, Row]:
    """Action ``n``'s two events, sealed after ``seal`` (the previous event's)."""
    attempt, answer, started, finished = _bodies(n)
    seq = 2 * n + 1
    first_tail = f"\n{seq}\nattempt\n{seq}\n{started}\n\n{attempt}".encode()
    first = hashlib.sha256(seal + first_tail).digest()
    second_tail = f"\n{seq + 1}\nanswer\n{seq}\n{finished}\n\n{answer}".encode()
    second = hashlib.sha256(first + second_tail).digest()
    if n < 4:  # the template is the format: checked against the canonical encoding
        made = events.make_event(seal, seq, "attempt", started, _loads(attempt))
        assert (made.body, made.seal) == (attempt, first), made.body
    return (
        (seq, "attempt", seq, started, "", attempt, first),
        (seq + 1, "answer", seq, finished, "", answer, second),
    )


def _loads(text: str) -> dict[str, object]:
    import json

    loaded: dict[str, object] = json.loads(text)
    return loaded


def seed_history(path: Path, rows: int, batch: int = 50_000) -> None:
    """Create ``rows`` finished actions (oldest first, 2 × ``rows`` events)."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")
        for statement in EVENTS_SCHEMA:
            db.execute(statement)
        db.execute("PRAGMA user_version = 4")  # events only: opening derives the rest
        seal = events.GENESIS
        for start in range(0, rows, batch):
            sealed: list[Row] = []
            for n in range(start, min(rows, start + batch)):
                pair = _pair(seal, n)
                sealed += pair
                seal = pair[1][6]
            db.executemany(_EVENT, sealed)
        db.execute("INSERT INTO events_head VALUES (1, ?, ?)", (2 * rows, seal))
    db.close()
    AuditLog(path).close()
