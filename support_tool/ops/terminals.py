"""Lists of terminals to close: parsed from CSV files or pasted text, checked line by line.

Floor managers get these lists from spreadsheets, venue systems and chat messages, so the
reader is forgiving about *form* (byte-order marks, Windows line ends, blank lines, a
header, tabs or semicolons from a spreadsheet paste, trailing columns) and strict about
*content*: every login and game id passes the same checks as a single close, and a line
that fails them is reported with its number and never sent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from support_tool.errors import InvalidInput
from support_tool.provider.validation import clean_game_id, clean_login

MAX_TERMINALS = 100_000
MAX_FILE_BYTES = 64 * 1024 * 1024
_HEADER_LOGIN = {"login", "securelogin", "terminal", "terminals", "player", "user", "username"}
_HEADER_GAME = {"gameid", "game", "game_id", "game id"}
_DELIMITERS = ("\t", ";", ",")
# export.py's spreadsheet guard prefixes these with an apostrophe; undo it on the way in.
_GUARDED = ("'=", "'+", "'-", "'@")


@dataclass(frozen=True)
class Terminal:
    """One login to close, optionally only in one game."""

    login: str
    game_id: str | None = None

    def as_line(self) -> str:
        return f"{self.login},{self.game_id}" if self.game_id else self.login


@dataclass(frozen=True)
class SkippedLine:
    """A line that will not be sent, and why (its number counts from 1, as editors do)."""

    line: int
    text: str
    reason: str


@dataclass
class TerminalList:
    """The outcome of reading a list: what will be sent and what was left out."""

    terminals: list[Terminal] = field(default_factory=list)
    invalid: list[SkippedLine] = field(default_factory=list)
    duplicates: list[SkippedLine] = field(default_factory=list)
    extra_columns: int = 0
    header: bool = False

    def notices(self) -> list[str]:
        """Plain sentences about everything that was changed or left out."""
        said = []
        if self.duplicates:
            said.append(
                f"{len(self.duplicates):,} duplicate line{_s(self.duplicates)} removed "
                f"(first on line {self.duplicates[0].line}: {self.duplicates[0].text})."
            )
        if self.invalid:
            first = self.invalid[0]
            said.append(
                f"{len(self.invalid):,} invalid line{_s(self.invalid)} will not be sent "
                f"(first on line {first.line}: {first.reason})"
            )
        if self.extra_columns:
            said.append(
                f"{self.extra_columns:,} line{'s' if self.extra_columns != 1 else ''} had "
                "more than two columns; only the login and game id were used."
            )
        return said


def _s(items: list[SkippedLine]) -> str:
    return "" if len(items) == 1 else "s"


def _delimiter(lines: list[str]) -> str:
    """Tab for a spreadsheet paste, semicolon for European CSV, else comma."""
    sample = [line for line in lines[:50] if line.strip()]
    for candidate in _DELIMITERS:
        if any(candidate in line for line in sample):
            return candidate
    return ","


def _unguard(cell: str) -> str:
    return cell[1:] if cell.startswith(_GUARDED) else cell


def _is_header(cells: list[str]) -> bool:
    first = cells[0].strip().lower()
    second = cells[1].strip().lower() if len(cells) > 1 else ""
    return first in _HEADER_LOGIN and (not second or second in _HEADER_GAME)


def parse_terminals(text: str, default_game: str | None = None) -> TerminalList:
    """Read ``login[,gameId]`` lines. ``default_game`` applies to lines without a game id.

    Raises :class:`InvalidInput` only when the list as a whole cannot be used (too long);
    problems with single lines are collected in the result instead.
    """
    game_for_all = clean_game_id(default_game)
    lines = text.removeprefix("\ufeff").splitlines()
    delimiter = _delimiter(lines)
    result = TerminalList()
    seen: dict[Terminal, int] = {}
    first_content = True
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [""])
        except csv.Error as exc:
            result.invalid.append(SkippedLine(number, line[:80], f"unreadable line ({exc})"))
            continue
        cells = cells or [""]
        if first_content:
            first_content = False
            if _is_header(cells):
                result.header = True
                continue
        if any(cell.strip() for cell in cells[2:]):
            result.extra_columns += 1
        try:
            login = clean_login(_unguard(cells[0]))
            game = clean_game_id(_unguard(cells[1])) if len(cells) > 1 else None
        except InvalidInput as exc:
            result.invalid.append(SkippedLine(number, line[:80], str(exc)))
            continue
        terminal = Terminal(login, game or game_for_all)
        if terminal in seen:
            result.duplicates.append(
                SkippedLine(number, terminal.as_line(), f"same as line {seen[terminal]}")
            )
            continue
        seen[terminal] = number
        result.terminals.append(terminal)
        if len(result.terminals) > MAX_TERMINALS:
            raise InvalidInput(
                f"The list has more than {MAX_TERMINALS:,} terminals. Split it into smaller "
                "lists and run them one after the other."
            )
    return result


def decode_list(data: bytes, source: str = "the file") -> str:
    """Text of a list file: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode
    text"), or Windows-1252 (Excel's plain "CSV" on Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise InvalidInput(f"{source} is not a text file. Save the list as CSV (UTF-8) and try again.")


def read_terminal_file(path: Path, default_game: str | None = None) -> TerminalList:
    """Read a list file; every problem is an :class:`InvalidInput` with a plain message."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a list file.") from None
    except OSError as exc:
        raise InvalidInput(f"The file {path} cannot be read ({exc.strerror}).") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(
            f"The file {path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; it is "
            "not a list of terminals, or it should be split."
        )
    return parse_terminals(decode_list(data, f"The file {path}"), default_game)


def terminals_csv(terminals: Iterable[Terminal]) -> str:
    """A CSV (``login,gameId`` header) that :func:`parse_terminals` reads back unchanged."""
    from support_tool.audit.export import spreadsheet_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["login", "gameId"])
    for terminal in terminals:
        cells = [terminal.login] + ([terminal.game_id] if terminal.game_id else [])
        writer.writerow([spreadsheet_cell(cell) for cell in cells])
    return out.getvalue()
