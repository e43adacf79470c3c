"""Fill a history file quickly with realistic rows (for model tests and benchmarks)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support_tool.audit.log import _SCHEMA, AuditLog

OUTCOMES = (
    ("success", 0, "Success", 200),
    ("refused", 17, "Player not found", 200),
    ("refused", 4, "Round not found", 200),
    ("transport_failure", None, "The provider answered HTTP 500: Internal Server Error", 500),
)


def seed_history(path: Path, rows: int, batch: int = 50_000) -> None:
    """Create ``rows`` finished rows (oldest first) in the store's own schema.

    Rows go into the bare table first; opening the store then builds the search index in
    one pass, as it does for a history file written by an older version.
    """
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(_SCHEMA)
        for start in range(0, rows, batch):
            db.executemany(
                "INSERT INTO actions (started_at, finished_at, operator, workstation, pid,"
                " profile, api_host, login, game_id, clear_history, reason, outcome,"
                " error_code, description, http_status, elapsed_ms, attempts)"
                " VALUES (?, ?, 'agent', 'desk-1', 1, 'live', 'api.example.com', ?, ?, ?, '',"
                " ?, ?, ?, ?, ?, 1)",
                (
                    (
                        f"2026-01-01T00:00:{n % 60:02d}.000Z",
                        f"2026-01-01T00:00:{n % 60:02d}.100Z",
                        f"terminal-{n:07d}",
                        "vs20olympgate" if n % 3 else "",
                        n % 2,
                        *OUTCOMES[n % len(OUTCOMES)][:3],
                        OUTCOMES[n % len(OUTCOMES)][3],
                        40 + n % 100,
                    )
                    for n in range(start, min(rows, start + batch))
                ),
            )
    AuditLog(path).close()
