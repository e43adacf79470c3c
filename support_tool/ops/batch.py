"""Closing many sessions at once: bounded concurrency, pacing, cancel, retry.

Each row goes through :meth:`CloseService.close`, the same path as a single close (the
same checks, signing, deadline and history row, tagged with the batch id), so a batch is
nothing more than many ordinary closes run by a few worker threads. Memory stays flat
with the list's length: the runner keeps counts and the rows that failed, never every
result (front ends receive each result as an event and keep what they show).

Rules a floor manager can rely on:

* at most ``concurrency`` requests in flight, and at most ``max_rps`` started per second;
* a provider's *request limit exceeded* (99) is not a failure: the row waits and is sent
  again later, and the whole batch slows down (halving its rate, then creeping back up);
* *Cancel* starts nothing new; requests in flight finish and are recorded;
* a configuration problem (no secret, unknown profile, history unwritable) or a provider
  that cannot be reached ten times in a row stops the batch: the rest would fail the same
  way, and *Retry failed* picks them up once it is fixed.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence

from support_tool.config.secret_store import BatchSecrets
from support_tool.errors import AuditUnavailable, SupportToolError
from support_tool.ops.batch_summary import (
    BatchOptions,
    BatchProgress,
    BatchSummary,
    RowEvent,
    RowState,
    clean_max_rps,
    new_batch_id,
    nothing_to_clear,
    retry_batch_id,
    retry_verdict,
)
from support_tool.ops.close import CloseAttempt, CloseService
from support_tool.ops.terminals import SkippedLine, Terminal
from support_tool.provider import contract
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.provider.validation import CONCURRENCY_RANGE, clean_concurrency, clean_reason

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Pacer:
    """Spaces the start of requests: the operator's limit, and the provider's, learned
    from its 99 answers: halve the pace, then creep back up by 5% per good answer, but
    only to 90% of the pace at which the provider last said 99."""

    def __init__(self, max_rps: float | None, clock: Clock = time.monotonic) -> None:
        self.ceiling = max_rps
        self.rate = max_rps
        self._clock = clock
        self._next = 0.0
        self._starts: deque[float] = deque(maxlen=32)
        self._last_cut = -1e9
        self._learned: float | None = None  # the pace at which the provider said 99
        self._lock = threading.Lock()

    def wait_turn(self, cancel: threading.Event) -> bool:
        """Wait for this request's slot; False if the batch was cancelled meanwhile."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + (1 / self.rate if self.rate else 0.0)
            self._starts.append(slot)
        delay = slot - now
        if delay > 0:
            return not cancel.wait(delay)
        return not cancel.is_set()

    def slow_down(self, pause_s: float) -> None:
        with self._lock:
            now = self._clock()
            self._next = max(self._next, now + pause_s)
            if now - self._last_cut < 1.0:
                return  # answers to requests sent at the old pace: cut once, not per row
            self._last_cut = now
            span = now - self._starts[0] if len(self._starts) > 1 else 0.0
            observed = (len(self._starts) - 1) / span if span > 0 else 1.0
            current = min(self.rate, observed) if self.rate else observed
            self._learned = max(contract.MIN_ADAPTIVE_RPS, 0.9 * current)
            self.rate = max(contract.MIN_ADAPTIVE_RPS, current / 2)
            log.info("provider rate limit: pacing the batch at %.1f requests/s", self.rate)

    def speed_up(self) -> None:
        with self._lock:
            if self.rate is None:
                return
            limits = [v for v in (self.ceiling, self._learned) if v is not None]
            self.rate = min([self.rate * 1.05, *limits])


class BatchRun:
    """One batch. ``start()`` then ``wait()``, or ``run()``; ``cancel()`` from any thread.

    ``on_event`` is called from worker threads, outside any lock, for every state change.
    """

    def __init__(
        self,
        service: CloseService,
        terminals: Sequence[Terminal],
        options: BatchOptions,
        *,
        batch_id: str | None = None,
        on_event: Callable[[RowEvent], None] | None = None,
        skipped: Sequence[SkippedLine] = (),
        clock: Clock = time.monotonic,
        retry_of: str | None = None,
    ) -> None:
        self.service = service
        self.skipped = skipped
        self.terminals = terminals
        self.options = options
        self.retry_of = retry_of
        self.batch_id = batch_id or (retry_batch_id(retry_of) if retry_of else new_batch_id())
        self.reason = clean_reason(options.reason)
        profile = self.profile = service.profile(options.profile)
        default = profile.concurrency if profile else contract.DEFAULT_BATCH_CONCURRENCY
        self.concurrency = clean_concurrency(
            options.concurrency or default, f"Concurrency must be {CONCURRENCY_RANGE}."
        )
        self.pacer = Pacer(clean_max_rps(options.max_rps), clock)
        self._on_event = on_event
        self._clock = clock
        self._secrets = BatchSecrets(service.secrets)
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self._next_index = 0
        self._retry_heap: list[tuple[float, int, int]] = []
        self._tries: dict[int, int] = {}
        self._seq = itertools.count()
        self._in_flight = 0
        self._counts: Counter[Outcome] = Counter()
        self._failed: list[int] = []
        self._left_out: list[int] = []
        self._left_out_reasons: Counter[str] = Counter()
        self._nothing_to_clear = 0
        self._returned: list[int] = []
        self._rate_limit_retries = 0
        self._unreachable_in_a_row = 0
        self._stop_reason = ""
        self._history_failed = False
        self._threads: list[threading.Thread] = []
        self._started_at = 0.0
        self._finished = threading.Event()
        self._summary: BatchSummary | None = None

    # --- control ------------------------------------------------------------------------

    def start(self) -> BatchRun:
        """Record the list's invalid lines, then start the workers. Raises
        :class:`AuditUnavailable` (before anything is sent) if the history is unwritable."""
        self._record_skipped()
        self._started_at = self._clock()
        workers = min(self.concurrency, max(1, len(self.terminals)))
        log.info(
            "batch %s: %d rows, concurrency %d, max rps %s, profile %s, clear history %s",
            self.batch_id,
            len(self.terminals),
            workers,
            self.pacer.ceiling or "none",
            self.options.profile or "(default)",
            self.options.clear_history,
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"batch-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()
        threading.Thread(target=self._join_all, name="batch-wait", daemon=True).start()
        return self

    def _record_skipped(self) -> None:
        """Invalid lines are part of what the operator asked for: they get history rows
        (never sent), tagged with the batch, so the batch's record accounts for its list."""
        if not self.skipped:
            return
        profile = self.profile
        entries = [
            (
                line.text,
                CloseResult(Outcome.INVALID_INPUT, f"Line {line.line} not sent: {line.reason}"),
            )
            for line in self.skipped
        ]
        self.service.history.record_many(
            entries,
            profile=profile.name if profile else (self.options.profile or ""),
            api_host=profile.api_host if profile else "",
            clear_history=self.options.clear_history,
            reason=self.reason,
            batch_id=self.batch_id,
        )

    def run(self) -> BatchSummary:
        self.start()
        summary = self.wait()
        assert summary is not None
        return summary

    def wait(self, timeout: float | None = None) -> BatchSummary | None:
        """The summary once every worker has stopped, or None if ``timeout`` passed."""
        self._finished.wait(timeout)
        return self._summary

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def cancel(self, reason: str = "") -> None:
        """Start nothing new; requests in flight finish and are recorded."""
        with self._cond:
            if not self._cancel.is_set():
                self._stop_reason = self._stop_reason or reason
                self._cancel.set()
            self._cond.notify_all()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def progress(self) -> BatchProgress:
        with self._cond:
            done = sum(self._counts.values())
            succeeded = self._counts[Outcome.SUCCESS] + self._nothing_to_clear
            return BatchProgress(
                total=len(self.terminals),
                done=done,
                succeeded=succeeded,
                failed=done - succeeded,
                in_flight=self._in_flight,
                waiting_rate_limit=len(self._retry_heap),
                elapsed_s=(self._clock() - self._started_at) if self._started_at else 0.0,
            )

    # --- workers ------------------------------------------------------------------------

    def _take(self) -> tuple[int, bool] | None:
        """The next row to send (and whether it is a rate-limit retry), or None: stop."""
        with self._cond:
            while True:
                if self._cancel.is_set():
                    return None
                now = self._clock()
                if self._retry_heap and self._retry_heap[0][0] <= now:
                    _, _, index = heapq.heappop(self._retry_heap)
                    self._in_flight += 1
                    return index, True
                if self._next_index < len(self.terminals):
                    index = self._next_index
                    self._next_index += 1
                    self._in_flight += 1
                    return index, False
                if not self._retry_heap and self._in_flight == 0:
                    return None
                wait = self._retry_heap[0][0] - now if self._retry_heap else None
                self._cond.wait(wait)

    def _give_back(self, index: int) -> None:
        with self._cond:
            self._in_flight -= 1
            self._returned.append(index)
            self._cond.notify_all()

    def _emit(self, event: RowEvent) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a front end's bug must not stop the batch or lose rows
                log.exception("batch %s: event handler failed", self.batch_id)

    def _work(self) -> None:
        options = self.options
        while (taken := self._take()) is not None:
            index, _ = taken
            terminal = self.terminals[index]
            if not self.pacer.wait_turn(self._cancel):
                self._give_back(index)
                return
            self._emit(RowEvent(index, terminal, RowState.SENDING))
            try:
                closed = self.service.close(
                    terminal.login,
                    terminal.game_id,
                    options.clear_history,
                    reason=self.reason,
                    profile=options.profile,
                    batch_id=self.batch_id,
                    wait_for_history=False,  # rides with the next row's commit; flushed below
                    secrets=self._secrets,  # the keyring is read once per batch, not per row
                )
            except SupportToolError as exc:  # the history cannot be written: nothing sent
                self._give_back(index)
                self._history_stopped(exc)
                return
            except Exception as exc:
                log.exception("batch %s: unexpected error on row %d", self.batch_id, index)
                self._give_back(index)
                self.cancel(f"Unexpected error: {exc!r}. The log file has the details.")
                return
            self._settle(index, terminal, closed)

    def _settle(self, index: int, terminal: Terminal, closed: CloseAttempt) -> None:
        result = closed.result
        rate_limited = (
            result.outcome is Outcome.REFUSED and result.error_code == contract.RATE_LIMIT_CODE
        )
        with self._cond:
            self._in_flight -= 1
            tries = self._tries.get(index, 0) + 1
            if rate_limited and tries < contract.RATE_LIMIT_TRIES and not self._cancel.is_set():
                first, longest = contract.RATE_LIMIT_BACKOFF_S
                pause = min(longest, first * 2 ** (tries - 1))
                self._tries[index] = tries
                self._rate_limit_retries += 1
                heapq.heappush(self._retry_heap, (self._clock() + pause, next(self._seq), index))
                state = RowState.RATE_LIMITED
            else:
                self._tries.pop(index, None)
                self._counts[result.outcome] += 1
                again, why = retry_verdict(
                    result.outcome,
                    result.error_code,
                    self.options.clear_history,
                    result.description,
                )
                if again:
                    self._failed.append(index)
                elif why:
                    self._left_out.append(index)
                    self._left_out_reasons[why] += 1
                elif nothing_to_clear(
                    result.outcome, result.error_code, self.options.clear_history
                ):
                    self._nothing_to_clear += 1
                state = RowState.DONE
                if result.reached_provider or result.outcome is not Outcome.TRANSPORT_FAILURE:
                    self._unreachable_in_a_row = 0
                else:
                    self._unreachable_in_a_row += 1
            self._cond.notify_all()
            stop = self._stop_for(result.outcome, result.description)
        if rate_limited and state is RowState.RATE_LIMITED:
            self.pacer.slow_down(pause)
        elif result.error_code is not None:
            self.pacer.speed_up()
        self._emit(RowEvent(index, terminal, state, closed))
        if stop:
            self.cancel(stop)

    def _history_stopped(self, exc: SupportToolError) -> None:
        """No row may be sent unrecorded: an unwritable history stops the batch."""
        if isinstance(exc, AuditUnavailable):
            self._history_failed = True
            self.cancel(
                f"Stopped: the audit history could not be written, so nothing further was "
                f"sent. {exc}"
            )
        else:
            self.cancel(str(exc))

    def _stop_for(self, outcome: Outcome, description: str) -> str:
        """Why the batch must stop after this row ('' to go on). Called under the lock."""
        if outcome is Outcome.CONFIGURATION:
            return f"Stopped: {description}"
        if self._unreachable_in_a_row >= contract.UNREACHABLE_STOP:
            return (
                f"Stopped: the provider could not be reached for {self._unreachable_in_a_row} "
                "rows in a row. Check the network and the profile's API URL, then use "
                "Retry failed."
            )
        return ""

    def _join_all(self) -> None:
        for thread in self._threads:
            thread.join()
        self._secrets.forget()
        try:
            self.service.history.flush()
        except SupportToolError as exc:
            log.error("batch %s: last answers could not be recorded: %s", self.batch_id, exc)
            self._history_stopped(exc)
        with self._cond:
            never = list(range(self._next_index, len(self.terminals)))
            waiting = [index for _, _, index in self._retry_heap]
            leftover = sorted({*self._failed, *self._returned, *waiting, *never})
            self._summary = BatchSummary(
                batch_id=self.batch_id,
                total=len(self.terminals),
                counts=Counter(self._counts),
                elapsed_s=self._clock() - self._started_at,
                rate_limit_retries=self._rate_limit_retries,
                cancelled=self._cancel.is_set(),
                stop_reason=self._stop_reason,
                retry=[self.terminals[i] for i in leftover],
                left_out=[self.terminals[i] for i in sorted(self._left_out)],
                left_out_reasons=Counter(self._left_out_reasons),
                nothing_to_clear=self._nothing_to_clear,
                history_failed=self._history_failed,
            )
        log.info(
            "batch %s finished in %.1f s: %s%s",
            self.batch_id,
            self._summary.elapsed_s,
            self._summary.counts_text(),
            f" ({self._stop_reason})" if self._stop_reason else "",
        )
        self._finished.set()
