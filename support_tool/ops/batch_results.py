"""A batch's results as a spreadsheet-safe CSV: each terminal's latest status, with what a
ticket needs (the reason given, when it was answered, the next step).

Qt-free so the writer is tested directly and runs on a worker thread: the window takes a
snapshot of its rows (:func:`result_lines`) on the GUI thread, where they change, and
hands the snapshot to :func:`write_results_csv`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from support_tool.ops.terminals import Terminal
from support_tool.provider.outcome import CloseResult
from support_tool.spreadsheet import spreadsheet_cell

RESULT_COLUMNS = (
    "login",
    "gameId",
    "outcome",
    "error",
    "description",
    "next_step",
    "reason",
    "finished_at_utc",
    "elapsed_ms",
    "history_id",
    "batch_id",
)
NOT_SENT = "not_sent"
NOT_SENT_NEXT_STEP = "Not sent: use Retry failed."


class ResultRow(Protocol):
    """One row of a batch as the window shows it (``gui.batch_model.BatchRow``)."""

    @property
    def terminal(self) -> Terminal: ...
    @property
    def result(self) -> CloseResult | None: ...
    @property
    def finished_at(self) -> str: ...
    @property
    def history_id(self) -> int | None: ...
    @property
    def batch_id(self) -> str: ...


def result_lines(rows: Iterable[ResultRow], reason: str) -> list[tuple[str, ...]]:
    """The CSV's lines (without the header) for ``rows``, as text: a snapshot that no
    longer changes when the rows do."""
    lines = []
    for r in rows:
        result = r.result
        cells = (
            r.terminal.login,
            r.terminal.game_id or "",
            result.outcome.value if result else NOT_SENT,
            "" if not result or result.error_code is None else result.error_code,
            result.description if result else "",
            result.next_step if result else NOT_SENT_NEXT_STEP,
            reason,
            r.finished_at,
            result.elapsed_ms if result else "",
            r.history_id or "",
            r.batch_id,
        )
        lines.append(tuple(str(cell) for cell in cells))
    return lines


def write_results_csv(path: Path, lines: list[tuple[str, ...]]) -> int:
    """Write a header and ``lines`` to ``path`` (UTF-8 with a byte-order mark, so that
    spreadsheet programs read it as UTF-8; CRLF line ends); returns the number of lines."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(RESULT_COLUMNS)
        for line in lines:
            writer.writerow([spreadsheet_cell(cell) for cell in line])
    return len(lines)
