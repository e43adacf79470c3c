"""The hash chain of history files from before sealed events (schema 3), kept to seal and
verify such a file before it is converted (``migrate``) and for the auditor
(``actions_v3``). Nothing writes rows this way any more: only what converting needs is here.

As it was:

When a record is finished (answered, refused, or recovered as unknown) it gets the next
sequence number and a *seal*: SHA-256 over the previous seal, its sequence number and every
stored field, in a fixed order. ``chain_head`` keeps the last sequence number and seal.
Then, with plain ``sqlite3`` outside the tool:

* editing any field of a sealed record breaks its seal;
* deleting a record leaves a gap in the sequence (or, for the newest ones, a head that
  points past the end);
* moving records around changes the ids inside their seals;
* inserting a finished record leaves it unsealed.

Sealing happens inside the same transaction that finishes the record, under SQLite's write
lock, so concurrent writers (a batch's workers, a window and a command line on the same
file) extend one chain. The limit, stated plainly: someone who rewrites *every* later seal
and the head is not caught by the file alone; ``history verify`` prints the head seal so
that it can be noted outside (a ticket, an e-mail) and compared later.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence

from support_tool.audit.events import ChainReport, unreadable

GENESIS = "0" * 64
SEALED_FIELDS = (
    "id",
    "started_at",
    "finished_at",
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
    "outcome",
    "error_code",
    "description",
    "http_status",
    "elapsed_ms",
    "attempts",
)
_FIELDS = ", ".join(SEALED_FIELDS)
_CHUNK = 5000
__all__ = ["ChainReport", "unreadable", "verify"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS chain_head (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    seq  INTEGER NOT NULL,
    seal TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS actions_seq ON actions (seq) WHERE seq IS NOT NULL;
CREATE INDEX IF NOT EXISTS actions_unsealed ON actions (id)
    WHERE seq IS NULL AND outcome <> 'pending';
"""


def seal_of(previous: str, seq: int, fields: Sequence[object]) -> str:
    content = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{previous}\n{seq}\n{content}".encode()).hexdigest()


def add_columns(db: sqlite3.Connection) -> None:
    """Give a history file from before the chain its ``seq`` and ``seal`` columns."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(actions)")}
    if "seq" not in columns:
        db.execute("ALTER TABLE actions ADD COLUMN seq INTEGER")
    if "seal" not in columns:
        db.execute("ALTER TABLE actions ADD COLUMN seal TEXT")
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def head(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT seq, seal FROM chain_head WHERE one = 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def _seal(
    db: sqlite3.Connection, rows: list[tuple[object, ...]], start: tuple[int, str]
) -> tuple[int, str]:
    seq, previous = start
    updates = []
    for fields in rows:
        seq += 1
        previous = seal_of(previous, seq, fields)
        updates.append((seq, previous, fields[0]))
    db.executemany("UPDATE actions SET seq = ?, seal = ? WHERE id = ?", updates)
    return seq, previous


def _save_head(db: sqlite3.Connection, seq: int, seal: str) -> None:
    db.execute(
        "INSERT INTO chain_head (one, seq, seal) VALUES (1, ?, ?) "
        "ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, seal = excluded.seal",
        (seq, seal),
    )


def seal_existing(db: sqlite3.Connection) -> int:
    """Seal every finished record of a file written before the chain existed (once, when
    it is first opened by a version with the chain)."""
    position, sealed, after = head(db), 0, 0
    while True:
        rows = db.execute(
            f"SELECT {_FIELDS} FROM actions WHERE seq IS NULL AND outcome <> 'pending' "  # noqa: S608
            "AND id > ? ORDER BY id LIMIT ?",
            (after, _CHUNK),
        ).fetchall()
        if not rows:
            break
        position = _seal(db, rows, position)
        sealed += len(rows)
        after = int(str(rows[-1][0]))
    if sealed:
        _save_head(db, *position)
    return sealed


def verify(db: sqlite3.Connection) -> ChainReport:
    """Check every seal in sequence, the head, and that no finished record is unsealed."""
    expected, previous = 0, GENESIS
    cursor = db.execute(
        f"SELECT seq, seal, {_FIELDS} FROM actions WHERE seq IS NOT NULL ORDER BY seq"  # noqa: S608
    )
    for row in cursor:
        seq, seal, fields = row[0], row[1], row[2:]
        expected += 1
        if seq != expected:
            return ChainReport(
                False,
                expected - 1,
                previous,
                f"sealed record {expected:,} is missing (deleted); the chain jumps from "
                f"{expected - 1:,} to {seq:,} at record #{fields[0]}.",
                int(fields[0]),
            )
        try:
            computed = seal_of(previous, seq, fields)
        except (TypeError, ValueError):  # a BLOB: support-tool never stores one
            return ChainReport(
                False,
                expected - 1,
                previous,
                f"record #{fields[0]} (sealed as {seq:,}) holds a value of a kind support-tool "
                "never stores (raw bytes): it was changed after it was sealed.",
                int(fields[0]),
            )
        if computed != seal:
            return ChainReport(
                False,
                expected - 1,
                previous,
                f"record #{fields[0]} (sealed as {seq:,}) was changed after it was sealed.",
                int(fields[0]),
            )
        previous = seal
    head_seq, head_seal = head(db)
    if (head_seq, head_seal) != (expected, previous):
        return ChainReport(
            False,
            expected,
            previous,
            f"the newest sealed records are missing: the history ends at sealed record "
            f"{expected:,} but {head_seq:,} were sealed.",
        )
    unsealed = db.execute(
        "SELECT id FROM actions WHERE seq IS NULL AND outcome <> 'pending' ORDER BY id LIMIT 1"
    ).fetchone()
    if unsealed:
        return ChainReport(
            False,
            expected,
            previous,
            f"record #{unsealed[0]} is finished but was never sealed: it was written "
            "outside support-tool.",
            int(unsealed[0]),
        )
    return ChainReport(True, expected, previous)
