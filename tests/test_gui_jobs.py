"""The window's worker pool (``gui.jobs``): plain threads, started with the first job, with
the behaviour the window relies on (issue 15 replaced ``concurrent.futures`` under it)."""

from __future__ import annotations

import functools
import threading

import pytest
from pytestqt.qtbot import QtBot

from support_tool.gui.jobs import Jobs
from tests.polling import poll_until


def _job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("support-tool-job")]


def test_no_worker_starts_before_the_first_job_and_no_more_than_asked(qtbot: QtBot) -> None:
    before = len(_job_threads())
    jobs = Jobs(workers=2)
    assert len(_job_threads()) == before  # built before the first paint: no thread yet
    release = threading.Event()
    results: list[int] = []

    def held(n: int) -> int:
        release.wait(10)
        return n

    for n in range(5):
        jobs.submit(functools.partial(held, n), results.append)
    assert len(jobs._workers.threads) == 2
    release.set()
    qtbot.waitUntil(lambda: jobs.pending == 0)
    assert sorted(results) == [0, 1, 2, 3, 4]
    jobs.shutdown()
    assert not any(t.is_alive() for t in jobs._workers.threads)


def test_results_and_errors_arrive_on_the_gui_thread_and_idle_follows(qtbot: QtBot) -> None:
    jobs = Jobs()
    seen: list[tuple[str, object, bool]] = []
    gui = threading.current_thread()

    def fail() -> None:
        raise ValueError("no such profile")

    with qtbot.waitSignal(jobs.idle):
        jobs.submit(
            lambda: threading.current_thread() is not gui,
            lambda r: seen.append(("done", r, threading.current_thread() is gui)),
        )
        jobs.submit(fail, None, lambda e: seen.append(("error", str(e), True)))
    assert ("done", True, True) in seen  # ran on a worker, delivered on the GUI thread
    assert ("error", "no such profile", True) in seen
    jobs.shutdown()


def test_shutdown_waits_for_running_and_queued_work(qtbot: QtBot) -> None:
    jobs = Jobs(workers=1)
    done: list[str] = []

    def slow() -> None:  # still running when shutdown() is called
        poll_until(lambda: jobs._stopped, 10, "shutdown to be called")
        done.append("slow")

    jobs.submit(slow)
    jobs.submit(lambda: done.append("queued"))
    jobs.shutdown()  # returns only once both have run
    assert done == ["slow", "queued"]
    with pytest.raises(RuntimeError):
        jobs.submit(lambda: None)


def test_a_job_finishing_after_its_window_is_deleted_leaves_the_worker_serving(
    qtbot: QtBot,
) -> None:
    """Nobody is left to tell: the worker says so in the log and goes on (an uncaught error
    there would end the thread, and work queued behind it would never run)."""
    from shiboken6 import Shiboken

    jobs = Jobs(workers=1)
    workers = jobs._workers
    go = threading.Event()
    jobs.submit(lambda: go.wait(10))
    Shiboken.delete(jobs)  # as a window's are, with the window
    go.set()
    ran = threading.Event()
    workers.queue.put((2, ran.set))  # the same worker takes the next job
    assert ran.wait(10)
    workers.stop()
