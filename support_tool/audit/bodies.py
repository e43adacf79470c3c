"""The fields of an event's body, built in one place for every store.

The embedded file and the team store must put exactly the same fields in an attempt, an
answer and a refusal (docs/audit-trail.md, "One event"), so both build them here; the
store then seals them (SQLite on the desk) or hands them to the server that does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from support_tool.audit.records import _RETRY_ID, _clip, _text
from support_tool.provider.outcome import CloseResult, Outcome

# What recovery's *unknown* event says about an attempt left without its answer.
ABANDONED = (
    "The tool stopped before the provider's answer was recorded. "
    "Check with the provider whether the session was closed."
)
UNSTORED = (
    "The provider's answer was shown to the operator but could not be recorded (the audit "
    "store could not be reached). Check with the provider whether the session was closed."
)


def attempt_body(
    row: Mapping[str, Any], *, operator: str, workstation: str, pid: int
) -> dict[str, object]:
    """An attempt's fields: who and where acted, and everything sent except the secret
    and the hash. ``row`` holds what the close was about (profile, login, ...)."""
    batch_id = row.get("batch_id")
    batch = None if batch_id is None else _text(str(batch_id))
    retry = _RETRY_ID.match(batch or "")
    return {
        "operator": operator,
        "workstation": workstation,
        "pid": pid,
        "profile": _clip(str(row.get("profile", ""))),
        "api_host": _text(str(row.get("api_host", ""))),
        "login": _clip(str(row.get("login", ""))),
        "game_id": _clip(str(row.get("game_id") or "")),
        "clear_history": bool(row.get("clear_history")),
        "reason": _clip(str(row.get("reason", ""))),
        "batch_id": batch,
        "retry_of": retry["parent"] if retry else None,
    }


def closing_body(result: CloseResult) -> dict[str, object]:
    """An answer's (or unknown's) fields: only the result's safe fields."""
    return {
        "outcome": result.outcome.value,
        "error_code": result.error_code,
        "description": _text(result.description),
        "http_status": result.http_status,
        "elapsed_ms": result.elapsed_ms,
        "attempts": result.attempts,
    }


def unknown_body(description: str = ABANDONED) -> dict[str, object]:
    """The fields of recovery's *unknown* event."""
    return closing_body(CloseResult(Outcome.UNKNOWN, description))
