"""Run blocking work off the GUI thread and get the result back on it.

Work runs on a small thread pool; completion is delivered through a queued Qt signal to
an object living on the GUI thread, so callbacks may touch widgets safely. Jobs are
counted so that closing the window can wait for in-flight requests to be recorded.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Jobs(QObject):
    """``submit(work, on_done, on_error)``: ``work()`` on a worker, callbacks on the GUI thread."""

    _finished = Signal(int, object, object)  # job id, result, exception
    idle = Signal()

    def __init__(self, workers: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="support-tool-job")
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._ids = itertools.count(1)
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def submit(
        self, work: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> int:
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error)
        future = self._pool.submit(work)
        future.add_done_callback(lambda f: self._report(job_id, f))
        return job_id

    def _report(self, job_id: int, future: Future[Any]) -> None:
        # Runs on the worker thread: only emit, never touch Qt objects here.
        error = future.exception()
        self._finished.emit(job_id, None if error else future.result(), error)

    def _deliver(self, job_id: int, result: object, error: object) -> None:
        on_done, on_error = self._callbacks.pop(job_id, (None, None))
        try:
            if isinstance(error, BaseException):
                if on_error is None:
                    raise error
                on_error(error)
            elif on_done is not None:
                on_done(result)
        finally:
            if not self._callbacks:
                self.idle.emit()

    def shutdown(self) -> None:
        """Let running work finish (it is bounded by deadlines) and stop the pool."""
        self._pool.shutdown(wait=True, cancel_futures=False)
