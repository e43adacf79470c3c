"""What the command line prints about a close, shared by ``close`` and ``batch`` so that a
script reads the same fields, spelled the same way, from either."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from support_tool.provider.outcome import Outcome

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


def close_subject(closed: CloseAttempt, args: argparse.Namespace) -> dict[str, object]:
    """Which close this was (login, game, clear history, profile): as sent when it was,
    else as asked, so every answer, a refusal too, names the login it concerns."""
    request = closed.request
    if request is not None:
        login, game, clear = request.login, request.game_id, request.clear_history
    else:
        login, game, clear = safe(args.login), args.game and safe(args.game), args.clear_history
    profile = closed.profile.name if closed.profile else safe(args.profile or "")
    return {"login": login, "game_id": game or None, "clear_history": clear, "profile": profile}


def describe_close(closed: CloseAttempt, args: argparse.Namespace) -> str:
    """``close`` in words: what happened to which session, the provider's words, the next
    step and the facts a ticket needs."""
    result = closed.result
    request = closed.request
    what = ""
    if request is not None:
        what = f"session of {safe(request.login)}"
        what += f" in game {safe(request.game_id)}" if request.game_id else " (all games)"
        if request.clear_history:
            what += ", unfinished round removed"
    facts = []
    if result.error_code is not None:
        facts.append(f"provider code {result.error_code}")
    if result.http_status is not None:
        facts.append(f"HTTP {result.http_status}")
    if result.outcome not in (Outcome.INVALID_INPUT, Outcome.CONFIGURATION):
        facts.append(f"{result.elapsed_ms} ms")
        facts.append(f"{result.attempts} attempt{'s' if result.attempts != 1 else ''}")
    if closed.history_id is not None:
        facts.append(f"history #{closed.history_id}")
    if closed.profile is not None:
        facts.append(f"profile {closed.profile.name}")
    lines = []
    sentence = result.outcome.sentence
    if result.ok:
        lines.append(f"{sentence}: {what}." if what else f"{sentence}.")
        lines.append(f"  Provider: {safe(result.description)}")
    else:
        subject = close_subject(closed, args)
        login = str(subject["login"])
        about = safe(login) if login.strip() else "an empty login"
        about += f" in game {safe(str(subject['game_id']))}" if subject["game_id"] else ""
        about += " (all games)" if not subject["game_id"] else ""
        about += ", with clear history" if subject["clear_history"] else ""
        lines.append(f"{sentence} for {about}: {safe(result.description)}")
    if result.next_step:
        lines.append(f"  Next step: {result.next_step}")
    lines.append("  " + " \u00b7 ".join(facts))
    if closed.history_error:
        lines.append(f"  WARNING: {closed.history_error}")
    return "\n".join(lines)
