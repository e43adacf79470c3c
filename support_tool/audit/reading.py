"""Reading the audit history: fetching, searching and paging rows, and verifying the trail.

Split from ``log``: readers open their own read-only connections (WAL lets them run beside
the writer), so this half needs nothing of the writer but its lock and its damage flag.
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support_tool.audit import check, events
from support_tool.audit.events import ChainReport
from support_tool.audit.records import (
    _FIELDS,
    _SELECT,
    OWN,
    AuditFilter,
    AuditRecord,
    Source,
    _record,
)
from support_tool.errors import AuditDamaged, AuditUnavailable

_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def is_damage(exc: sqlite3.Error) -> bool:
    """True when SQLite says the file itself is damaged (not busy, full or read-only)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _DAMAGE_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


class AuditReads:
    """The read side of :class:`support_tool.audit.log.AuditLog`, which sets these up."""

    path: Path
    text_index: bool
    _lock: threading.Lock
    _db: sqlite3.Connection
    _readers: threading.local

    def _mark_damaged(self, problem: str) -> AuditDamaged:
        """The store decides what damage means for writing (AuditLog overrides this)."""
        raise NotImplementedError

    def get(self, row_id: int) -> AuditRecord | None:
        with self._lock:
            row = self._db.execute(f"{_SELECT} WHERE id = ?", (row_id,)).fetchone()
        return _record(row) if row else None

    def _reader(self) -> sqlite3.Connection:
        """A read-only connection per thread: WAL lets readers run beside the writer."""
        reader: sqlite3.Connection | None = getattr(self._readers, "db", None)
        if reader is None:
            reader = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            self._readers.db = reader
        return reader

    def query(
        self,
        *,
        login: str | None = None,
        profile: str | None = None,
        outcome: str | None = None,
        batch_id: str | None = None,
        text: str = "",
        limit: int | None = None,
    ) -> Iterator[AuditRecord]:
        """Rows newest first; streamed, never loaded all at once."""
        flt = AuditFilter(text, login, profile, outcome, batch_id)
        with self._reading():
            reader = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                with _snapshot(reader):
                    parts = [
                        reader.execute(*_ordered(part, limit=limit))
                        for part in flt.sources(self._mark_of(reader), self.text_index)
                    ]
                    merged = heapq.merge(*parts, key=_newest_first)
                    try:
                        for row in itertools.islice(merged, limit if limit and limit > 0 else None):
                            yield _record(row)
                    finally:
                        merged.close()
            finally:
                reader.close()

    @staticmethod
    def _mark_of(reader: sqlite3.Connection) -> int:
        """How far the filter keys and the search index reach (``writing.catch_up``)."""
        found = reader.execute("SELECT seq FROM derived_mark WHERE one = 1").fetchone()
        return int(found[0]) if found else 0

    def _lines(
        self, flt: AuditFilter, limit: int, after: str, bound: list[object]
    ) -> list[AuditRecord]:
        """Up to ``limit`` lines matching ``flt`` and the extra condition on the id column
        (``after``, with ``bound``), newest first: each part of the filter in one snapshot."""
        reader = self._reader()
        with self._reading(), _snapshot(reader):
            rows = [
                row
                for part in flt.sources(self._mark_of(reader), self.text_index)
                for row in reader.execute(*_ordered(part, after, bound, limit))
            ]
        rows.sort(key=_newest_first)
        return [_record(r) for r in rows[:limit]]

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn SQLite's errors while reading into the tool's: damage marks the store damaged
        (so nothing more is written to it), anything else is an unreadable history."""
        try:
            yield
        except sqlite3.Error as exc:
            if is_damage(exc):
                raise self._mark_damaged(str(exc)) from exc
            raise AuditUnavailable(
                f"The audit history at {self.path} cannot be read ({exc})."
            ) from exc

    def page(
        self, flt: AuditFilter, before_id: int | None = None, limit: int = 256
    ) -> list[AuditRecord]:
        """Up to ``limit`` rows older than ``before_id``, newest first (keyset pagination:
        each page costs the same however deep the view has scrolled)."""
        if before_id is None:
            return self._lines(flt, limit, "", [])
        return self._lines(flt, limit, "< ?", [before_id])

    def newer(self, flt: AuditFilter, after_id: int, limit: int = 256) -> list[AuditRecord]:
        """Finished rows newer than ``after_id`` matching ``flt``, newest first."""
        return self._lines(flt, limit, "> ?", [after_id])

    def verify(self) -> ChainReport:
        """Check the file's pages and every event (``check``), in a read-only pass. A file
        SQLite cannot read, or reads as damaged, fails like an altered one: an audit
        history that cannot be checked is not intact."""
        try:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            reader = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            return events.unreadable(f"the file cannot be opened ({exc}).")
        try:
            return check.verify(reader, uri)
        except check.Damaged as exc:
            return self._damage_report(str(exc))
        except sqlite3.Error as exc:
            if is_damage(exc):
                return self._damage_report(str(exc))
            return events.unreadable(f"it cannot be read as support-tool's own history ({exc}).")
        finally:
            reader.close()

    def _damage_report(self, problem: str) -> ChainReport:
        """Verification of a damaged file: it fails, and says how to go on working."""
        self._mark_damaged(problem)
        name = self.path.name
        return events.unreadable(
            f"SQLite reports the file damaged ({problem}), so nothing more will be written to "
            f"it. To go on working: quit support-tool and move {name} (with {name}-wal and "
            f"{name}-shm if present) from {self.path.parent} to another folder."
        )

    def verify_anchor(self, anchor: events.Anchor) -> ChainReport:
        """Verify every event, then prove the trail still holds ``anchor``'s state: its
        event still exists with that time and seal (so nothing up to it was rewritten)."""
        report = self.verify()
        if not report.ok:
            return report
        with self._reading():
            reader = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                problem = check.anchor_problem(reader, anchor)
            finally:
                reader.close()
        if not problem:
            return report
        return ChainReport(False, report.checked, report.head_seal, problem, anchor.events)

    def anchor(self) -> str:
        """The anchor line of the trail as it is now, after verifying it ("" if it does
        not verify or is empty): a state to keep outside the file."""
        return self.verify().anchor()

    def count(self) -> int:
        with self._lock:
            found = self._db.execute(f"SELECT COUNT(*) FROM events e WHERE {OWN}").fetchone()  # noqa: S608
            return int(found[0])


def _ordered(
    part: Source, after: str = "", bound: list[object] | None = None, limit: int | None = None
) -> tuple[str, list[object]]:
    """The statement reading one part of a filter newest first, and its parameters."""
    source, where, params, key = part
    params = [*params, *(bound or [])]
    if after:
        where += f" AND {key} {after}"
    sql = f"SELECT {_FIELDS} FROM {source} WHERE {where} ORDER BY {key} DESC"  # noqa: S608
    if limit is not None and limit > 0:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def _newest_first(row: tuple[object, ...]) -> int:
    seq = row[0]
    return -seq if isinstance(seq, int) else 0


@contextmanager
def _snapshot(reader: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: the parts of a search see the same events and the same mark."""
    reader.execute("BEGIN")
    try:
        yield
    finally:
        reader.execute("COMMIT")
