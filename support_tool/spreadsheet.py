"""Spreadsheet-safe cells: the one rule every CSV the tool writes follows.

A leaf at the package root, so that the audit history's export, the list writer and the
batch results export (layers that must not import one another) share it. Logins, reasons
and provider descriptions come from outside, and a cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is run as a formula by spreadsheet programs; such a cell
gets a leading apostrophe, which spreadsheets hide and scripts can strip.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """``text`` made inert for spreadsheet programs (a leading apostrophe before formulas)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
