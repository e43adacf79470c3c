"""What a batch reports and decides from: its ids, the options it was given, each row's
events, its progress and summary (with the exit status), and which rows are worth a retry.

Apart from the runner (``ops/batch.py``) so that front ends and the history's retry
lookup read these plain types without the threads, pacing and cancelling behind them.
"""

from __future__ import annotations

import enum
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from support_tool.errors import InvalidInput
from support_tool.exit_status import ExitStatus
from support_tool.ops.close import CloseAttempt
from support_tool.ops.terminals import Terminal
from support_tool.provider import contract
from support_tool.provider.outcome import Outcome


def new_batch_id() -> str:
    """Sortable, readable on a phone call, unique enough: ``20261124-081233-3f9a``."""
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def retry_batch_id(parent: str) -> str:
    """A retry's id names the batch it retries (``<parent>.r081512-a3``), so its rows carry
    the link, and ``history --batch PARENT`` finds the batch and all its retries."""
    return f"{parent}.r{datetime.now():%H%M%S}-{secrets.token_hex(1)}"


NO_ROUND_CODE = 4  # "Round not found": with clear history, there was nothing to clear
# Refusals that can turn out differently on a second try: the provider's request limit
# and its internal error. Every other code answers the same request the same way again.
TRANSIENT_CODES = frozenset({contract.RATE_LIMIT_CODE, 100})


def nothing_to_clear(outcome: Outcome | str, error_code: int | None, clear_history: bool) -> bool:
    """A clear-history close answered 4: the terminal had no round to clear, so it is done."""
    return outcome == Outcome.REFUSED and error_code == NO_ROUND_CODE and clear_history


NOTHING_TO_CLEAR = "Nothing to clear"


def outcome_shown(outcome: Outcome | str, error_code: int | None, clear_history: bool) -> str:
    """A row's outcome in words, for every screen and listing: its label, except that a
    clear-history close answered 4 reads *Nothing to clear* (done, not a refusal). Only
    the words change: the history keeps the provider's answer, refused with code 4."""
    if nothing_to_clear(outcome, error_code, clear_history):
        return NOTHING_TO_CLEAR
    try:
        return Outcome(outcome).label
    except ValueError:
        return str(outcome)


def colour_outcome(outcome: Outcome | str, error_code: int | None, clear_history: bool) -> str:
    """The outcome whose colour a row takes: success's for *Nothing to clear*."""
    if nothing_to_clear(outcome, error_code, clear_history):
        return Outcome.SUCCESS
    return outcome


def retry_verdict(
    outcome: Outcome | str, error_code: int | None, clear_history: bool, description: str = ""
) -> tuple[bool, str]:
    """Whether a row is worth sending again, and if not, why it is left out ('' if done).

    Sent again: transport failures, rows never sent, unknown or pending answers,
    configuration stops (fixed in between) and transient refusals (99, 100). Left out:
    permanent refusals (17 *Player not found* fails the same way twice), named with their
    code and description so the operator sees what is being held back.
    """
    if outcome in (Outcome.SUCCESS, Outcome.INVALID_INPUT) or nothing_to_clear(
        outcome, error_code, clear_history
    ):
        return False, ""
    if outcome == Outcome.REFUSED and error_code not in TRANSIENT_CODES:
        return False, f"error {error_code}: {description}".rstrip(": ")
    return True, ""


def left_out_text(reasons: Counter[str]) -> str:
    """'12 × error 17: Player not found, 1 × error 3: …' for messages and confirmations."""
    return ", ".join(f"{n:,} × {why}" for why, n in reasons.most_common())


def clean_max_rps(value: float | None) -> float | None:
    if value is None or value == 0:
        return None
    if not (0 < value <= contract.MAX_BATCH_RPS):
        raise InvalidInput(
            f"The rate limit must be between 0 (none) and {contract.MAX_BATCH_RPS:g} "
            "requests per second.",
            "max_rps",
        )
    return float(value)


@dataclass(frozen=True)
class BatchOptions:
    """What applies to every row. ``concurrency`` None means the profile's setting."""

    profile: str | None = None
    clear_history: bool = False
    reason: str = ""
    concurrency: int | None = None
    max_rps: float | None = None


class RowState(enum.StrEnum):
    SENDING = "sending"
    RATE_LIMITED = "rate_limited"  # answered 99; will be sent again
    DONE = "done"


@dataclass(frozen=True)
class RowEvent:
    """One row changed state; ``index`` is its position in the list the batch was given."""

    index: int
    terminal: Terminal
    state: RowState
    closed: CloseAttempt | None = None


@dataclass(frozen=True)
class BatchProgress:
    total: int
    done: int
    succeeded: int  # closed, or nothing to clear: the terminal needs nothing more
    failed: int
    in_flight: int
    waiting_rate_limit: int
    elapsed_s: float

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace so far; None until there is a pace to go by."""
        if self.done < 3 or self.elapsed_s <= 0:
            return None
        return self.remaining * self.elapsed_s / self.done


# A count's words where the label does not read as a plural: "3 configuration problems".
_COUNTED = {Outcome.CONFIGURATION: "configuration problems"}


@dataclass
class BatchSummary:
    batch_id: str
    total: int
    counts: Counter[Outcome]
    elapsed_s: float
    rate_limit_retries: int
    cancelled: bool
    stop_reason: str
    retry: list[Terminal] = field(default_factory=list)
    # Refused for good (17 Player not found, ...): offered again only on request.
    left_out: list[Terminal] = field(default_factory=list)
    left_out_reasons: Counter[str] = field(default_factory=Counter)
    # Answered 4 (no round) to a clear-history close: done, though counted as REFUSED.
    nothing_to_clear: int = 0
    # The audit history could not be written mid-batch: nothing further was sent.
    history_failed: bool = False

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    @property
    def succeeded(self) -> int:
        """Terminals that need nothing more: closed, or nothing was left to clear."""
        return self.counts[Outcome.SUCCESS] + self.nothing_to_clear

    @property
    def failed(self) -> int:
        return self.done - self.succeeded

    @property
    def refused(self) -> int:
        return self.counts[Outcome.REFUSED] - self.nothing_to_clear

    @property
    def not_sent(self) -> int:
        return self.total - self.done

    @property
    def exit_status(self) -> ExitStatus:
        """4 if the audit history could not be written (the batch stopped, however the rows
        before it ended); else 3 if a row could not reach the provider or ended unknown; else
        1 if the provider refused any; else 4 for configuration; else 2 if a row was invalid
        input; else 3 if rows were never sent; else 0 (the command line adds 2 and 130)."""
        c = self.counts
        if self.history_failed:
            return ExitStatus.CONFIG
        if c[Outcome.TRANSPORT_FAILURE] or c[Outcome.UNKNOWN] or c[Outcome.PENDING]:
            return ExitStatus.TRANSPORT
        if self.refused:
            return ExitStatus.REFUSED
        if c[Outcome.CONFIGURATION]:
            return ExitStatus.CONFIG
        if c[Outcome.INVALID_INPUT]:
            return ExitStatus.USAGE
        return ExitStatus.TRANSPORT if self.not_sent else ExitStatus.OK

    def counts_text(self) -> str:
        parts = [f"{self.counts[Outcome.SUCCESS]:,} closed"]
        if self.nothing_to_clear:
            parts.append(f"{self.nothing_to_clear:,} with nothing to clear (done)")
        if self.refused:
            parts.append(f"{self.refused:,} {Outcome.REFUSED.label.lower()}")
        for outcome in (
            Outcome.TRANSPORT_FAILURE,
            Outcome.CONFIGURATION,
            Outcome.INVALID_INPUT,
            Outcome.UNKNOWN,
        ):
            if n := self.counts[outcome]:
                words = outcome.label.lower()
                parts.append(f"{n:,} {_COUNTED.get(outcome, words) if n != 1 else words}")
        if self.not_sent:
            parts.append(f"{self.not_sent:,} not sent")
        return ", ".join(parts)
