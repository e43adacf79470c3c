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
# into an index lookup (a million lines: ~400 ms -> a few ms). It is not fed per event:
# SQLite's FTS5 writes a segment per transaction, which cost a batch row 0.15-0.25 ms of
# CPU (a third of the tool's own). ``catch_up_text`` indexes every line up to the head in
# one statement (at open, every TEXT_INDEX_EVERY events and when a batch ends) and moves
# the mark; a search reads the index up to the mark and the few events after it directly
# (``records.AuditFilter``), so nothing is ever missing from a search meanwhile. Where
# SQLite lacks FTS5 or its trigram tokenizer, searching falls back to LIKE.
TEXT_INDEX = (
    "CREATE VIRTUAL TABLE actions_text USING fts5(login, game_id, description,"
    " content='actions', content_rowid='id', tokenize='trigram')",
    # the last event whose line the index reflects (derived, like the index itself)
    "CREATE TABLE IF NOT EXISTS actions_text_mark ("
    " one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL)",
)
TEXT_INDEX_EVERY = 1024  # events: a search then reads at most this many directly
# Schema 5 fed the index with triggers on every event, so its index is complete to the head.
V5_TEXT_TRIGGERS = ("actions_text_own", "actions_text_closing")
# Lines already indexed whose answer came after the mark: indexed without a description.
_ANSWERED_LATE = (
    "SELECT action FROM events NOT INDEXED WHERE seq > :mark AND kind IN ('answer', 'unknown')"
    " AND action <= :mark"
)
_CATCH_UP = (
    # remove each such line's document as it was indexed (no description yet) ...
    "INSERT INTO actions_text (actions_text, rowid, login, game_id, description)"  # noqa: S608
    f" SELECT 'delete', id, login, game_id, '' FROM actions WHERE id IN ({_ANSWERED_LATE})",
    # ... and index it again, as it reads now
    "INSERT INTO actions_text (rowid, login, game_id, description)"  # noqa: S608
    f" SELECT id, login, game_id, description FROM actions WHERE id IN ({_ANSWERED_LATE})",
    "INSERT INTO actions_text (rowid, login, game_id, description)"
    " SELECT id, login, game_id, description FROM actions WHERE id > :mark",
    "UPDATE actions_text_mark SET seq = :head",
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
    search index exists (False where this SQLite has no FTS5 or no trigram tokenizer).
    The events after the index's mark are left for the writer (``catch_up_text``): opening
    reads no more of a large file than it did."""
    fresh = not has(db, "actions_open")
    for statement in DERIVED_SCHEMA:
        db.execute(statement)
    if fresh:
        db.execute(_FILL_OPEN)
    if has(db, "actions_text"):
        if not has(db, "actions_text_mark"):  # schema 5: its triggers kept it complete
            for name in V5_TEXT_TRIGGERS:
                db.execute(f"DROP TRIGGER IF EXISTS {name}")
            db.execute(TEXT_INDEX[1])
            db.execute("INSERT INTO actions_text_mark VALUES (1, ?)", (read_head(db)[0],))
        return True
    try:
        for statement in TEXT_INDEX:
            db.execute(statement)
    except sqlite3.OperationalError:
        db.execute("DROP TABLE IF EXISTS actions_text")
        return False  # no FTS5 or no trigram tokenizer in this SQLite: LIKE it is
    db.execute("INSERT INTO actions_text (actions_text) VALUES ('rebuild')")  # from the view
    db.execute("INSERT OR REPLACE INTO actions_text_mark VALUES (1, ?)", (read_head(db)[0],))
    return True


def text_mark(db: sqlite3.Connection) -> int:
    """The last event whose line the search index reflects."""
    found = db.execute("SELECT seq FROM actions_text_mark WHERE one = 1").fetchone()
    return int(found[0]) if found else 0


def catch_up_text(db: sqlite3.Connection) -> int:
    """Index every line the events after the mark added or answered, in one pass (inside a
    write transaction); returns the new mark (the head)."""
    found = db.execute("SELECT seq FROM actions_text_mark WHERE one = 1").fetchone()
    mark, head = (int(found[0]) if found else 0), read_head(db)[0]
    if found is None:
        db.execute("INSERT INTO actions_text_mark VALUES (1, ?)", (mark,))
    if head != mark:
        for statement in _CATCH_UP:
            db.execute(statement, {"mark": mark, "head": head})
    return head


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
