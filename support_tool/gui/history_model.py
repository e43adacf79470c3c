"""The audit history as a lazily fetched table model.

Rows are fetched a page at a time, on a worker thread, only as the view scrolls, so a
history of a million rows opens as fast as an empty one. Filtering is done by SQLite
(``AuditFilter``), not by a proxy over fetched rows: a proxy could only see the pages
already loaded and would silently hide older matches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    Qt,
    Signal,
)

from support_tool.audit.records import AuditFilter, AuditRecord
from support_tool.audit.store import AuditStore
from support_tool.gui.column_model import ColumnModel, Index, column_of
from support_tool.gui.jobs import Jobs
from support_tool.gui.style import outcome_colour
from support_tool.ops.batch_summary import colour_outcome, outcome_shown

PAGE_SIZE = 256


def local_time(iso_utc: str | None) -> str:
    """Stored UTC time shown in the operator's local time zone."""
    if not iso_utc:
        return ""
    try:
        moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return iso_utc
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _elapsed(record: AuditRecord) -> str:
    return "" if record.elapsed_ms is None else f"{record.elapsed_ms:,} ms"


COLUMNS: list[tuple[str, Any]] = [
    ("Time", lambda r: local_time(r.started_at)),
    ("Operator", lambda r: r.operator),
    ("Workstation", lambda r: r.workstation),
    ("Profile", lambda r: r.profile),
    ("Login", lambda r: r.login),
    ("Game", lambda r: r.game_id or "all games"),
    ("Clear history", lambda r: "yes" if r.clear_history else "no"),
    ("Outcome", lambda r: outcome_shown(r.outcome, r.error_code, r.clear_history)),
    ("Code", lambda r: "" if r.error_code is None else str(r.error_code)),
    ("Description", lambda r: r.description),
    ("Reason", lambda r: r.reason),
    ("Elapsed", _elapsed),
    ("Batch", lambda r: r.batch_id or ""),
]
OUTCOME_COLUMN = column_of(COLUMNS, "Outcome")


class HistoryModel(ColumnModel):
    """Newest first; ``set_filter`` re-queries; ``refresh`` prepends rows recorded since."""

    columns = COLUMNS

    loaded = Signal()  # a page (or a refresh) arrived: views may update counts
    load_failed = Signal(str)

    def __init__(self, store: AuditStore, jobs: Jobs, parent: Any = None) -> None:
        super().__init__(parent)
        self._store = store
        self._jobs = jobs
        self._rows: list[AuditRecord] = []
        self._filter = AuditFilter()
        self._exhausted = False
        self._loading = False
        self._generation = 0  # answers from an older filter are dropped

    # --- Qt model interface -------------------------------------------------------------

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return COLUMNS[index.column()][1](record)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == OUTCOME_COLUMN:
            return outcome_colour(
                colour_outcome(record.outcome, record.error_code, record.clear_history)
            )
        if role == Qt.ItemDataRole.UserRole:
            return record
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._load_page()

    # --- loading --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._loading

    @property
    def current_filter(self) -> AuditFilter:
        return self._filter

    def record(self, row: int) -> AuditRecord:
        return self._rows[row]

    def set_filter(self, flt: AuditFilter) -> None:
        self._generation += 1
        self.beginResetModel()
        self._filter = flt
        self._rows = []
        self._exhausted = False
        self._loading = False
        self.endResetModel()  # a view (or model tester) may call fetchMore() from here
        self._load_page()

    def _load_page(self) -> None:
        if self._loading:
            return  # one page at a time, or two would append the same rows
        self._loading = True
        generation, flt = self._generation, self._filter
        before = self._rows[-1].id if self._rows else None
        self._jobs.submit(
            lambda: self._store.page(flt, before, PAGE_SIZE),
            lambda records: self._page_arrived(generation, before, records),
            lambda error: self._failed(generation, error),
        )

    def _page_arrived(
        self, generation: int, before: int | None, records: list[AuditRecord]
    ) -> None:
        if generation != self._generation:
            return
        self._loading = False
        if before != (self._rows[-1].id if self._rows else None):
            self._load_page()  # the rows changed meanwhile: this page no longer follows on
            return
        self._exhausted = len(records) < PAGE_SIZE
        if records:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(records) - 1)
            self._rows.extend(records)
            self.endInsertRows()
        self.loaded.emit()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation == self._generation:
            self._loading = False
            self._exhausted = True
            self.load_failed.emit(f"The history could not be read: {error}")

    def refresh(self) -> None:
        """Prepend rows recorded since the newest shown (after an action completes)."""
        if self._loading and not self._rows:
            return  # the first page, still on its way, will include them
        generation, flt = self._generation, self._filter
        newest = self._rows[0].id if self._rows else 0
        self._jobs.submit(
            lambda: self._store.newer(flt, newest, PAGE_SIZE),
            lambda records: self._newer_arrived(generation, newest, records),
            lambda error: self._failed(generation, error),
        )

    def _newer_arrived(self, generation: int, newest: int, records: list[AuditRecord]) -> None:
        if generation != self._generation:
            return
        current_newest = self._rows[0].id if self._rows else 0
        fresh = [r for r in records if r.id > current_newest and r.outcome != "pending"]
        if not fresh:
            return
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows[0:0] = fresh
        self.endInsertRows()
        self.loaded.emit()
