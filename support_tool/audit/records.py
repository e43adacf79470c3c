"""What the audit history holds as readable rows: one action per row of the ``actions``
view, and the filter the views and commands page and search it with.

Split from ``log`` so the record shape, which exporting and the window also use, can be
read without the SQLite store that writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from support_tool.provider.validation import storable

MAX_STORED_INPUT = 256  # rejected inputs can be huge; keep enough to recognise them
_RETRY_ID = re.compile(r"^(?P<parent>.+)\.r[0-9]{6}-[0-9a-f]{2}$")  # ops.batch.retry_batch_id
MIN_INDEXED_SEARCH = 3  # trigrams: shorter searches cannot use the index


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: str) -> str:
    """Text as stored: bytes that were not UTF-8 (a mistyped argument) become visible escapes,
    because SQLite stores only real text and the attempt must still be recorded."""
    return storable(value)


def _clip(value: str) -> str:
    value = _text(value)
    return value if len(value) <= MAX_STORED_INPUT else value[: MAX_STORED_INPUT - 1] + "\u2026"


@dataclass(frozen=True)
class AuditRecord:
    """One row of the audit history, as stored."""

    id: int
    started_at: str
    finished_at: str | None
    operator: str
    workstation: str
    profile: str
    api_host: str
    login: str
    game_id: str
    clear_history: bool
    reason: str
    batch_id: str | None
    outcome: str
    error_code: int | None
    description: str
    http_status: int | None
    elapsed_ms: int | None
    attempts: int

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


COLUMNS = tuple(f.name for f in fields(AuditRecord))
OWN = "e.kind IN ('attempt', 'refused')"  # an action's own event (its id is that seq)
# The action's closing event, if any (a refused event is its own closing).
CLOSING_JOIN = "LEFT JOIN events c ON c.action = e.seq AND c.kind IN ('answer', 'unknown')"
_CLOSED = "iif(e.kind = 'refused', e.body, c.body)"


def body_field(key: str, body: str) -> str:
    """The SQL for field ``key`` of the JSON ``body``: NULL, not an error, for a body that
    is not JSON (support-tool never writes one; verify names it), so one altered event
    cannot stop the history, its indexes or the file from opening."""
    return f"json_extract(iif(json_valid({body}), {body}, NULL), '$.{key}')"


def attempt_field(key: str, alias: str = "e.") -> str:
    """One field of an attempt (or refused) event's body, as the history's lines and
    filters read it."""
    return body_field(key, f"{alias}body")


def _text_or(sql: str, default: str = "''") -> str:
    return f"coalesce(CAST({sql} AS TEXT), {default})"


def _number(sql: str) -> str:
    return f"CAST({sql} AS INTEGER)"


# Every column of a history line, from its events (``e`` its own, ``c`` its closing one).
# Names come from the dataclass above and constants, never from input. Each column has
# the type the record promises whatever an event holds (an event support-tool did not
# write is verify's to name; the views must still show it, not stop on it).
ROW = {
    "id": "e.seq",
    "started_at": "CAST(e.recorded_at AS TEXT)",
    "finished_at": "CAST(iif(e.kind = 'refused', e.recorded_at, c.recorded_at) AS TEXT)",
    **{
        name: _text_or(attempt_field(name))
        for name in ("operator", "workstation", "profile", "api_host", "login", "game_id")
    },
    "clear_history": f"coalesce({_number(attempt_field('clear_history'))}, 0)",
    "reason": _text_or(attempt_field("reason")),
    "batch_id": f"CAST({attempt_field('batch_id')} AS TEXT)",
    "outcome": _text_or(body_field("outcome", _CLOSED), "'pending'"),
    "error_code": _number(body_field("error_code", _CLOSED)),
    "description": _text_or(body_field("description", _CLOSED)),
    "http_status": _number(body_field("http_status", _CLOSED)),
    "elapsed_ms": _number(body_field("elapsed_ms", _CLOSED)),
    "attempts": f"coalesce({_number(body_field('attempts', _CLOSED))}, 0)",
}
assert tuple(ROW) == COLUMNS
_FIELDS = ", ".join(f"{expression} AS {name}" for name, expression in ROW.items())
# The ``actions`` view: one line per action, derived from the events, so the history people
# read cannot say anything the sealed events do not.
VIEW = f"SELECT {_FIELDS} FROM events e {CLOSING_JOIN} WHERE {OWN}"  # noqa: S608
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM actions"  # noqa: S608


@dataclass(frozen=True)
class AuditFilter:
    """What the history view or command asks for. ``text`` matches login, game or
    description (substring, case-insensitive for ASCII); the others match exactly, except
    ``batch_id``, which also matches the batch's retries."""

    text: str = ""
    login: str | None = None
    profile: str | None = None
    outcome: str | None = None
    batch_id: str | None = None
    operator: str | None = None  # who did it (a team store holds many desks' actions)
    workstation: str | None = None

    def sources(self, mark: int, text_index: bool) -> list[Source]:
        """FROM clause, WHERE clause, parameters and the id column to order and page by,
        for each part whose lines together are the filter's, each part in id order.

        Every condition is stated on the line's own columns (``ROW``), so what is shown
        always matches the filter; an index only chooses which lines are looked at first
        (``_driver``). The filter keys and the search index reach the ``mark``
        (``writing.catch_up`` brings them up in bulk): a filter starting from them reads
        them up to the mark, and directly the lines after it and those answered after it
        (which they hold as they were, pending), so no filter misses a line meanwhile."""
        where = self._conditions()
        drive, key, first = self._driver(self.text.strip() if text_index else "")
        if drive == _ALL:  # nothing derived behind the mark: one part
            return [_source(drive, key, first + where)]
        indexed = f"{key} <= ? AND {key} NOT IN ({_ANSWERED_AFTER})"
        return [
            _source(drive, key, [*first, (indexed, [mark, mark, mark]), *where]),
            _source(_ALL, "e.seq", [("e.seq > ?", [mark]), *where]),
            _source(_ALL, "e.seq", [(f"e.seq IN ({_ANSWERED_AFTER})", [mark, mark]), *where]),
        ]

    def _conditions(self) -> list[tuple[str, list[object]]]:
        where: list[tuple[str, list[object]]] = [(OWN, [])]
        for column, value in (
            ("login", self.login),
            ("profile", self.profile),
            ("operator", self.operator),
            ("workstation", self.workstation),
        ):
            if value is not None:  # on the line's own event
                where.append((f"{attempt_field(column)} = ?", [value]))
        if self.batch_id is not None:
            # A batch and its retries, whose ids extend it (batch.retry_batch_id:
            # "<id>.r081512-a3").
            batch, given = attempt_field("batch_id"), self.batch_id
            where.append(
                (
                    f"{batch} >= ? AND {batch} < ? AND ({batch} = ? OR {batch} > ?)",
                    [given, given + ".s", given, given + ".r"],
                )
            )
        text = self.text.strip()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            likes = " OR ".join(
                f"{ROW[name]} LIKE ? ESCAPE '\\'" for name in ("login", "game_id", "description")
            )
            where.append((f"({likes})", [pattern] * 3))
        if self.outcome is not None:
            where.append((f"{ROW['outcome']} = ?", [self.outcome]))
        return where

    def _driver(self, text: str) -> tuple[str, str, list[tuple[str, list[object]]]]:
        """Where to start reading, the id column in that order, and its extra condition.
        Driving from an index in id order lets SQLite stop after one page however many
        lines match. The keys and the search index are derived data: a wrong entry can
        only make a filter miss, since every line found is checked against its own text."""
        if len(text) >= MIN_INDEXED_SEARCH:
            match = '"' + text.replace('"', '""') + '"'
            drive = "actions_text JOIN events e ON e.seq = actions_text.rowid"
            return drive, "actions_text.rowid", [("actions_text MATCH ?", [match])]
        if self.outcome == "pending":
            return _OPEN, "p.seq", []
        for name in _BY_SELECTIVITY:
            value = getattr(self, name)
            if value is None:
                continue
            if name != "batch_id":
                return _KEYS, "k.seq", [("k.name = ? AND k.value = ?", [name, value])]
            # a batch and its retries, whose ids extend it (batch.retry_batch_id:
            # "<id>.r081512-a3"): a range of keys, sorted, not a LIKE scan
            given = str(value)
            return (
                _KEYS,
                "k.seq",
                [
                    (
                        "k.name = 'batch_id' AND k.value >= ? AND k.value < ?"
                        " AND (k.value = ? OR k.value > ?)",
                        [given, given + ".s", given, given + ".r"],
                    )
                ],
            )
        return _ALL, "e.seq", []


# Where a filter starts reading (``AuditFilter._driver``).
_ALL = "events e"
_OPEN = "actions_open p JOIN events e ON e.seq = p.seq"  # attempts without an answer (mark)
_KEYS = "action_keys k JOIN events e ON e.seq = k.seq"  # one filter's value (writing.py)
# A filter starts from the key with the fewest lines: a login or a batch is a few lines
# among a million; a profile often most of them.
_BY_SELECTIVITY = ("login", "batch_id", "outcome", "operator", "workstation", "profile")
Source = tuple[str, str, list[object], str]
# Lines up to the mark whose answer came after it (a range of the newest events, about
# ``writing.CATCH_UP_EVERY``).
# NOT INDEXED: the newest events by seq, not the closing index's every action below the mark.
_ANSWERED_AFTER = (
    "SELECT action FROM events NOT INDEXED WHERE seq > ? AND kind IN ('answer', 'unknown')"
    " AND action <= ?"
)


def _source(drive: str, key: str, where: list[tuple[str, list[object]]]) -> Source:
    clause = " AND ".join(sql for sql, _ in where)
    return f"{drive} {CLOSING_JOIN}", clause, [p for _, ps in where for p in ps], key


def _record(row: tuple[object, ...]) -> AuditRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    values["clear_history"] = bool(values["clear_history"])
    return AuditRecord(**values)  # type: ignore[arg-type]
