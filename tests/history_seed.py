"""Fill a history file quickly with realistic sealed events (for model tests, verify and
benchmarks): each action is an attempt and its answer, sealed in Python and written with
``executemany``, the view rows beside them, as the store itself would write them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support_tool.audit import events
from support_tool.audit.log import EVENTS_SCHEMA, SCHEMA_VERSION, AuditLog
from support_tool.audit.writing import _SCHEMA

OUTCOMES = (
    ("success", 0, "Success", 200),
    ("refused", 17, "Player not found", 200),
    ("refused", 4, "Round not found", 200),
    ("transport_failure", None, "The provider answered HTTP 500: Internal Server Error", 500),
)
_EVENT = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"
_ACTION = "INSERT INTO actions VALUES (?, ?, ?, 'agent', 'desk-1', 1, 'live', 'api.example.com', ?, ?, ?, '', NULL, ?, ?, ?, ?, ?, 1)"  # noqa: E501


def _pair(head: tuple[int, bytes], n: int) -> tuple[list[events.Event], tuple[object, ...]]:
    outcome, code, description, status = OUTCOMES[n % len(OUTCOMES)]
    login, game, clear = f"terminal-{n:07d}", "vs20olympgate" if n % 3 else "", n % 2
    attempt = events.make_event(
        head[1],
        head[0] + 1,
        events.ATTEMPT,
        f"2026-01-01T00:00:{n % 60:02d}.000Z",
        {
            "operator": "agent",
            "workstation": "desk-1",
            "pid": 1,
            "profile": "live",
            "api_host": "api.example.com",
            "login": login,
            "game_id": game,
            "clear_history": bool(clear),
            "reason": "",
            "batch_id": None,
            "retry_of": None,
        },
    )
    elapsed = 40 + n % 100
    closing = {"outcome": outcome, "error_code": code, "description": description}
    closing |= {"http_status": status, "elapsed_ms": elapsed, "attempts": 1}
    answer = events.make_event(
        attempt.seal,
        attempt.seq + 1,
        events.ANSWER,
        f"2026-01-01T00:00:{n % 60:02d}.100Z",
        closing,
        action=attempt.seq,
    )
    row = (attempt.seq, attempt.recorded_at, answer.recorded_at, login, game, clear)
    return [attempt, answer], (*row, outcome, code, description, status, elapsed)


def seed_history(path: Path, rows: int, batch: int = 50_000) -> None:
    """Create ``rows`` finished actions (oldest first, 2 × ``rows`` events).

    The search index is built afterwards by opening the store, in one pass, as it is for
    a converted file."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")
        for statement in (*_SCHEMA.split(";"), *EVENTS_SCHEMA):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        head = (0, events.GENESIS)
        for start in range(0, rows, batch):
            sealed: list[tuple[object, ...]] = []
            shown: list[tuple[object, ...]] = []
            for n in range(start, min(rows, start + batch)):
                pair, row = _pair(head, n)
                sealed += [
                    (e.seq, e.kind, e.action, e.recorded_at, e.origin, e.body, e.seal) for e in pair
                ]
                shown.append(row)
                head = (pair[-1].seq, pair[-1].seal)
            db.executemany(_EVENT, sealed)
            db.executemany(_ACTION, shown)
        db.execute("INSERT INTO events_head VALUES (1, ?, ?)", head)
    db.close()
    AuditLog(path).close()
