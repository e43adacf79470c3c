"""The batch lifecycle behind the Terminals tab: start, progress, cancel, retry plan.

The tab owns the widgets; this owns the run. A batch runs on a worker thread and reports
through queued signals (``_Bridge``), so the GUI thread only paints. Kept apart from the
tab so that the run's state (the run, its summary, the retry plan, the mapping of a
retry's rows onto the table) lives in one small object with one job.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from support_tool.gui.batch_model import BatchModel, BatchRow
from support_tool.gui.batch_words import ran_with
from support_tool.ops.batch import BatchRun
from support_tool.ops.batch_summary import (
    BatchOptions,
    BatchSummary,
    RowEvent,
    RowState,
    retry_verdict,
)
from support_tool.ops.close import CloseService
from support_tool.ops.terminals import SkippedLine, Terminal

PROGRESS_MS = 200
CANCELLED = "Cancelled by the operator."


class _Bridge(QObject):
    """Carries the batch's worker-thread callbacks to the GUI thread (queued signals)."""

    started = Signal(object)  # BatchRun
    row = Signal(object)  # RowEvent
    finished = Signal(object)  # BatchSummary
    failed = Signal(object)  # exception


class _RunHandle:
    """The batch as both threads see it: *Cancel* may come before the worker has created
    the run (its ``started`` signal still queued), and must not be lost then."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run: BatchRun | None = None
        self._cancel_asked = False

    def attach(self, run: BatchRun) -> None:
        with self._lock:
            self._run = run
            if self._cancel_asked:
                run.cancel(CANCELLED)

    @property
    def cancel_asked(self) -> bool:
        with self._lock:
            return self._cancel_asked

    def cancel(self) -> bool:
        """True if this asked for a cancel (False: already asked)."""
        with self._lock:
            if self._cancel_asked:
                return False
            self._cancel_asked = True
            if self._run is not None:
                self._run.cancel(CANCELLED)
            return True


@dataclass
class RetryPlan:
    """What *Retry failed* offers, from each row's latest status across the batch and its
    retries: ``again`` may close on a second try; ``refused`` only on request."""

    again: list[Terminal] = field(default_factory=list)
    refused: list[Terminal] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, rows: list[BatchRow]) -> RetryPlan:
        plan = cls()
        for row in rows:
            result = row.result
            if result is None:  # never sent
                plan.again.append(row.terminal)
                continue
            again, why = retry_verdict(
                result.outcome, result.error_code, row.clear_history, result.description
            )
            if again:
                plan.again.append(row.terminal)
            elif why:
                plan.refused.append(row.terminal)
                plan.reasons[why] += 1
        return plan


class BatchController(QObject):
    """One table's batches: the first run and its retries, one at a time."""

    started = Signal()  # the run exists: its batch id is known
    ticked = Signal()  # time to repaint the progress (a few times a second)
    recorded = Signal()  # rows reached the history: views may refresh
    finished = Signal(object)  # BatchSummary
    failed = Signal(object)  # the exception that stopped the batch before it ran

    def __init__(self, service: CloseService, model: BatchModel, parent: QObject) -> None:
        super().__init__(parent)
        self.service = service
        self.model = model
        self.run: BatchRun | None = None
        self.summary: BatchSummary | None = None
        # The options the table's batch ran with, and whether its profile was production:
        # its retries go where it went, however the tab's inputs have changed since.
        self.options = BatchOptions()
        self.production = False
        self.plan = RetryPlan()  # from the table's latest statuses, once a run ends
        self.batch_root = ""  # the first batch of the table; retries extend its id
        self._bridge: _Bridge | None = None
        self._handle = _RunHandle()
        self._row_map: list[int] = []  # a retry's rows -> this table's rows
        self._recorded_since_refresh = 0
        self._tick = QTimer(self)
        self._tick.setInterval(PROGRESS_MS)
        self._tick.timeout.connect(self._on_tick)

    def ran_with(self) -> str:
        """'on profile live (PRODUCTION), clear history: yes': what the results are for."""
        return ran_with(self.options, self.production)

    @property
    def running(self) -> bool:
        return self._bridge is not None

    @property
    def cancel_asked(self) -> bool:
        return self._handle.cancel_asked

    def start(
        self,
        terminals: list[Terminal],
        skipped: list[SkippedLine],
        options: BatchOptions,
        retry_of: str | None = None,
        production: bool = False,
    ) -> None:
        """Run the batch on a worker thread; the window only paints what it reports.

        A retry (``retry_of``) updates the rows of the table it retries in place, so the
        table keeps each terminal's latest status across the batch and its retries."""
        bridge = self._bridge = _Bridge(self)
        bridge.started.connect(self._started)
        bridge.row.connect(self._row_changed)
        bridge.finished.connect(self._finished)
        bridge.failed.connect(self._failed)
        self.run = None
        self.summary = None
        self.options = options
        self.production = production
        self.plan = RetryPlan()
        if retry_of is not None:
            where = {row.terminal: n for n, row in enumerate(self.model.rows())}
            self._row_map = [where[t] for t in terminals]
            self.model.restart(self._row_map)
        else:
            self._row_map = []
            self.batch_root = ""
            self.model.reset(terminals)
        handle = self._handle = _RunHandle()
        service = self.service

        def work() -> None:
            try:
                run = BatchRun(
                    service,
                    terminals,
                    options,
                    on_event=bridge.row.emit,
                    skipped=skipped,
                    retry_of=retry_of,
                )
                handle.attach(run)
                bridge.started.emit(run)
                bridge.finished.emit(run.run())
            except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
                bridge.failed.emit(exc)

        threading.Thread(target=work, name="support-tool-batch", daemon=True).start()
        self._tick.start()

    def cancel(self) -> bool:
        """Cancel the running batch, even if its start has not reached this thread yet;
        True if this asked for it (False: not running, or already asked)."""
        return self.running and self._handle.cancel()

    def _started(self, run: BatchRun) -> None:
        self.run = run
        self.batch_root = self.batch_root or run.batch_id
        self.started.emit()

    def _row_changed(self, event: RowEvent) -> None:
        batch_id = self.run.batch_id if self.run else ""
        self.model.apply(event, batch_id, self._row_map, self.options.clear_history)
        if event.state is RowState.DONE:
            self._recorded_since_refresh += 1

    def _on_tick(self) -> None:
        if self.run is None:
            return
        self.ticked.emit()
        if self._recorded_since_refresh:
            self._recorded_since_refresh = 0
            self.recorded.emit()

    def _finished(self, summary: BatchSummary) -> None:
        self._tick.stop()
        self.model.flush()
        if self._bridge is not None:
            self._bridge.deleteLater()  # every event it carried was delivered before this
        self._bridge = None
        self.summary = summary
        self.plan = RetryPlan.of(self.model.rows())
        self.finished.emit(summary)

    def _failed(self, error: BaseException) -> None:
        self._tick.stop()
        self._bridge = None
        self.failed.emit(error)
