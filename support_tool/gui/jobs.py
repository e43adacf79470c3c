"""Run blocking work off the GUI thread and get the result back on it.

Work runs on a few worker threads; completion is delivered through a queued Qt signal to
an object living on the GUI thread, so callbacks may touch widgets safely. Jobs are
counted so that closing the window can wait for in-flight requests to be recorded.

Plain ``threading`` threads and a ``SimpleQueue`` rather than ``concurrent.futures``: the
window builds its ``Jobs`` before its first paint, where that package (futures, its
executor, ``queue`` and ``heapq``) cost the start ~7 M instructions for features nothing
here uses; and the workers start with the first job, which the window submits after its
first paint, so no thread competes with the paint for the interpreter.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
from _queue import SimpleQueue  # what queue.SimpleQueue is, without queue's own imports
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]
Work = tuple[int, Callable[[], Any]] | None  # a job, or None: stop
Report = Callable[[int, object, object], None]


class _Workers:
    """Up to ``size`` threads taking work from one queue; a thread is started for a job
    only when none is idle, as ``ThreadPoolExecutor`` does."""

    def __init__(self, size: int, report: Report) -> None:
        self.queue: SimpleQueue[Work] = SimpleQueue()
        self.threads: list[threading.Thread] = []
        self._size = size
        self._idle = threading.Semaphore(0)
        self._report = report

    def put(self, job_id: int, work: Callable[[], Any]) -> None:
        self.queue.put((job_id, work))
        if self._idle.acquire(blocking=False) or len(self.threads) >= self._size:
            return
        thread = threading.Thread(
            target=_serve,
            args=(self.queue, self._idle, self._report),
            name=f"support-tool-job_{len(self.threads)}",
            daemon=True,  # joined by stop(), at the latest by the exit handler below
        )
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        """Run what is queued, then end every thread; returns once they have ended."""
        self.queue.put(None)
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join()


def _serve(queue: SimpleQueue[Work], idle: threading.Semaphore, report: Report) -> None:
    """A worker: run jobs until told to stop, reporting each result or exception. It holds
    the queue, not the ``Jobs``, between jobs."""
    while (item := queue.get()) is not None:
        job_id, work = item
        del item
        try:
            result, error = work(), None
        except BaseException as exc:  # noqa: BLE001 - delivered to on_error on the GUI thread
            result, error = None, exc
        del work
        try:
            report(job_id, result, error)  # only emits: never touch Qt objects here
        except RuntimeError:  # its window was deleted meanwhile: nobody left to tell
            log.debug("job %d finished after its window was deleted", job_id)
        del result, error
        idle.release()
    queue.put(None)  # pass the stop on to the next worker


_unstopped: list[_Workers] = []


@atexit.register
def _finish_running_work() -> None:
    """At interpreter exit, let work in flight finish (it is bounded by deadlines), as
    ``concurrent.futures`` does: an attempt already recorded gets its answer recorded.
    Exit handlers run while daemon threads still run."""
    while _unstopped:
        _unstopped.pop().stop()


class Jobs(QObject):
    """``submit(work, on_done, on_error)``: ``work()`` on a worker, callbacks on the GUI thread."""

    _finished = Signal(int, object, object)  # job id, result, exception
    idle = Signal()

    def __init__(self, workers: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers = _Workers(workers, self._finished.emit)
        self._stopped = False
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._ids = itertools.count(1)
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def submit(
        self, work: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> int:
        if self._stopped:
            raise RuntimeError("cannot submit work after shutdown")
        if not self._workers.threads:
            _unstopped.append(self._workers)
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error)
        self._workers.put(job_id, work)
        return job_id

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
        """Let running and queued work finish (it is bounded by deadlines) and stop the
        workers."""
        self._stopped = True
        if self._workers in _unstopped:
            _unstopped.remove(self._workers)
        self._workers.stop()
