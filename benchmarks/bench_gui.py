"""Window figures: cold start, a million-row history, and event-loop stalls."""

from __future__ import annotations

import functools
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import Figure, children_cpu_since, load_average, paired

if TYPE_CHECKING:
    from support_tool.audit.log import AuditLog

STARTS = 15
HISTORY_ROWS = 1_000_000
WINDOW_TARGET = 1.15  # × the same first-screen widgets laid out with no tool code (issue 15)


def _cold_start(mode: str, home: str) -> tuple[float, float]:
    """Start to first paint: wall seconds, and the child's CPU seconds (it exits there)."""
    env = {**os.environ, "SUPPORT_TOOL_HOME": home, "QT_QPA_PLATFORM": "offscreen"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.gui_child", mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    elapsed = time.perf_counter() - start
    child.wait(timeout=30)
    assert line.strip() == "painted", f"{mode}: {line!r} (the form must be live at first paint)"
    return elapsed, children_cpu_since(before)


def _configured_home(home: str) -> None:
    """A desk's configuration: one saved profile (its secret is read only when a close is
    sent, after the first paint), and a history that already holds a close."""
    from support_tool.audit.log import AuditLog
    from support_tool.config.profiles import ProfileSet, ProfileStore, make_profile
    from support_tool.provider.outcome import CloseResult, Outcome

    store = ProfileStore(Path(home) / "profiles.toml")
    store.save(ProfileSet((make_profile("live", "https://api.provider.example"),), "live"))
    history = AuditLog(Path(home) / "history.sqlite3")
    row = history.begin(
        profile="live",
        api_host="api.provider.example",
        login="player-001",
        game_id=None,
        clear_history=False,
        reason="",
        batch_id=None,
    )
    history.finish(row, CloseResult(Outcome.SUCCESS, "Success"))
    history.close()


def cold_start(runs: int = STARTS) -> list[Figure]:
    """First paint of the live Close session form, against the floor: the same widgets laid
    out by a script with no tool code. Paired and interleaved in one run."""
    with tempfile.TemporaryDirectory() as home:
        _configured_home(home)
        runs_ = paired(
            runs,
            {mode: functools.partial(_cold_start, mode, home) for mode in MODES},
            floor="widgets",
        )
    load = load_average()
    floor_ms = runs_.median("widgets") * 1000

    def figure(mode: str, name: str) -> Figure:
        ratio = runs_.ratio(mode)
        return Figure(
            name,
            runs_.median(mode) * 1000,
            "ms",
            floor_ms,
            f"≤ {WINDOW_TARGET}×",
            ratio <= WINDOW_TARGET,
            f"{runs_.spread(mode)}; {load}",
            paired_ratio=ratio,
        )

    return [
        figure(
            "app",
            "window start to first paint of the live Close session form (saved profile) "
            "vs the same first-screen widgets with no tool code",
        ),
        figure("demo", "the same with --demo (embedded sandbox provider)"),
        replace(
            figure("bare", "for scale: a bare PySide6 QMainWindow vs the same widgets"),
            target="informational",
            met=True,
        ),
    ]


MODES = ("widgets", "app", "demo", "bare")


def _wait(app, condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not condition():
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark condition not reached")


def verify_figure(store: AuditLog, rows: int) -> Figure:
    """``history verify`` of the whole trail (two events per action), wall time: what an
    operator waits for, with the check split over this machine's cores."""
    start = time.perf_counter()
    report = store.verify()
    seconds = time.perf_counter() - start
    assert report.ok, report.problem
    return Figure(
        f"history with {rows:,} actions ({report.checked:,} events): full verify",
        seconds * 1000,
        "ms",
        None,
        "< 3,000 ms",
        seconds < 3,
        f"{os.cpu_count()} cores; seals checked in parallel seq ranges",
    )


def in_process(rows: int = HISTORY_ROWS) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from support_tool.audit.log import AuditLog
    from support_tool.gui.history_view import HistoryView
    from support_tool.gui.jobs import Jobs
    from tests.history_seed import seed_history

    app = QApplication.instance() or QApplication([])
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.sqlite3"
        seed_history(path, rows)
        store = AuditLog(path)
        jobs = Jobs()

        def painted(view: HistoryView) -> float:
            """Rows arrived: paint them now, synchronously, and note when that is done."""
            _wait(app, lambda: not view.model.busy and view.model.rowCount() > 0)
            view.table.viewport().repaint()
            return time.perf_counter()

        opened = []
        for _ in range(3):
            start = time.perf_counter()
            view = HistoryView(store, jobs)
            view.resize(1000, 700)
            view.show()
            opened.append(painted(view) - start)
            view.close()
        open_ms = statistics.median(opened) * 1000
        figures.append(
            Figure(
                f"history with {rows:,} rows: open to first painted rows",
                open_ms,
                "ms",
                None,
                "< 300 ms",
                open_ms < 300,
            )
        )

        view = HistoryView(store, jobs)
        view.resize(1000, 700)
        view.show()
        painted(view)
        filtered = []
        for text in ("terminal-0000007", f"terminal-{rows // 2:07d}", "Round not found"):
            start = time.perf_counter()
            view.search.setText(text)
            view.apply_filter()
            filtered.append(painted(view) - start)
        worst = max(filtered) * 1000
        figures.append(
            Figure(
                f"history with {rows:,} rows: filter to painted result (worst of 3)",
                worst,
                "ms",
                None,
                "< 150 ms",
                worst < 150,
                "worst case of three searches, one of them matching a single old row",
            )
        )
        figures.append(verify_figure(store, rows))
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures.append(
            Figure(
                f"history with {rows:,} rows: peak resident memory",
                rss_mb,
                "MB",
                None,
                "< 250 MB",
                rss_mb < 250,
            )
        )
        view.close()
        jobs.shutdown()
        store.close()

    figures.append(_stall_while_hanging(lambda cond, t=30.0: _wait(app, cond, t)))
    figures.append(_stall_during_batch(lambda cond, t=60.0: _wait(app, cond, t)))
    return figures


def _longest_gap(wait, duration_s: float, during=None, until=None) -> float:  # type: ignore[no-untyped-def]
    """Longest gap between ticks of a 5 ms timer: how long the event loop was stuck."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    if during:
        during()
    end = time.perf_counter() + duration_s
    wait(until or (lambda: time.perf_counter() > end), duration_s + 5)
    timer.stop()
    return max(b - a for a, b in itertools.pairwise(ticks)) * 1000


def _stall_during_batch(wait) -> Figure:  # type: ignore[no-untyped-def]
    """The Terminals tab running 1,000 closes at concurrency 8 against a sandbox process
    with 20 ms latency (a separate process, as a real provider would be)."""
    from benchmarks.common import sandbox_process
    from support_tool.config.profiles import ProfileSet, make_profile
    from support_tool.gui.main_window import MainWindow
    from support_tool.ops.runtime import DEMO_PROFILE, open_runtime
    from support_tool.ops.terminals import Terminal

    with (
        tempfile.TemporaryDirectory() as home,
        sandbox_process("--latency-ms", "20") as (url, secret),
    ):
        os.environ["SUPPORT_TOOL_HOME"] = home
        with open_runtime(demo=True) as runtime:
            runtime.profiles.save(ProfileSet((make_profile(DEMO_PROFILE, url),), DEMO_PROFILE))
            runtime.secrets.set(DEMO_PROFILE, secret)
            window = MainWindow(runtime)
            window.show()
            wait(lambda: window.terminals is not None and window.terminals.profile.count() > 0)
            tab = window.terminals
            assert tab is not None
            window.tabs.setCurrentWidget(tab)
            idle = _longest_gap(wait, 1.0)
            terminals = [Terminal(f"terminal-{n:04d}") for n in range(1, 1001)]

            def start() -> None:
                tab.concurrency.setValue(8)
                tab.start(terminals, [], tab.options())

            busy = _longest_gap(wait, 60.0, start, lambda: tab.summary is not None)
            assert tab.summary is not None
            assert tab.summary.succeeded == 1000
            elapsed = tab.summary.elapsed_s
            window.close()
    return Figure(
        "longest event-loop stall while the window runs a 1,000-login batch "
        "(idle loop as baseline)",
        busy,
        "ms",
        idle,
        "< 50 ms",
        busy < 50,
        f"the batch took {elapsed:.2f} s in the window (ideal 2.5 s)",
    )


def _stall_while_hanging(wait) -> Figure:  # type: ignore[no-untyped-def]
    from support_tool.gui.main_window import MainWindow
    from support_tool.ops.runtime import open_runtime

    def longest_gap(duration_s: float, during=None) -> float:  # type: ignore[no-untyped-def]
        return _longest_gap(wait, duration_s, during)

    with tempfile.TemporaryDirectory() as home:
        os.environ["SUPPORT_TOOL_HOME"] = home
        with open_runtime(demo=True) as runtime:
            assert runtime.sandbox is not None
            runtime.sandbox.fault = "hang"
            window = MainWindow(runtime)
            window.show()
            wait(lambda: window.form.profile.count() > 0)
            idle = longest_gap(1.0)

            def submit() -> None:
                window.form.login.setText("player-001")
                window.form.submit()

            busy = longest_gap(2.0, submit)
            runtime.sandbox.stopping.set()
            wait(lambda: not window.in_flight, 30)
            window.close()
    return Figure(
        "longest event-loop stall while a request hangs (idle loop as baseline)",
        busy,
        "ms",
        idle,
        "< 50 ms",
        busy < 50,
    )
