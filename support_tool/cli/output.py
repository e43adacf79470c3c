"""What the command line prints about a close, shared by ``close`` and ``batch`` so that a
script reads the same fields, spelled the same way, from either."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from support_tool.ops.close import CloseAttempt


def safe(text: str) -> str:
    """Text from outside (provider, user) made safe for a terminal: no control characters."""
    return "".join(ch if ch.isprintable() or ch == " " else f"\\u{ord(ch):04x}" for ch in text)


def close_fields(closed: CloseAttempt) -> dict[str, object]:
    """One close as the JSON object ``close --json`` prints (``batch --json`` adds to it)."""
    result = closed.result
    return {
        "ok": result.ok,
        "outcome": result.outcome.value,
        "error": result.error_code,
        "description": result.description,
        "next_step": result.next_step,
        "http_status": result.http_status,
        "elapsed_ms": result.elapsed_ms,
        "attempts": result.attempts,
        "history_id": closed.history_id,
    }
