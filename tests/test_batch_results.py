"""The batch results CSV, written without Qt: what a ticket needs, spreadsheet-safe."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from support_tool.ops.batch_results import RESULT_COLUMNS, result_lines, write_results_csv
from support_tool.ops.terminals import Terminal
from support_tool.provider.outcome import CloseResult, Outcome


@dataclass
class Row:
    terminal: Terminal
    result: CloseResult | None = None
    finished_at: str = ""
    history_id: int | None = None
    batch_id: str = ""


def test_results_csv_holds_each_rows_latest_status_and_is_spreadsheet_safe(
    tmp_path: Path,
) -> None:
    refused = CloseResult(Outcome.REFUSED, "Player not found", "Check the login.", 17, 200, 12)
    rows = [
        Row(
            Terminal("t-1", "vs20"),
            CloseResult(Outcome.SUCCESS, "Success"),
            "2026-11-30T10:00:00Z",
            7,
            "b-1",
        ),
        Row(Terminal("=SUM(A1)"), refused, "2026-11-30T10:00:01Z", 8, "b-1.r1"),
        Row(Terminal("t-3")),
    ]
    lines = result_lines(rows, "-shift end")
    rows[2].result = refused  # a snapshot: later changes to the rows do not reach it
    target = tmp_path / "results.csv"
    assert write_results_csv(target, lines) == 3
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 4
    with target.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.DictReader(handle))
    assert list(read[0]) == list(RESULT_COLUMNS)
    assert [r["outcome"] for r in read] == ["success", "refused", "not_sent"]
    assert read[1]["login"] == "'=SUM(A1)"
    assert read[1]["error"] == "17"
    assert read[0]["reason"] == "'-shift end"
    assert read[2]["next_step"] == "Not sent: use Retry failed."
    assert (read[2]["history_id"], read[2]["elapsed_ms"], read[0]["gameId"]) == ("", "", "vs20")
    assert read[1]["batch_id"] == "b-1.r1"
    assert read[1]["finished_at_utc"].endswith("Z")
