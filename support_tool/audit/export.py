"""CSV export of history rows, shared by ``support-tool history --csv`` and the window."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from support_tool.audit.log import COLUMNS, AuditRecord

# A cell starting with one of these is run as a formula by spreadsheet programs; provider
# descriptions and logins come from outside, so exports meant for people neutralise them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """``text`` made inert for spreadsheet programs (a leading apostrophe before formulas)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cell(value: object, spreadsheet_safe: bool) -> str:
    text = "" if value is None else str(value)
    return spreadsheet_cell(text) if spreadsheet_safe else text


def write_history_csv(
    records: Iterable[AuditRecord], out: TextIO, *, spreadsheet_safe: bool = False
) -> int:
    """Write a header and one line per record; returns the number of records written."""
    writer = csv.writer(out, lineterminator="\r\n" if spreadsheet_safe else "\n")
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        writer.writerow([_cell(v, spreadsheet_safe) for v in record.as_dict().values()])
        count += 1
    return count
