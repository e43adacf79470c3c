"""What the Terminals tab says about a batch: its progress, its summary, and whose
results the table holds (the profile and clear-history choice it ran with, and what has
changed since). Words only, apart from the widgets, so the tab keeps to wiring."""

from __future__ import annotations

import html
from collections import Counter

from support_tool.ops.batch_summary import BatchOptions, BatchProgress, BatchSummary, left_out_text
from support_tool.ops.terminals import TerminalList, plural


def ran_with(options: BatchOptions, production: bool) -> str:
    """'on profile live (PRODUCTION), clear history: yes': what the results are for."""
    clear = "yes" if options.clear_history else "no"
    marked = " (PRODUCTION)" if production else ""
    return f"on profile {options.profile or ''}{marked}, clear history: {clear}"


def changed_since(
    options: BatchOptions, list_changed: bool, profile: str | None, clear_history: bool
) -> list[str]:
    """What the tab's inputs changed since the batch ran with ``options`` ([]: nothing)."""
    changed = ["the list"] if list_changed else []
    if profile != options.profile:
        changed.append("the profile")
    if clear_history != options.clear_history:
        changed.append("the clear-history choice")
    return changed


def stale_text(batch_id: str, options: BatchOptions, production: bool, changed: list[str]) -> str:
    """The line over results that no longer match the inputs on screen."""
    verb = "have" if len(changed) > 1 else "has"
    return (
        f"These results are for batch {batch_id} {ran_with(options, production)} "
        f"— {' and '.join(changed)} {verb} changed since."
    )


def list_status_text(parsed: TerminalList | None, error: str) -> str:
    """The line under the list: how many terminals, and what was left out and why."""
    if parsed is None:
        return error
    if not parsed.terminals and not parsed.invalid:
        return "No terminals yet."
    said = [f"<b>{plural(len(parsed.terminals), 'terminal')}</b> to close."]
    notes = parsed.notices() + [f"Line {s.line}: {s.reason}" for s in parsed.invalid[1:4]]
    return "<br>".join(said + [html.escape(note, quote=False) for note in notes])


def progress_text(p: BatchProgress) -> str:
    parts = [
        f"{p.done:,} of {p.total:,} done",
        f"{p.succeeded:,} closed",
        f"{p.failed:,} failed",
        f"{p.remaining:,} remaining",
    ]
    if p.waiting_rate_limit:
        parts.append(f"{p.waiting_rate_limit:,} waiting after a rate limit")
    if p.eta_s is not None and p.remaining:
        parts.append(f"about {duration(p.eta_s)} left")
    return " · ".join(parts)


def summary_text(summary: BatchSummary, ran: str, refused_reasons: Counter[str]) -> str:
    """The results panel's summary line: the batch, where and how it ran, its counts."""
    text = (
        f"Batch {summary.batch_id} {ran}: {summary.counts_text()} in {duration(summary.elapsed_s)}."
    )
    if retries := summary.rate_limit_retries:
        were = "was" if retries == 1 else "were"
        text += f" {plural(retries, 'rate-limited request')} {were} sent again."
    if summary.stop_reason:
        text += f" {summary.stop_reason}"
    if refused_reasons:
        text += f" Not worth retrying (refused for good): {left_out_text(refused_reasons)}."
    return text


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {rest:02d} s"
