"""Writing the evidence: the schema, what is derived from it, and sealing and appending
one event.

Split from ``log`` because converting an older file (``migrate``) appends events the same
way the store does, inside its own transaction, without an open store.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from support_tool.audit import check, events
from support_tool.audit.records import VIEW, attempt_field, body_field, utc_now

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
_OWN_KINDS = "kind IN ('attempt', 'refused')"
# What the views read, all derived from the events and rebuilt from them (``derive``):
# nothing here is evidence, and nothing here is written by anything but SQLite itself.
# The indexes are on exactly the expressions ``records.ROW`` and ``AuditFilter`` use.
DERIVED_SCHEMA = (
    # an attempt's closing event; covering (action, kind), so verify reads only the index
    "CREATE INDEX IF NOT EXISTS events_closing ON events (action, kind)"
    " WHERE kind IN ('answer', 'unknown')",
    "CREATE INDEX IF NOT EXISTS events_attempts ON events (kind) WHERE kind = 'attempt'",
    *(
        f"CREATE INDEX IF NOT EXISTS events_{key} ON events ({attempt_field(key, '')})"
        f" WHERE {_OWN_KINDS}"
        for key in ("login", "profile", "operator", "workstation", "batch_id")
    ),
    f"CREATE INDEX IF NOT EXISTS events_outcome ON events ({body_field('outcome', 'body')},"
    " action) WHERE kind IN ('answer', 'unknown', 'refused')",
    f"CREATE VIEW IF NOT EXISTS actions AS {VIEW}",
    # Attempts still without a closing event: recovery and the "in progress" filter read
    # these few instead of every attempt (each candidate is checked against the events).
    "CREATE TABLE IF NOT EXISTS actions_open (seq INTEGER PRIMARY KEY)",
    "CREATE TRIGGER IF NOT EXISTS actions_open_attempt AFTER INSERT ON events"
    " WHEN new.kind = 'attempt' BEGIN INSERT OR IGNORE INTO actions_open VALUES (new.seq); END",
    "CREATE TRIGGER IF NOT EXISTS actions_open_closed AFTER INSERT ON events"
    " WHEN new.kind IN ('answer', 'unknown')"
    " BEGIN DELETE FROM actions_open WHERE seq = new.action; END",
)
_FILL_OPEN = (
    "INSERT OR IGNORE INTO actions_open SELECT e.seq FROM events e WHERE e.kind = 'attempt'"
    " AND NOT EXISTS (SELECT 1 FROM events c WHERE c.action = e.seq"
    " AND c.kind IN ('answer', 'unknown'))"
)
# A trigram index over the searched text turns "contains ..." from a scan of every line
# into an index lookup (a million lines: ~400 ms -> a few ms). Fed by triggers on events;
# where SQLite lacks FTS5 or its trigram tokenizer, searching falls back to LIKE.
_DOC = f"{attempt_field('login', 'a.')}, {attempt_field('game_id', 'a.')}"
TEXT_INDEX = (
    "CREATE VIRTUAL TABLE actions_text USING fts5(login, game_id, description,"
    " content='actions', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER actions_text_own AFTER INSERT ON events"  # noqa: S608 - constants
    " WHEN new.kind IN ('attempt', 'refused') BEGIN"
    " INSERT INTO actions_text (rowid, login, game_id, description) SELECT a.seq, "
    + _DOC
    + f", coalesce(iif(a.kind = 'refused', {attempt_field('description', 'a.')}, ''), '')"
    " FROM events a WHERE a.seq = new.seq; END",
    # The line's description arrives with its answer: replace the attempt's document.
    "CREATE TRIGGER actions_text_closing AFTER INSERT ON events"  # noqa: S608
    " WHEN new.kind IN ('answer', 'unknown') BEGIN"
    " INSERT INTO actions_text (actions_text, rowid, login, game_id, description)"
    " SELECT 'delete', a.seq, " + _DOC + ", '' FROM events a"
    " WHERE a.seq = new.action AND a.kind = 'attempt';"
    " INSERT INTO actions_text (rowid, login, game_id, description) SELECT a.seq, "
    + _DOC
    + f", coalesce({attempt_field('description', 'new.')}, '') FROM events a"
    " WHERE a.seq = new.action AND a.kind = 'attempt'; END",
)
# What schema 4 kept by hand (a table written beside the events, and its search index).
V4_DROPS = (
    "DROP TRIGGER IF EXISTS actions_text_insert",
    "DROP TRIGGER IF EXISTS actions_text_delete",
    "DROP TRIGGER IF EXISTS actions_text_update",
    "DROP TABLE IF EXISTS actions_text",
    "DROP TABLE IF EXISTS actions",
    "DROP INDEX IF EXISTS events_closing",
)
_ONE_EVENT = f"SELECT seal, {check.TAIL} FROM events WHERE seq = ?"  # noqa: S608 - constants


def has(db: sqlite3.Connection, name: str) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return found is not None


def derive(db: sqlite3.Connection) -> bool:
    """Create what the views read from the events (inside the opening transaction) and,
    for a file that had none, fill it from the events already there. Returns whether the
    search index exists (False where this SQLite has no FTS5 or no trigram tokenizer)."""
    fresh = not has(db, "actions_open")
    for statement in DERIVED_SCHEMA:
        db.execute(statement)
    if fresh:
        db.execute(_FILL_OPEN)
    if has(db, "actions_text"):
        return True
    try:
        for statement in TEXT_INDEX:
            db.execute(statement)
    except sqlite3.OperationalError:
        for name in ("actions_text_own", "actions_text_closing"):
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute("DROP TABLE IF EXISTS actions_text")
        return False  # no FTS5 or no trigram tokenizer in this SQLite: LIKE it is
    db.execute("INSERT INTO actions_text (actions_text) VALUES ('rebuild')")  # from the view
    return True


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
    """Seal and insert one event after ``head`` (inside a write transaction; the caller
    saves the new head with :func:`save_head`). The views follow by themselves."""
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
