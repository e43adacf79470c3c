"""Converting an older history file once, inside the opening transaction.

Schema 6 (the filters as expression indexes on ``events``, the search index's mark in its
own table): ``writing.derive`` drops them and fills the filter keys up to that mark.

Schema 5 (its search index fed by triggers): ``writing.derive`` drops the triggers and
keeps the index, complete up to the head.

Schema 4 (sealed events beside a hand-kept ``actions`` table): the events are kept as they
are; the table and its search index, which were only a copy, are dropped, and
``writing.derive`` builds the view and indexes from the events.

Schema 3 (sealed rows in ``actions`` and ``chain_head``), from before sealed events:

The old chain is the evidence of everything before the conversion, so it is verified first:
a broken one is never converted (that would seal the forgery). The old rows are kept, renamed
``actions_v3`` and ``chain_head_v3`` and guarded against changes, so an auditor can still
check the old seals (``seals.verify`` reads them); the first new event, ``migrated``, holds
the old head. Each old row becomes an attempt and its answer (a row still *pending* becomes
an attempt and *unknown*), sealed in the old order, so ids (the attempt's seq) change: the
old id is kept in ``actions_v3``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from support_tool.audit import events
from support_tool.audit import seals as v3
from support_tool.audit.records import _RETRY_ID, utc_now
from support_tool.audit.writing import V4_DROPS, append, has, read_head, save_head

_V3_GUARDS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {table}_kept_{verb.lower()} BEFORE {verb} ON {table}"
    f" BEGIN SELECT RAISE(ABORT, 'kept for the auditor: never changed'); END"
    for table in ("actions_v3", "chain_head_v3")
    for verb in ("UPDATE", "DELETE")
)
_V3_DROPS = (
    "DROP TRIGGER IF EXISTS actions_text_insert",
    "DROP TRIGGER IF EXISTS actions_text_delete",
    "DROP TRIGGER IF EXISTS actions_text_update",
    "DROP TABLE IF EXISTS actions_text",
    "DROP INDEX IF EXISTS actions_login",
    "DROP INDEX IF EXISTS actions_outcome",
    "DROP INDEX IF EXISTS actions_batch",
    "DROP INDEX IF EXISTS actions_seq",
    "DROP INDEX IF EXISTS actions_unsealed",
)
_OLD_COLUMNS = (
    "id, started_at, finished_at, operator, workstation, pid, profile, api_host, login, "
    "game_id, clear_history, reason, batch_id, outcome, error_code, description, "
    "http_status, elapsed_ms, attempts"
)
_CHUNK = 5000


_has = has


def older_file(db: sqlite3.Connection, version: int) -> str:
    """Verify an older file's chain and set its rows aside for :func:`convert` (inside the
    opening transaction). Returns what is wrong with the old chain, or '' (also for a new,
    empty file, and for a file of sealed events, whose hand-kept copy is dropped here)."""
    if _has(db, "events"):
        if version < 5:  # schema 5 derived its views already: writing.derive updates them
            for statement in V4_DROPS:
                db.execute(statement)
        return ""
    if not _has(db, "actions"):
        return ""
    if version < 3:  # rows from before any seal: sealed once, as version 3 did on opening
        v3.add_columns(db)
        v3.seal_existing(db)
    report = v3.verify(db)
    if not report.ok:
        return report.problem
    for statement in _V3_DROPS:
        db.execute(statement)
    db.execute("ALTER TABLE actions RENAME TO actions_v3")
    if not _has(db, "chain_head"):
        db.execute(v3.SCHEMA.split(";")[0].replace("IF NOT EXISTS ", ""))
    db.execute("ALTER TABLE chain_head RENAME TO chain_head_v3")
    for statement in _V3_GUARDS:
        db.execute(statement)
    return ""


def convert(db: sqlite3.Connection) -> int:
    """Append the old rows as events after a ``migrated`` event; returns how many rows."""
    if not _has(db, "actions_v3") or read_head(db)[0]:
        return 0
    count = int(db.execute("SELECT COUNT(*) FROM actions_v3").fetchone()[0])
    event = append(db, read_head(db), events.MIGRATED, _migrated_body(db, count))
    head = (event.seq, event.seal)
    after = 0
    while True:
        rows = db.execute(
            f"SELECT {_OLD_COLUMNS} FROM actions_v3 WHERE id > ? ORDER BY id LIMIT ?",  # noqa: S608
            (after, _CHUNK),
        ).fetchall()
        if not rows:
            break
        for row in rows:
            head = _convert_row(db, head, row)
            after = int(row[0])
    save_head(db, *head)
    return count


def _migrated_body(db: sqlite3.Connection, count: int) -> dict[str, object]:
    """The first new event's body: the old chain's head, which it seals into the new one."""
    old = db.execute("SELECT seq, seal FROM chain_head_v3 WHERE one = 1").fetchone()
    return {
        "from_schema": 3,
        "old_head_count": int(old[0]) if old else 0,
        "old_head_seal": str(old[1]) if old else v3.GENESIS,
        "rows": count,
    }


def _convert_row(
    db: sqlite3.Connection, head: tuple[int, bytes], row: tuple[Any, ...]
) -> tuple[int, bytes]:
    """Append one old row as its attempt and its answer (or *unknown*); returns the head."""
    (_row_id, started, finished, operator, workstation, pid, profile, host, login,
     game, clear, reason, batch, outcome, code, description, status, elapsed,
     attempts) = row  # fmt: skip
    retry = _RETRY_ID.match(batch or "")
    attempt = {
        "operator": operator,
        "workstation": workstation,
        "pid": pid,
        "profile": profile,
        "api_host": host,
        "login": login,
        "game_id": game,
        "clear_history": bool(clear),
        "reason": reason,
        "batch_id": batch,
        "retry_of": retry["parent"] if retry else None,
    }
    event = append(db, head, events.ATTEMPT, attempt, recorded_at=started)
    closing: dict[str, object] = {
        "outcome": outcome,
        "error_code": code,
        "description": description,
        "http_status": status,
        "elapsed_ms": elapsed,
        "attempts": attempts,
    }
    kind = events.ANSWER
    if outcome == "pending":
        kind, closing["outcome"] = events.UNKNOWN, "unknown"
        closing["description"] = (
            "Still in progress when this history was converted; the tool that sent "
            "it had stopped. Check with the provider whether the session was closed."
        )
    event = append(
        db,
        (event.seq, event.seal),
        kind,
        closing,
        action=event.seq,
        recorded_at=finished or utc_now(),
    )
    return (event.seq, event.seal)
