"""How a batch is shown on a terminal: rows as they finish, a progress bar, the summary
(words or one JSON object) and the batch's exit status. Loaded only when a batch runs."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from support_tool.cli.output import close_fields, safe
from support_tool.exit_status import ExitStatus
from support_tool.ops.batch_summary import (
    BatchProgress,
    BatchSummary,
    RowEvent,
    RowState,
    left_out_text,
    nothing_to_clear,
)
from support_tool.ops.terminals import TerminalList, plural

if TYPE_CHECKING:
    from support_tool.config.profiles import Profile

BAR_WIDTH = 28


class Reporter:
    """Prints rows as they finish (JSON lines, or failures in words) and a progress bar."""

    def __init__(self, as_json: bool, batch_id: str, clear_history: bool = False) -> None:
        self.as_json = as_json
        self.batch_id = batch_id
        self.clear_history = clear_history  # 4 (no round) is then done, not a failure
        self.bar = sys.stderr.isatty()
        self._lock = threading.Lock()
        self._bar_shown = False

    def event(self, event: RowEvent) -> None:
        if event.state is not RowState.DONE or event.closed is None:
            return
        result = event.closed.result
        with self._lock:
            self._clear_bar()
            if self.as_json:
                fields = {
                    "login": event.terminal.login,
                    "game_id": event.terminal.game_id,
                    **close_fields(event.closed),
                    "batch_id": self.batch_id,
                }
                print(json.dumps(fields, ensure_ascii=False), flush=True)
            elif not result.ok and not nothing_to_clear(
                result.outcome, result.error_code, self.clear_history
            ):
                print(f"{safe(event.terminal.as_line())}: {safe(result.headline)}", file=sys.stderr)

    def progress(self, progress: BatchProgress) -> None:
        if not self.bar:
            return
        done, total = progress.done, max(progress.total, 1)
        filled = BAR_WIDTH * done // total
        eta = progress.eta_s
        left = f", about {eta:,.0f} s left" if eta is not None and progress.remaining else ""
        waiting = (
            f", {progress.waiting_rate_limit} waiting (rate limit)"
            if progress.waiting_rate_limit
            else ""
        )
        line = (
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:,}/{progress.total:,}  "
            f"{progress.succeeded:,} ok  {progress.failed:,} failed{waiting}{left}"
        )
        with self._lock:
            sys.stderr.write(line.ljust(100)[:120])
            sys.stderr.flush()
            self._bar_shown = True

    def _clear_bar(self) -> None:
        if self._bar_shown:
            sys.stderr.write("\r" + " " * 100 + "\r")
            self._bar_shown = False

    def finish(self) -> None:
        with self._lock:
            self._clear_bar()


def summary_json(
    summary: BatchSummary,
    parsed_invalid: int,
    duplicates: int,
    status: int,
    ran: RanWith | None = None,
) -> str:
    where = {} if ran is None else {"profile": ran.profile, "clear_history": ran.clear_history}
    return json.dumps(
        {
            "summary": True,
            "batch_id": summary.batch_id,
            **where,
            "total": summary.total,
            "succeeded": summary.succeeded,
            "failed": summary.failed,
            "not_sent": summary.not_sent,
            "counts": {o.value: n for o, n in summary.counts.items() if n},
            "invalid_lines": parsed_invalid,
            "duplicates_removed": duplicates,
            "rate_limit_retries": summary.rate_limit_retries,
            "elapsed_s": round(summary.elapsed_s, 3),
            "cancelled": summary.cancelled,
            "stop_reason": summary.stop_reason,
            "exit_status": status,
        },
        ensure_ascii=False,
    )


@dataclass(frozen=True)
class RanWith:
    """The profile and clear-history choice a batch ran with: its summary names them, and
    its retry goes the same way."""

    profile: str
    production: bool
    clear_history: bool
    retry_of: str | None = None

    def words(self) -> str:
        production = " (PRODUCTION)" if self.production else ""
        clear = "yes" if self.clear_history else "no"
        return f"profile {self.profile!r}{production}, clear history: {clear}"


def report_batch(
    args: argparse.Namespace,
    parsed: TerminalList,
    summary: BatchSummary,
    interrupted: bool,
    profile: Profile | None = None,
) -> ExitStatus:
    """The summary (a JSON object, or lines on stdout, or stderr when not all went well)
    and the batch's exit status."""
    status = ExitStatus.INTERRUPTED if interrupted else summary.exit_status
    if status is ExitStatus.OK and parsed.invalid:
        status = ExitStatus.USAGE
    ran = RanWith(
        profile.name if profile else (args.profile or ""),
        bool(profile and profile.production),
        args.clear_history,
        args.retry_failed,
    )
    if args.json:
        dups = max(parsed.duplicate_count, len(parsed.duplicates))
        print(summary_json(summary, len(parsed.invalid), dups, status, ran))
    else:
        _print_summary(summary, args.demo, sys.stdout if status == 0 else sys.stderr, ran)
    return status


def _print_summary(summary: BatchSummary, demo: bool, out: TextIO, ran: RanWith) -> None:
    retries = summary.rate_limit_retries
    facts = f"{plural(summary.total, 'terminal')}, {summary.elapsed_s:,.1f} s"
    facts += f", {plural(retries, 'rate-limit retry', 'rate-limit retries')}" if retries else ""
    print(
        f"Batch {summary.batch_id} on {ran.words()}: {summary.counts_text()} ({facts}).",
        file=out,
    )
    if ran.retry_of:
        print(
            f"  A retry of batch {ran.retry_of}: sent to its profile with its clear-history "
            "choice, as the batch was.",
            file=out,
        )
    if summary.stop_reason:
        print(f"  {summary.stop_reason}", file=out)
    tool = "support-tool --demo" if demo else "support-tool"
    if summary.retry:
        print(
            f"  Retry the {len(summary.retry):,} that may close on a second try (it goes to "
            f"{ran.words()}, as this batch did): {tool} batch --retry-failed {summary.batch_id}",
            file=out,
        )
    if summary.left_out:
        print(
            "  Not worth retrying (refused for good): "
            f"{left_out_text(summary.left_out_reasons)}. To send them again anyway: "
            f"{tool} batch --retry-failed {summary.batch_id}"
            " --include-refused",
            file=out,
        )
    print(f"  History: {tool} history --batch {summary.batch_id}", file=out)
