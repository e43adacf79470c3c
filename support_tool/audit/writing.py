"""Writing the evidence: the schema, and sealing, appending and projecting one event.

Split from ``log`` because converting an older file (``migrate``) appends events the same
way the store does, inside its own transaction, without an open store.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from support_tool.audit import check, events
from support_tool.audit.records import utc_now
from support_tool.provider.outcome import Outcome

_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT    NOT NULL,
    finished_at   TEXT,
    operator      TEXT    NOT NULL,
    workstation   TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    profile       TEXT    NOT NULL,
    api_host      TEXT    NOT NULL,
    login         TEXT    NOT NULL,
    game_id       TEXT    NOT NULL DEFAULT '',
    clear_history INTEGER NOT NULL,
    reason        TEXT    NOT NULL DEFAULT '',
    batch_id      TEXT,
    outcome       TEXT    NOT NULL,
    error_code    INTEGER,
    description   TEXT    NOT NULL DEFAULT '',
    http_status   INTEGER,
    elapsed_ms    INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS actions_login ON actions (login);
CREATE INDEX IF NOT EXISTS actions_outcome ON actions (outcome);
CREATE INDEX IF NOT EXISTS actions_batch ON actions (batch_id) WHERE batch_id IS NOT NULL;
"""

# The evidence. seq is the rowid; seal is 32 raw bytes. The triggers are defence in depth
# (anyone with the file can drop them); verify catches what a dropped trigger lets through.
EVENTS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS events (
        seq         INTEGER PRIMARY KEY,
        kind        TEXT    NOT NULL,
        action      INTEGER NOT NULL,
        recorded_at TEXT    NOT NULL,
        origin      TEXT    NOT NULL DEFAULT '',
        body        TEXT    NOT NULL,
        seal        BLOB    NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_closing ON events (action)"
    " WHERE kind IN ('answer', 'unknown')",
    """CREATE TABLE IF NOT EXISTS events_head (
        one  INTEGER PRIMARY KEY CHECK (one = 1),
        seq  INTEGER NOT NULL,
        seal BLOB    NOT NULL
    )""",
    "CREATE TRIGGER IF NOT EXISTS events_never_updated BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'audit events are never updated'); END",
    "CREATE TRIGGER IF NOT EXISTS events_never_deleted BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'audit events are never deleted'); END",
)
_ONE_EVENT = f"SELECT seal, {check.TAIL} FROM events WHERE seq = ?"  # noqa: S608 - constants

# A trigram index over the searched text turns "contains ..." from a scan of every row into
# an index lookup (a million rows: ~400 ms -> a few ms). Kept in step by triggers; where
# SQLite lacks FTS5 or its trigram tokenizer, searching falls back to LIKE.
_TEXT_INDEX = """
CREATE VIRTUAL TABLE actions_text USING fts5(
    login, game_id, description, content='actions', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER actions_text_insert AFTER INSERT ON actions BEGIN
    INSERT INTO actions_text (rowid, login, game_id, description)
    VALUES (new.id, new.login, new.game_id, new.description);
END;
CREATE TRIGGER actions_text_delete AFTER DELETE ON actions BEGIN
    INSERT INTO actions_text (actions_text, rowid, login, game_id, description)
    VALUES ('delete', old.id, old.login, old.game_id, old.description);
END;
CREATE TRIGGER actions_text_update AFTER UPDATE OF login, game_id, description ON actions BEGIN
    INSERT INTO actions_text (actions_text, rowid, login, game_id, description)
    VALUES ('delete', old.id, old.login, old.game_id, old.description);
    INSERT INTO actions_text (rowid, login, game_id, description)
    VALUES (new.id, new.login, new.game_id, new.description);
END;
"""
_CREATE_TEXT_INDEX = (
    "BEGIN IMMEDIATE;"  # noqa: S608 - a constant, not built from input
    + _TEXT_INDEX
    + "INSERT INTO actions_text (actions_text) VALUES ('rebuild'); COMMIT;"  # fills it from rows
)


_PROJECT_ATTEMPT = (
    "INSERT INTO actions (id, started_at, finished_at, operator, workstation, pid, profile,"
    " api_host, login, game_id, clear_history, reason, batch_id, outcome, error_code,"
    " description, http_status, elapsed_ms, attempts)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PROJECT_ANSWER = (
    "UPDATE actions SET finished_at = ?, outcome = ?, error_code = ?, description = ?,"
    " http_status = ?, elapsed_ms = ?, attempts = ? WHERE id = ?"
)


def project(db: sqlite3.Connection, event: events.Event, body: dict[str, Any]) -> None:
    """Show ``event`` in the ``actions`` view table (one row per action), in the same
    transaction that appends it."""
    closing = [body.get(k) for k in ("error_code", "description", "http_status", "elapsed_ms")]
    if event.kind == events.ATTEMPT:
        outcome: list[object] = [None, Outcome.PENDING.value, None, "", None, None, 0]
    elif event.kind == events.REFUSED:
        outcome = [event.recorded_at, body["outcome"], *closing, body.get("attempts", 0)]
    elif event.kind in events.CLOSING:
        db.execute(
            _PROJECT_ANSWER,
            (event.recorded_at, body["outcome"], *closing, body.get("attempts", 0), event.action),
        )
        return
    else:
        return  # migrated: evidence only
    db.execute(
        _PROJECT_ATTEMPT,
        (
            event.seq,
            event.recorded_at,
            outcome[0],
            body.get("operator", ""),
            body.get("workstation", ""),
            body.get("pid", 0),
            body.get("profile", ""),
            body.get("api_host", ""),
            body.get("login", ""),
            body.get("game_id", ""),
            int(bool(body.get("clear_history"))),
            body.get("reason", ""),
            body.get("batch_id"),
            *outcome[1:],
        ),
    )


def read_head(db: sqlite3.Connection) -> tuple[int, bytes]:
    row = db.execute("SELECT seq, seal FROM events_head WHERE one = 1").fetchone()
    return (int(row[0]), bytes(row[1])) if row else (0, events.GENESIS)


def append(
    db: sqlite3.Connection,
    head: tuple[int, bytes],
    kind: str,
    body: dict[str, Any],
    *,
    action: int | None = None,
    recorded_at: str | None = None,
) -> events.Event:
    """Seal and insert one event after ``head`` and show it (inside a write transaction;
    the caller saves the new head with :func:`save_head`)."""
    at = recorded_at or utc_now()
    event = events.make_event(head[1], head[0] + 1, kind, at, body, action=action)
    db.execute(
        "INSERT INTO events (seq, kind, action, recorded_at, origin, body, seal)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event.seq,
            event.kind,
            event.action,
            event.recorded_at,
            event.origin,
            event.body,
            event.seal,
        ),
    )
    project(db, event, body)
    return event


def save_head(db: sqlite3.Connection, seq: int, seal: bytes) -> None:
    db.execute(
        "INSERT INTO events_head (one, seq, seal) VALUES (1, ?, ?) "
        "ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, seal = excluded.seal",
        (seq, seal),
    )


def closed(db: sqlite3.Connection, attempt: int) -> bool:
    found = db.execute(
        "SELECT 1 FROM events WHERE action = ? AND kind IN ('answer', 'unknown') LIMIT 1",
        (attempt,),
    ).fetchone()
    return found is not None
