"""The live per-row table of a batch: one row per terminal, updated as results arrive.

Results arrive hundreds per second; each would repaint the table if signalled on its own.
Changes are instead collected and announced as one ``dataChanged`` range per tick, so the
view repaints at most a few times a second however fast the batch runs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor

from support_tool.audit.log import utc_now
from support_tool.gui.column_model import ColumnModel, Index, column_of
from support_tool.gui.style import outcome_colour
from support_tool.ops.batch_summary import RowEvent, RowState, colour_outcome, outcome_shown
from support_tool.ops.terminals import Terminal
from support_tool.provider.outcome import CloseResult, Outcome

FLUSH_MS = 100


class RowProgress(enum.Enum):
    """Where a row of the table stands; the value is only the words the Status column shows
    (code compares members, never the words)."""

    WAITING = "Waiting"
    RETRY_WAITING = "Waiting to retry"
    SENDING = "Sending…"
    RATE_LIMITED = "Rate limited: will retry"
    DONE = "Done"


@dataclass
class BatchRow:
    terminal: Terminal
    state: RowProgress = RowProgress.WAITING
    result: CloseResult | None = None
    history_id: int | None = None
    batch_id: str = ""  # the batch, or the retry, that gave this row its latest status
    finished_at: str = ""  # UTC, as in the history
    clear_history: bool = False  # as sent: 4 (no round) is then done, not a failure


def _status(row: BatchRow) -> str:
    result = row.result
    if result is not None and row.state is RowProgress.DONE:
        return outcome_shown(result.outcome, result.error_code, row.clear_history)
    return row.state.value


COLUMNS: list[tuple[str, Any]] = [
    ("#", None),
    ("Login", lambda r: r.terminal.login),
    ("Game", lambda r: r.terminal.game_id or "all games"),
    ("Status", _status),
    (
        "Code",
        lambda r: "" if not r.result or r.result.error_code is None else str(r.result.error_code),
    ),
    ("Description", lambda r: r.result.description if r.result else ""),
    ("Elapsed", lambda r: f"{r.result.elapsed_ms:,} ms" if r.result else ""),
    ("History", lambda r: "" if r.history_id is None else f"#{r.history_id}"),
]
STATUS_COLUMN = column_of(COLUMNS, "Status")
DESCRIPTION_COLUMN = column_of(COLUMNS, "Description")

_STATES = {
    RowState.SENDING: RowProgress.SENDING,
    RowState.RATE_LIMITED: RowProgress.RATE_LIMITED,
    RowState.DONE: RowProgress.DONE,
}


class BatchModel(ColumnModel):
    columns = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[BatchRow] = []
        self._stale: QColor | None = None  # every cell in this colour: the inputs changed
        self._dirty: tuple[int, int] | None = None
        self._flush = QTimer(self)
        self._flush.setInterval(FLUSH_MS)
        self._flush.setSingleShot(True)
        self._flush.timeout.connect(self.flush)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            getter = COLUMNS[index.column()][1]
            return str(index.row() + 1) if getter is None else getter(row)
        if role == Qt.ItemDataRole.ForegroundRole and self._stale is not None:
            return self._stale
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS_COLUMN:
            result = row.result
            if result is not None and row.state is RowProgress.DONE:
                return outcome_colour(
                    colour_outcome(result.outcome, result.error_code, row.clear_history)
                )
            if row.state is RowProgress.RATE_LIMITED:
                return outcome_colour(Outcome.REFUSED)
        return None

    @property
    def stale(self) -> bool:
        return self._stale is not None

    def set_stale(self, grey: QColor | None) -> None:
        """Grey every cell (``grey``), or show the outcome colours again (None): results
        for a list or profile no longer on screen must not look current."""
        if grey == self._stale:
            return
        self._stale = grey
        if self._rows:
            last = self.index(len(self._rows) - 1, len(COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last, [Qt.ItemDataRole.ForegroundRole])

    def reset(self, terminals: list[Terminal]) -> None:
        self._flush.stop()
        self._dirty = None
        self.beginResetModel()
        self._rows = [BatchRow(t) for t in terminals]
        self.endResetModel()

    def row(self, number: int) -> BatchRow:
        return self._rows[number]

    def rows(self) -> list[BatchRow]:
        return self._rows

    def apply(
        self,
        event: RowEvent,
        batch_id: str = "",
        row_map: Sequence[int] = (),
        clear_history: bool = False,
    ) -> None:
        """Show ``event`` on its row: ``row_map`` maps a retry's rows onto this table's, so
        one table holds each terminal's latest status across a batch and its retries."""
        number = row_map[event.index] if row_map else event.index
        if not 0 <= number < len(self._rows):
            return
        row = self._rows[number]
        row.state = _STATES[event.state]
        if event.closed is not None:
            row.result = event.closed.result
            row.history_id = event.closed.history_id
            row.batch_id = batch_id
            row.finished_at = utc_now()
            row.clear_history = clear_history
        self._mark(number)

    def restart(self, numbers: Sequence[int]) -> None:
        """Rows about to be sent again (a retry) wait again, keeping their last answer
        until a new one comes (a cancelled retry leaves it as the latest); the others keep
        their status."""
        for number in numbers:
            self._rows[number].state = RowProgress.RETRY_WAITING
            self._mark(number)

    def _mark(self, number: int) -> None:
        low, high = self._dirty or (number, number)
        self._dirty = (min(low, number), max(high, number))
        if not self._flush.isActive():
            self._flush.start()

    def flush(self) -> None:
        if self._dirty is None:
            return
        low, high = self._dirty
        self._dirty = None
        self.dataChanged.emit(self.index(low, 0), self.index(high, len(COLUMNS) - 1))
