"""The audit history: every action, in a SQLite file, never the secret and never the hash.

Rules that make it trustworthy (the format is docs/audit-trail.md, in ``events``):

* the trail is a log of sealed events, never updated or deleted: an *attempt* event is
  sealed and committed before a request leaves (``begin`` must succeed before ``send``),
  and its *answer* is a second sealed event naming it, so there is no unsealed moment;
* WAL journal with ``synchronous=FULL``: a committed event survives a power cut;
* one writer connection per process, serialised by a lock (batch workers share it); seq
  and seal are assigned under SQLite's write lock, so every process extends one chain;
* attempts left without an answer by a process that died get an *unknown* event on the
  next start (appended, never edited);
* ``actions``, the line per action the views page and search (id = its attempt's seq),
  is a view over the events: it cannot say anything the events do not, so nothing keeps
  it in step and verify has nothing to compare. Its indexes, the search index and the
  list of open attempts are derived by SQLite from the events (``writing.derive``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from support_tool.audit import events
from support_tool.audit.bodies import attempt_body, unknown_body
from support_tool.audit.bodies import closing_body as _closing_body
from support_tool.audit.identity import operator_name, process_alive, workstation_name
from support_tool.audit.reading import AuditReads, is_damage
from support_tool.audit.records import COLUMNS, AuditFilter, AuditRecord, utc_now
from support_tool.audit.writing import (
    _ONE_EVENT,
    CATCH_UP_EVERY,
    EVENTS_SCHEMA,
    OPEN_ATTEMPTS,
    catch_up,
    closed,
    derive,
    derived_mark,
    insert_events,
    read_head,
    save_head,
)
from support_tool.config import paths
from support_tool.errors import AuditDamaged, AuditTooNew, AuditUnavailable
from support_tool.provider.outcome import CloseResult

# Re-exported: callers and tests import these from here.
__all__ = [
    "COLUMNS",
    "EVENTS_SCHEMA",
    "SCHEMA_VERSION",
    "AuditFilter",
    "AuditLog",
    "AuditRecord",
    "is_damage",
    "utc_now",
]

# 7: the filter keys caught up in bulk behind the mark too, not expression indexes updated
# in every commit; 6: the search index caught up in bulk behind a mark (``writing.catch_up``),
# not fed by triggers; 5: the views derived from the events; 4: sealed events beside a hand-kept
# view table; 3: sealed rows. Older files are converted once by audit.migrate.
SCHEMA_VERSION = 7
STALE_PENDING_S = 3600  # a pending row older than any deadline is certainly abandoned
# PRAGMA quick_check at every open up to this size (~40 ms here; ~15,000 rows). Larger
# files are checked by verify (every event read, every other table quick_checked), which
# the window runs in the background at start.
QUICK_CHECK_AT_OPEN_BYTES = 8 * 1024 * 1024


@dataclass
class _Write:
    """One event waiting for a group commit, and what became of it. An empty ``kind`` is a
    flush: it writes nothing but waits for everything queued before it."""

    kind: str
    body: dict[str, object] = field(default_factory=dict)
    action: int | None = None  # closing events: the attempt they answer
    only_if_open: bool = False  # recovery: skip if another process closed it meanwhile
    done: bool = False
    row_id: int = 0
    error: sqlite3.Error | None = None


class AuditLog(AuditReads):
    """Open (creating if needed) the history at ``path``; recover abandoned attempts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # the writer: one transaction at a time
        self._queue_lock = threading.Lock()
        self._queue: list[_Write] = []
        self._deferred_error: sqlite3.Error | None = None
        self._mark = 0  # how far the filter keys and search index reach (writing.catch_up)
        self._head = 0  # the newest event this store committed after
        self._readers = threading.local()
        self._damaged: AuditDamaged | None = None
        self.operator = operator_name()
        self.workstation = workstation_name()
        self.pid = os.getpid()
        try:
            paths.private_file(path)  # 0600 before SQLite creates it (its -wal/-shm follow)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise self._unopenable(exc) from exc
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        """Refuse a newer or damaged file before anything is written to it; then bring the
        schema up to date (converting an older file once) and recover abandoned attempts."""
        from support_tool.audit import migrate

        try:
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._refuse_newer(int(self._db.execute("PRAGMA user_version").fetchone()[0]))
            self._check_at_open()
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            for companion in ("-wal", "-shm"):
                paths.narrow(self.path.with_name(self.path.name + companion))
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
                self._refuse_newer(version)  # another process may have upgraded it meanwhile
                if version < SCHEMA_VERSION:
                    problem = migrate.older_file(self._db, version)
                    if problem:
                        raise self._unconvertible(problem)
                for statement in EVENTS_SCHEMA:
                    self._db.execute(statement)
                if version < SCHEMA_VERSION:
                    migrate.convert(self._db)
                self.text_index = derive(self._db)
                # the head is known from the first commit on (opening does not read it)
                self._mark = self._head = derived_mark(self._db)
                if version < SCHEMA_VERSION:
                    self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._recover()
        except sqlite3.Error as exc:
            raise self._unopenable(exc) from exc

    def _unconvertible(self, problem: str) -> AuditDamaged:
        """An older file whose own chain is broken is never converted (that would seal the
        forgery): nothing is written to it, and it is kept for the auditor."""
        self._damaged = AuditDamaged(
            f"The audit history at {self.path} was altered outside support-tool before this "
            f"version could convert it: {problem} It was left unchanged and nothing was "
            "sent. Keep the file for the auditor (do not edit or delete it) and tell your "
            f"supervisor; to go on working, move {self.path.name} to another folder."
        )
        return self._damaged

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise AuditTooNew(
                f"The audit history at {self.path} was written by a newer version of "
                f"support-tool (history format {version}; this version knows formats up to "
                f"{SCHEMA_VERSION}). It was left unchanged and nothing was sent. Use the newer "
                "support-tool, or move the file aside (keep it) to start a new history."
            )

    def _check_at_open(self) -> None:
        """Find damage before the first write. ``PRAGMA quick_check`` reads every page, so
        it runs at open only while the file is small enough to cost a few milliseconds
        (QUICK_CHECK_AT_OPEN_BYTES); a larger file gets a cheap check of the pages every
        write touches (the schema, the first and newest rows), and ``verify`` checks the rest
        (the window runs it in the background after start). Any statement that
        meets damage later marks the store damaged too (``_fail``)."""
        page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
        pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
        if pages * page_size <= QUICK_CHECK_AT_OPEN_BYTES:
            problems = self.integrity_problems()
            if problems:
                raise self._mark_damaged(problems[0])
            return
        self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
            self._db.execute("SELECT MIN(seq) FROM events").fetchone()  # one each: O(log n)
            self._db.execute("SELECT * FROM events ORDER BY seq DESC LIMIT 1").fetchone()

    def integrity_problems(self, limit: int = 5) -> list[str]:
        """What ``PRAGMA quick_check`` finds wrong with the file (empty when intact)."""
        rows = self._db.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
        found = [str(row[0]) for row in rows]
        return [] if found == ["ok"] else found

    def _unopenable(self, exc: sqlite3.Error | OSError) -> AuditUnavailable:
        if isinstance(exc, sqlite3.Error) and is_damage(exc):
            return self._mark_damaged(str(exc))
        return AuditUnavailable(
            f"The audit history at {self.path} cannot be opened ({exc}). Nothing can be sent "
            "until it can, because every action must be recorded. Check the disk and "
            "the folder's permissions."
        )

    def _mark_damaged(self, problem: str) -> AuditDamaged:
        """From now on this store refuses every write: a damaged file is never added to."""
        if self._damaged is None:
            name = self.path.name
            self._damaged = AuditDamaged(
                f"The audit history at {self.path} is damaged (SQLite reports: {problem}). "
                "Nothing was sent, and nothing more will be written to it. To recover: quit "
                f"support-tool, move {name} (with {name}-wal and {name}-shm if present) to "
                "another folder and keep them for the auditor; support-tool then starts a "
                "new, empty history."
            )
        return self._damaged

    @property
    def damaged(self) -> AuditDamaged | None:
        return self._damaged

    @property
    def where(self) -> str:
        return f"the audit history at {self.path}"

    def problem(self) -> str | None:
        """Why an attempt cannot be recorded now: the file is damaged (nothing more is
        written to it) or its folder cannot be written."""
        if self._damaged is not None:
            return str(self._damaged)
        if not os.access(self.path.parent, os.W_OK):
            return f"The audit history at {self.path} cannot be written (its folder is read-only)."
        return None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _recover(self) -> None:
        """Append an *unknown* event for each attempt whose process died (or that is older
        than any deadline) before its answer was recorded. The candidates come from the
        derived list of open attempts and the attempts after its mark, but what is decided
        and sealed comes from the sealed attempt itself, so a number planted there is never
        sealed as someone's action."""
        here = workstation_name()
        pending = self._db.execute(OPEN_ATTEMPTS, (self._mark,)).fetchall()
        now = datetime.now(UTC)
        abandoned = []
        for (row_id,) in pending:
            found = self._db.execute(
                "SELECT kind, recorded_at, body FROM events WHERE seq = ?", (row_id,)
            ).fetchone()
            if found is None or found[0] != events.ATTEMPT or not self._sealed(row_id):
                continue  # not a sealed attempt: left for verify to report, never sealed over
            body = events.Event(row_id, found[0], row_id, found[1], "", found[2], b"").fields()
            started = datetime.fromisoformat(str(found[1]).replace("Z", "+00:00"))
            too_old = (now - started).total_seconds() > STALE_PENDING_S
            pid = body.get("pid")
            dead = (
                body.get("workstation") == here
                and isinstance(pid, int)
                and pid != os.getpid()
                and not process_alive(pid)
            )
            if too_old or dead:
                abandoned.append(row_id)
        if abandoned:
            body = unknown_body()
            group = [_Write(events.UNKNOWN, body, a, only_if_open=True) for a in abandoned]
            with self._lock:
                self._commit(group)
            failed = next((w.error for w in group if w.error), None)
            if failed is not None:
                raise failed

    def _sealed(self, seq: int) -> bool:
        """Whether event ``seq`` still matches its seal (one event, from the stored seal
        before it): recovery closes only attempts the tool itself sealed."""
        db = self._db
        db.text_factory = bytes
        try:
            row = db.execute(_ONE_EVENT, (seq,)).fetchone()
            before = db.execute("SELECT seal FROM events WHERE seq = ?", (seq - 1,)).fetchone()
        finally:
            db.text_factory = str
        previous = events.GENESIS if seq == 1 else (before[0] if before else None)
        if row is None or not isinstance(previous, bytes) or not isinstance(row[1], bytes):
            return False
        return bool(events.seal_after(previous, row[1]) == row[0])

    def _write(self, mine: _Write, *, wait: bool = True) -> int:
        """Commit one event durably; returns the action it belongs to.

        Group commit: events queue up, and whichever thread next holds the writer lock
        commits everything queued in one transaction (one fsync). A lone close pays the
        same as before; eight batch workers share fsyncs instead of queueing for them.
        A caller returns only once its own event is on disk.
        """
        if self._damaged is not None:
            raise self._damaged
        with self._queue_lock:
            self._queue.append(mine)
        if not wait:
            return 0
        with self._lock:
            if not mine.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        failed = mine.error or self._deferred_error
        if failed is not None:
            self._deferred_error = None
            raise self._unwritable(failed) from failed
        return mine.row_id

    def _unwritable(self, exc: sqlite3.Error) -> AuditUnavailable:
        if is_damage(exc):
            return self._mark_damaged(str(exc))
        return AuditUnavailable(
            f"The audit history at {self.path} cannot be written ({exc}). "
            "Check free disk space and permissions."
        )

    def _commit(self, group: list[_Write]) -> None:
        """Seal and append ``group`` in one transaction (holding the writer lock): seq and
        seal follow the head as it is under SQLite's write lock, so concurrent processes
        extend one chain."""
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                head = read_head(self._db)
                at, sealed = utc_now(), []  # one time: the group is recorded in one commit
                for write in group:
                    answered = write.only_if_open and closed(self._db, write.action or 0)
                    if not write.kind or answered:
                        continue
                    event = events.make_event(
                        head[1], head[0] + 1, write.kind, at, write.body, action=write.action
                    )
                    sealed.append(event)
                    head = (event.seq, event.seal)
                    write.row_id = event.action
                insert_events(self._db, sealed)
                save_head(self._db, *head)
            self._head = head[0]
        except sqlite3.Error as exc:
            for write in group:
                write.error = exc
            self._deferred_error = exc  # a queued answer had no caller to tell: the next will
        finally:
            for write in group:
                write.done = True
        if self._head - self._mark >= CATCH_UP_EVERY:
            self._catch_up()

    def _catch_up(self) -> None:
        """Bring the filter keys and the search index up to the head in a transaction of
        their own, after the events they reflect are committed (holding the writer lock). A
        failure loses nothing: filters read what these lack directly, and the next catch-up
        retries."""
        if self._damaged is not None:
            return
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._mark = catch_up(self._db, text_index=self.text_index)
        except sqlite3.Error as exc:
            if is_damage(exc):
                self._mark_damaged(str(exc))
            self._mark = self._head  # not again at every commit

    def _attempt_body(self, row: dict[str, Any]) -> dict[str, object]:
        return attempt_body(row, operator=self.operator, workstation=self.workstation, pid=self.pid)

    def begin(
        self,
        *,
        profile: str,
        api_host: str,
        login: str,
        game_id: str | None,
        clear_history: bool,
        reason: str = "",
        batch_id: str | None = None,
    ) -> int:
        """Seal and commit the *attempt* before the request is sent; returns the action's
        id (the attempt's seq)."""
        row = {
            "profile": profile,
            "api_host": api_host,
            "login": login,
            "game_id": game_id,
            "clear_history": clear_history,
            "reason": reason,
            "batch_id": batch_id,
        }
        return self._write(_Write(events.ATTEMPT, self._attempt_body(row)))

    def finish(self, row_id: int, result: CloseResult, *, wait: bool = True) -> None:
        """Append the *answer* to attempt ``row_id`` (only the result's safe fields).

        ``wait=False`` (batches) queues the answer to ride with the next commit, usually
        the next row's attempt, instead of paying a durable commit of its own; ``flush()``
        commits whatever is still queued. Until then a crash leaves the attempt without an
        answer, which recovery closes as *unknown*: never a request without an attempt.
        """
        self._write(_Write(events.ANSWER, _closing_body(result), row_id), wait=wait)

    def flush(self) -> None:
        """Commit every queued write now, then catch up the filter keys and search index;
        raises :class:`AuditUnavailable` if the writes fail."""
        with self._queue_lock:
            queued = bool(self._queue)
        if queued:
            self._write(_Write(""))
        with self._lock:
            if self._head > self._mark:
                self._catch_up()

    def record(self, result: CloseResult, **row: Any) -> int:
        """Record an action that ended before sending (invalid input, configuration) as
        one *refused* event; returns its id."""
        return self._write(_Write(events.REFUSED, self._refused_body(result, row)))

    def _refused_body(self, result: CloseResult, row: dict[str, Any]) -> dict[str, object]:
        return {**self._attempt_body(row), **_closing_body(result)}

    def record_many(self, entries: list[tuple[str, CloseResult]], **row: Any) -> None:
        """Record many actions refused before sending (a batch's invalid lines) in one
        transaction: ``entries`` are (login as typed, result); ``row`` the shared fields."""
        if self._damaged is not None:
            raise self._damaged
        group = [
            _Write(events.REFUSED, self._refused_body(result, {**row, "login": login}))
            for login, result in entries
        ]
        with self._lock:
            self._commit(group)
        failed = next((w.error for w in group if w.error), None)
        if failed is not None:
            raise self._unwritable(failed) from failed
