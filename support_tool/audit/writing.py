"""Writing the evidence: the schema, what is derived from it, and sealing and appending
one event.

Split from ``log`` because converting an older file (``migrate``) appends events the same
way the store does, inside its own transaction, without an open store.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from support_tool.audit import check, events
from support_tool.audit.records import VIEW, body_field, utc_now

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
DERIVED_SCHEMA = (
    # an attempt's closing event; covering (action, kind), so verify reads only the index
    "CREATE INDEX IF NOT EXISTS events_closing ON events (action, kind)"
    " WHERE kind IN ('answer', 'unknown')",
    "CREATE INDEX IF NOT EXISTS events_attempts ON events (kind) WHERE kind = 'attempt'",
    f"CREATE VIEW IF NOT EXISTS actions AS {VIEW}",
    # Attempts still without a closing event up to the mark: recovery and the "in
    # progress" filter read these few instead of every attempt (each candidate is checked
    # against the events). Caught up with the keys below (schema 6 kept it by triggers,
    # one more page written in every commit).
    "CREATE TABLE IF NOT EXISTS actions_open (seq INTEGER PRIMARY KEY)",
    # The filter keys: for each line, the value each filter of the window compares (its
    # own event's login, profile, operator, workstation and batch; its closing event's
    # outcome), so a filter starts from the few lines with that value. Schema 6 kept
    # these as expression indexes on ``events``, which SQLite updates inside every commit:
    # six more pages written per close, a quarter of a batch row's CPU. They are caught up
    # in bulk behind the mark instead (``catch_up``), like the search index.
    "CREATE TABLE IF NOT EXISTS action_keys (name TEXT NOT NULL, value NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY (name, value, seq)) WITHOUT ROWID",
    # the last event whose line the filter keys and the search index reflect
    "CREATE TABLE IF NOT EXISTS derived_mark ("
    " one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL)",
)
OWN_KEYS = ("login", "profile", "operator", "workstation", "batch_id")
_KEYS_AFTER = (
    # one parse of each body for all five (json_each), not one json_extract per key
    "INSERT OR IGNORE INTO action_keys (name, value, seq)"  # noqa: S608 - constants
    " SELECT j.key, j.value, e.seq FROM events e,"
    " json_each(iif(json_valid(e.body), e.body, '{}')) j"
    " WHERE e.seq > :mark AND e.seq <= :head AND e.kind IN ('attempt', 'refused')"
    f" AND j.key IN ({', '.join(repr(key) for key in OWN_KEYS)}) AND j.value IS NOT NULL",
    "INSERT OR IGNORE INTO action_keys (name, value, seq)"  # noqa: S608 - constants
    f" SELECT 'outcome', {body_field('outcome', 'body')} AS v, action FROM events"
    " WHERE seq > :mark AND seq <= :head AND kind IN ('answer', 'unknown', 'refused')"
    " AND v IS NOT NULL",
)
CONVERTING_CACHE_KIB = 65536  # filling the keys of a large older file: 30-40 % faster
# The open attempts after the mark, in bulk: those added, then those answered since.
_OPEN_AFTER = (
    "INSERT OR IGNORE INTO actions_open SELECT seq FROM events"
    " WHERE seq > :mark AND seq <= :head AND kind = 'attempt'",
    "DELETE FROM actions_open WHERE seq IN (SELECT action FROM events"
    " WHERE seq > :mark AND seq <= :head AND kind IN ('answer', 'unknown'))",
)
# What schema 6 kept per event instead (``action_keys`` and ``_OPEN_AFTER`` replace them).
V6_DROPS = (
    *(f"DROP INDEX IF EXISTS events_{key}" for key in (*OWN_KEYS, "outcome")),
    "DROP TABLE IF EXISTS actions_text_mark",
    "DROP TRIGGER IF EXISTS actions_open_attempt",
    "DROP TRIGGER IF EXISTS actions_open_closed",
)
# Every attempt still without a closing event: those ``actions_open`` holds (some may have
# been answered after the mark) and those after the mark, on the attempts' index (a few
# hundred at most).
_UNANSWERED = (
    "NOT EXISTS (SELECT 1 FROM events c WHERE c.action = {} AND c.kind IN ('answer', 'unknown'))"
)
OPEN_ATTEMPTS = (
    f"SELECT p.seq FROM actions_open p WHERE {_UNANSWERED.format('p.seq')} UNION"  # noqa: S608
    " SELECT e.seq FROM events e INDEXED BY events_attempts WHERE e.kind = 'attempt'"
    f" AND e.seq > ? AND {_UNANSWERED.format('e.seq')}"
)
_FILL_OPEN = (
    "INSERT OR IGNORE INTO actions_open SELECT e.seq FROM events e WHERE e.kind = 'attempt'"
    " AND NOT EXISTS (SELECT 1 FROM events c WHERE c.action = e.seq"
    " AND c.kind IN ('answer', 'unknown'))"
)
# A trigram index over the searched text turns "contains ..." from a scan of every line
# into an index lookup (a million lines: ~400 ms -> a few ms). It is not fed per event:
# SQLite's FTS5 writes a segment per transaction, which cost a batch row 0.15-0.25 ms of
# CPU (a third of the tool's own). ``catch_up`` indexes every line up to the head in one
# statement (every CATCH_UP_EVERY events and when a batch ends) and moves the mark; a
# search reads the index up to the mark and the few events after it directly
# (``records.AuditFilter.sources``), so nothing is ever missing from a search meanwhile.
# Where SQLite lacks FTS5 or its trigram tokenizer, searching falls back to LIKE.
TEXT_INDEX = (
    "CREATE VIRTUAL TABLE actions_text USING fts5(login, game_id, description,"
    " content='actions', content_rowid='id', tokenize='trigram')"
)
CATCH_UP_EVERY = 1024  # events: a filter then reads at most this many directly
# Schema 5 fed the index with triggers on every event, so its index is complete to the head.
V5_TEXT_TRIGGERS = ("actions_text_own", "actions_text_closing")
# Lines already indexed whose answer came after the mark: indexed without a description.
_ANSWERED_LATE = (
    "SELECT action FROM events NOT INDEXED WHERE seq > :mark AND kind IN ('answer', 'unknown')"
    " AND action <= :mark"
)
_TEXT_AFTER = (
    # remove each such line's document as it was indexed (no description yet) ...
    "INSERT INTO actions_text (actions_text, rowid, login, game_id, description)"  # noqa: S608
    f" SELECT 'delete', id, login, game_id, '' FROM actions WHERE id IN ({_ANSWERED_LATE})",
    # ... and index it again, as it reads now
    "INSERT INTO actions_text (rowid, login, game_id, description)"  # noqa: S608
    f" SELECT id, login, game_id, description FROM actions WHERE id IN ({_ANSWERED_LATE})",
    "INSERT INTO actions_text (rowid, login, game_id, description)"
    " SELECT id, login, game_id, description FROM actions WHERE id > :mark AND id <= :head",
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
    The events after the mark are left for the writer (``catch_up``): opening reads no
    more of a large file than it did."""
    fresh = not has(db, "actions_open")
    first_mark = not has(db, "derived_mark")
    for statement in DERIVED_SCHEMA:
        db.execute(statement)
    if fresh:
        db.execute(_FILL_OPEN)
    if first_mark:
        _start_mark(db)
    if has(db, "actions_text"):
        return True
    try:
        db.execute(TEXT_INDEX)
    except sqlite3.OperationalError:
        return False  # no FTS5 or no trigram tokenizer in this SQLite: LIKE it is
    catch_up(db, text_index=False)  # the keys to the head, where the rebuilt index is
    db.execute("INSERT INTO actions_text (actions_text) VALUES ('rebuild')")  # from the view
    return True


def _start_mark(db: sqlite3.Connection) -> None:
    """A file from before schema 7: the mark starts where its search index reached (schema
    6 kept it in ``actions_text_mark``; schema 5's triggers kept the index complete to the
    head), and the filter keys are filled up to it in one sorted pass."""
    old = (
        db.execute("SELECT seq FROM actions_text_mark").fetchone()
        if has(db, "actions_text_mark")
        else None
    )
    mark = int(old[0]) if old else read_head(db)[0]
    for name in V5_TEXT_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in V6_DROPS:
        db.execute(statement)
    db.execute("INSERT INTO derived_mark VALUES (1, 0)")
    cache = int(db.execute("PRAGMA cache_size").fetchone()[0])
    db.execute(f"PRAGMA cache_size = {-CONVERTING_CACHE_KIB}")
    try:
        _fill_keys(db, 0, mark)
    finally:
        db.execute(f"PRAGMA cache_size = {cache}")


def _fill_keys(db: sqlite3.Connection, mark: int, head: int) -> None:
    for statement in (*_KEYS_AFTER, *_OPEN_AFTER):
        db.execute(statement, {"mark": mark, "head": head})
    db.execute("INSERT OR REPLACE INTO derived_mark VALUES (1, ?)", (head,))  # row may be gone


def derived_mark(db: sqlite3.Connection) -> int:
    """The last event whose line the filter keys and the search index reflect."""
    found = db.execute("SELECT seq FROM derived_mark WHERE one = 1").fetchone()
    return int(found[0]) if found else 0


def catch_up(db: sqlite3.Connection, *, text_index: bool) -> int:
    """Bring the filter keys, the open attempts and the search index (if there is one) up
    to the head in one pass over the events after the mark (inside a write transaction);
    returns the new mark (the head)."""
    mark, head = derived_mark(db), read_head(db)[0]
    if head != mark:
        if text_index or has(db, "actions_text"):  # the file decides: the mark is shared
            for statement in _TEXT_AFTER:
                db.execute(statement, {"mark": mark, "head": head})
        _fill_keys(db, mark, head)
    return head


def read_head(db: sqlite3.Connection) -> tuple[int, bytes]:
    row = db.execute("SELECT seq, seal FROM events_head WHERE one = 1").fetchone()
    return (int(row[0]), bytes(row[1])) if row else (0, events.GENESIS)


_INSERT_EVENT = (
    "INSERT INTO events (seq, kind, action, recorded_at, origin, body, seal)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def insert_events(db: sqlite3.Connection, sealed: list[events.Event]) -> None:
    """Insert events already sealed in order (a group commit's, in one statement)."""
    db.executemany(
        _INSERT_EVENT,
        [(e.seq, e.kind, e.action, e.recorded_at, e.origin, e.body, e.seal) for e in sealed],
    )


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
    insert_events(db, [event])
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
