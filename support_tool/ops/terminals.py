"""Lists of terminals to close: parsed from CSV files or pasted text, checked line by line.

Floor managers get these lists from spreadsheets, venue systems and chat messages, so the
reader is forgiving about *form* (byte-order marks, Windows line ends, blank lines, a
header, a spreadsheet's tabs or a European CSV's semicolons, trailing columns) and strict
about *content*: every login and game id passes the same checks as a single close, and a
line that fails them is reported with its number and never sent.

A list uses one separator, detected from its first lines: comma, semicolon or tab. A line
that holds a *different* one (``player-006;vs10bbbonanza`` in a tab-separated paste) is
refused naming the character, instead of that text being sent as one login.

Lists come from anywhere, including ``yes player-1 | support-tool batch -``, so they are
read as a stream with bounds on bytes, lines, line length and invalid lines, and only one
entry per distinct terminal is kept: a list over a bound is refused early, in constant
memory, with the bound in the message.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from support_tool.errors import InvalidInput
from support_tool.provider.validation import clean_game_id, clean_login
from support_tool.spreadsheet import spreadsheet_cell

MAX_TERMINALS = 100_000
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_LINES = 1_000_000  # ten lines per terminal allowed: blanks, comments, duplicates
MAX_LINE_CHARS = 4096  # a login and a game id are at most 128 characters each
MAX_INVALID_LINES = 1_000  # beyond that it is not a list of terminals
KEPT_EXAMPLES = 20  # duplicate lines kept to show; the rest are only counted
SAMPLE_LINES = 50  # lines looked at to detect the separator
CHUNK_BYTES = 1024 * 1024
_HEADER_LOGIN = {"login", "securelogin", "terminal", "terminals", "player", "user", "username"}
_HEADER_GAME = {"gameid", "game", "game_id", "game id"}
# The separators a list may use, in the order that wins a tie, with how to name them.
SEPARATORS = {"\t": ("tab", "⇥"), ";": ("semicolon", ";"), ",": ("comma", ",")}
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines splits on
# export.py's spreadsheet guard prefixes these with an apostrophe; undo it on the way in.
_GUARDED = ("'=", "'+", "'-", "'@")


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 terminal``, ``2 terminals``, ``1,000 terminals``: counts as people write them."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


@dataclass(frozen=True)
class Terminal:
    """One login to close, optionally only in one game."""

    login: str
    game_id: str | None = None

    def as_line(self) -> str:
        """The line that reads back as this terminal (a comma in a login is quoted)."""
        cells = [self.login] + ([self.game_id] if self.game_id else [])
        return ",".join(_quoted(cell) for cell in cells)


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if "," in cell or cell.startswith('"') else cell


@dataclass(frozen=True)
class SkippedLine:
    """A line that will not be sent, and why (its number counts from 1, as editors do)."""

    line: int
    text: str
    reason: str


@dataclass
class TerminalList:
    """The outcome of reading a list: what will be sent and what was left out.

    ``duplicates`` keeps the first few duplicate lines (to show); ``duplicate_count``
    counts them all, so a list of a million copies of one login costs one entry.
    """

    terminals: list[Terminal] = field(default_factory=list)
    invalid: list[SkippedLine] = field(default_factory=list)
    duplicates: list[SkippedLine] = field(default_factory=list)
    extra_columns: int = 0
    header: bool = False
    duplicate_count: int = 0
    separator: str = ","

    def notices(self) -> list[str]:
        """Plain sentences about everything that was changed or left out."""
        said = []
        duplicates = max(self.duplicate_count, len(self.duplicates))
        if duplicates:
            first = self.duplicates[0]
            said.append(
                f"{plural(duplicates, 'duplicate line')} removed "
                f"(first on line {first.line}: {first.text})."
            )
        if self.invalid:
            first = self.invalid[0]
            said.append(
                f"{plural(len(self.invalid), 'invalid line')} will not be sent "
                f"(first on line {first.line}: {first.reason})"
            )
        if self.extra_columns:
            said.append(
                f"{plural(self.extra_columns, 'line')} had more than two columns; only the "
                "login and game id were used."
            )
        return said


def _too_many(what: str, limit: int) -> InvalidInput:
    return InvalidInput(
        f"The list has more than {limit:,} {what}, the most one list may hold; it is not a "
        "list of terminals, or it should be split into smaller lists run one after the other."
    )


def detect_separator(lines: Iterable[str]) -> str:
    """The separator most of the first lines use (tab, then semicolon, then comma on a
    tie); comma when none has any, which then only matters for a line that holds one."""
    counts = dict.fromkeys(SEPARATORS, 0)
    for line in lines:
        for candidate in SEPARATORS:
            if candidate in line:
                counts[candidate] += 1
    best = max(SEPARATORS, key=lambda s: counts[s])  # max keeps the first of equals
    return best if counts[best] else ","


def _unguard(cell: str) -> str:
    return cell[1:] if cell.startswith(_GUARDED) else cell


def _is_header(cells: list[str]) -> bool:
    first = cells[0].strip().lower()
    second = cells[1].strip().lower() if len(cells) > 1 else ""
    return first in _HEADER_LOGIN and (not second or second in _HEADER_GAME)


def _check_separators(cell: str, label: str, separator: str) -> None:
    """A cell holding another separator is two fields run together: say which character."""
    for position, ch in enumerate(cell, start=1):
        if ch in SEPARATORS:
            name, shown = SEPARATORS[ch]
            raise InvalidInput(
                f"The {label} contains a {name} ('{shown}') at position {position}, but this "
                f"list is separated by {SEPARATORS[separator][0]}s. Use one separator for "
                "the whole list."
            )


def _no_check(cell: str, label: str, separator: str) -> None:
    """Quoted fields are taken as written."""


class _ListReader:
    """Reads lines one at a time, keeping only what a list needs: one entry per distinct
    terminal, the invalid lines (bounded) and a few example duplicates."""

    def __init__(self, default_game: str | None) -> None:
        self.game_for_all = clean_game_id(default_game)
        self.result = TerminalList()
        self._seen: dict[Terminal, int] = {}
        self._seen_text: dict[str, int] = {}  # a line already accepted, as written
        self._sample: list[tuple[int, str]] = []
        self._separator: str | None = None
        self._first_content = True
        self._lines = 0

    def feed(self, lines: list[str]) -> None:
        """Take the next lines. The loop is the hot path of a million-line list (one login
        repeated): a repeat of an accepted line costs one dict lookup and a count."""
        first_number = self._lines + 1
        self._lines += len(lines)
        if self._lines > MAX_LINES:
            raise _too_many("lines", MAX_LINES)
        if max(map(len, lines), default=0) > MAX_LINE_CHARS:
            number = first_number + next(
                n for n, line in enumerate(lines) if len(line) > MAX_LINE_CHARS
            )
            raise InvalidInput(
                f"Line {number:,} of the list is longer than {MAX_LINE_CHARS:,} "
                "characters; a line holds one login and perhaps a game id. This is not a "
                "list of terminals."
            )
        seen_text = self._seen_text
        result = self.result
        for number, line in enumerate(lines, start=first_number):
            if self._separator is None:
                self._sample.append((number, line))
                if len(self._sample) >= SAMPLE_LINES:
                    self._decide()
                continue
            first = seen_text.get(line)
            if first is not None:  # the same text as an accepted line: a duplicate
                result.duplicate_count += 1
                if len(result.duplicates) < KEPT_EXAMPLES:
                    result.duplicates.append(
                        SkippedLine(number, line.strip(), f"same as line {first}")
                    )
                continue
            self._line(number, line)

    def _decide(self) -> None:
        self._separator = self.result.separator = detect_separator(t for _, t in self._sample)
        sample, self._sample = self._sample, []
        for number, text in sample:
            self._line(number, text)

    def finish(self) -> TerminalList:
        if self._separator is None:
            self._decide()
        return self.result

    def _line(self, number: int, line: str) -> None:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return
        result = self.result
        separator = self._separator or ","
        try:
            cells = next(csv.reader([line], delimiter=separator), [""]) or [""]
        except csv.Error as exc:
            self._invalid(number, line, f"unreadable line ({exc})")
            return
        if self._first_content:
            self._first_content = False
            if _is_header(cells):
                result.header = True
                return
        if any(cell.strip() for cell in cells[2:]):
            result.extra_columns += 1
        # A quoted field holds what it holds on purpose; an unquoted one with another
        # separator is two fields run together.
        check = _check_separators if '"' not in line else _no_check
        try:
            login_cell = _unguard(cells[0])
            check(login_cell, "login", separator)
            login = clean_login(login_cell)
            game = None
            if len(cells) > 1:
                game_cell = _unguard(cells[1])
                check(game_cell, "game id", separator)
                game = clean_game_id(game_cell)
        except InvalidInput as exc:
            self._invalid(number, line, str(exc))
            return
        terminal = Terminal(login, game or self.game_for_all)
        first = self._seen.get(terminal)
        if first is not None:
            self._duplicate(number, terminal.as_line(), first)
            return
        self._seen[terminal] = number
        self._seen_text[line] = number
        result.terminals.append(terminal)
        if len(result.terminals) > MAX_TERMINALS:
            raise _too_many("terminals", MAX_TERMINALS)

    def _duplicate(self, number: int, text: str, first: int) -> None:  # a new text, same terminal
        self.result.duplicate_count += 1
        if len(self.result.duplicates) < KEPT_EXAMPLES:
            self.result.duplicates.append(SkippedLine(number, text, f"same as line {first}"))

    def _invalid(self, number: int, line: str, reason: str) -> None:
        self.result.invalid.append(SkippedLine(number, line[:80], reason))
        if len(self.result.invalid) > MAX_INVALID_LINES:
            raise _too_many("invalid lines", MAX_INVALID_LINES)


def parse_terminals(text: str, default_game: str | None = None) -> TerminalList:
    """Read ``login[,gameId]`` lines. ``default_game`` applies to lines without a game id.

    Raises :class:`InvalidInput` only when the list as a whole cannot be used (over a
    bound); problems with single lines are collected in the result instead.
    """
    text = text.removeprefix("\ufeff")
    step = CHUNK_BYTES
    return _read_lines((text[at : at + step] for at in range(0, len(text), step)), default_game)


def _read_lines(chunks: Iterable[str], default_game: str | None) -> TerminalList:
    reader = _ListReader(default_game)
    for lines in _split_lines(chunks):
        reader.feed(lines)
    return reader.finish()


def _split_lines(chunks: Iterable[str]) -> Iterator[list[str]]:
    """The lines of each chunk (as ``str.splitlines``), across chunk boundaries, never
    holding more than one chunk and one unfinished line, which may not grow past a line's
    bound."""
    carry = ""
    for chunk in chunks:
        text = carry + chunk
        if not text:
            continue
        lines = text.splitlines()
        carry = ""
        if text[-1] == "\r":  # its LF may start the next chunk: keep the line open
            carry = lines.pop() + "\r"
        elif text[-1] not in _LINE_BREAKS:
            carry = lines.pop()
        if len(carry) > MAX_LINE_CHARS:
            lines.append(carry)  # the reader refuses it by its length, at once
            yield lines
            return
        yield lines
    if carry:
        yield [carry.rstrip(_LINE_BREAKS)]


def _decoded(stream: BinaryIO, source: str) -> Iterator[str]:
    """Text of a list, a chunk at a time: UTF-8 (with or without BOM), UTF-16 with BOM
    (Excel's "Unicode text"), or Windows-1252 (Excel's plain "CSV" on Windows), refusing
    past :data:`MAX_FILE_BYTES` without reading further."""
    not_text = InvalidInput(
        f"{source} is not a text file. Save the list as CSV (UTF-8) and try again."
    )
    chunk = stream.read(CHUNK_BYTES)
    total = len(chunk)
    utf16 = chunk.startswith((b"\xff\xfe", b"\xfe\xff"))
    decoder: codecs.IncrementalDecoder
    decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")()
    fallback = not utf16
    while chunk:
        if total > MAX_FILE_BYTES:
            raise InvalidInput(
                f"{source} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most one "
                "list may hold; it is not a list of terminals, or it should be split."
            )
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError:
            if not fallback:
                raise not_text from None
            fallback = False  # not UTF-8 after all: Windows-1252 from here on
            pending = decoder.getstate()[0]
            decoder = codecs.getincrementaldecoder("cp1252")()
            try:
                text = decoder.decode(pending + chunk)
            except UnicodeDecodeError:
                raise not_text from None
        yield text
        chunk = stream.read(CHUNK_BYTES)
        total += len(chunk)
    try:
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise not_text from None


def read_terminal_stream(
    stream: BinaryIO, source: str, default_game: str | None = None
) -> TerminalList:
    """Read a list from a byte stream (a file, standard input) within every bound."""
    return _read_lines(_decoded(stream, source), default_game)


def decode_list(data: bytes, source: str = "the file") -> str:
    """Text of a whole list held in memory (see :func:`read_terminal_stream`)."""
    return "".join(_decoded(io.BytesIO(data), source))


def read_terminal_file(path: Path, default_game: str | None = None) -> TerminalList:
    """Read a list file; every problem is an :class:`InvalidInput` with a plain message."""
    try:
        with path.open("rb") as handle:
            return read_terminal_stream(handle, f"The file {path}", default_game)
    except FileNotFoundError:
        raise InvalidInput(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a list file.") from None
    except OSError as exc:
        raise InvalidInput(f"The file {path} cannot be read ({exc.strerror}).") from exc


def terminals_csv(terminals: Iterable[Terminal]) -> str:
    """A CSV (``login,gameId`` header) that :func:`parse_terminals` reads back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["login", "gameId"])
    for terminal in terminals:
        cells = [terminal.login] + ([terminal.game_id] if terminal.game_id else [])
        writer.writerow([spreadsheet_cell(cell) for cell in cells])
    return out.getvalue()
