"""The one CSV writer for history rows: ``support-tool history --csv`` and the window's
*Export CSV…* write the same bytes.

Always spreadsheet-safe: logins, reasons and provider descriptions come from outside, and a
cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by spreadsheet programs (``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(…)``). Such a cell gets a
leading apostrophe, which spreadsheets hide and scripts can strip. Lines end in CRLF
(RFC 4180).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from support_tool.audit.log import COLUMNS, AuditRecord
from support_tool.spreadsheet import spreadsheet_cell


def _cell(value: object) -> str:
    return spreadsheet_cell("" if value is None else str(value))


def write_history_csv(records: Iterable[AuditRecord], out: TextIO) -> int:
    """Write a header and one line per record; returns the number of records written.
    ``out`` should be opened with ``newline=""`` (as the csv module asks)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        writer.writerow([_cell(v) for v in record.as_dict().values()])
        count += 1
    return count
