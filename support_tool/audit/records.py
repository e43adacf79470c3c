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
# Column names come from the dataclass above, never from input.
_FIELDS = ", ".join(f"actions.{name}" for name in COLUMNS)
_SELECT = f"SELECT {_FIELDS} FROM actions"  # noqa: S608


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

    def source(self, text_index: bool) -> tuple[str, str, list[object], str]:
        """FROM clause, WHERE clause, parameters, and the id column to order and page by."""
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (
            ("login", self.login),
            ("profile", self.profile),
            ("outcome", self.outcome),
            ("operator", self.operator),
            ("workstation", self.workstation),
        ):
            if value is not None:
                clauses.append(f"actions.{column} = ?")
                params.append(value)
        if self.batch_id is not None:
            # A batch and its retries, whose ids extend it (batch.retry_batch_id:
            # "<id>.r081512-a3"): a range on the indexed column, not a LIKE scan.
            clauses.append(
                "(actions.batch_id = ? OR (actions.batch_id > ? AND actions.batch_id < ?))"
            )
            params += [self.batch_id, self.batch_id + ".r", self.batch_id + ".s"]
        text = self.text.strip()
        if text and text_index and len(text) >= MIN_INDEXED_SEARCH:
            # Driving the query from the index, in its rowid order, lets SQLite stop after
            # one page however many rows match.
            clauses.insert(0, "actions_text MATCH ?")
            params.insert(0, '"' + text.replace('"', '""') + '"')
            joined = "actions_text JOIN actions ON actions.id = actions_text.rowid"
            return joined, " AND ".join(clauses), params, "actions_text.rowid"
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append(
                "(actions.login LIKE ? ESCAPE '\\' OR actions.game_id LIKE ? ESCAPE '\\'"
                " OR actions.description LIKE ? ESCAPE '\\')"
            )
            params += [pattern, pattern, pattern]
        return "actions", " AND ".join(clauses) or "1", params, "actions.id"


def _record(row: tuple[object, ...]) -> AuditRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    values["clear_history"] = bool(values["clear_history"])
    return AuditRecord(**values)  # type: ignore[arg-type]
