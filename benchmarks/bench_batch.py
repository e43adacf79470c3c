"""Batch figures: 1,000 closes at concurrency 8 against 20 ms latency, and flat memory.

The ideal is 1,000 x 20 ms / 8 = 2.5 s. A bare ``requests`` client with eight threads
against the same sandbox process is measured too, so the table shows how much of the gap
to the ideal is this machine (two processes sharing two cores) and how much is the tool.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from benchmarks.common import Figure, Paired, load_average, paired, sandbox_process
from support_tool.audit.log import AuditLog
from support_tool.config.logsetup import configure_logging
from support_tool.config.profiles import ProfileSet, make_profile
from support_tool.config.secret_store import MemorySecrets
from support_tool.ops.batch import BatchRun
from support_tool.ops.batch_summary import BatchOptions
from support_tool.ops.close import CloseService
from support_tool.ops.terminals import Terminal
from support_tool.provider.request import CloseRequest, SignedRequest, build_signed

LOGINS = 1000
CONCURRENCY = 8
LATENCY_MS = 20
IDEAL_S = LOGINS * LATENCY_MS / 1000 / CONCURRENCY
MEMORY_LIST = 100_000
BATCH_WALL_TARGET = 1.1  # × the bare client (issue 15)
RUNS = 5
BATCH_CPU_TARGET = 1.25


def _terminals(count: int) -> list[Terminal]:
    return [Terminal(f"terminal-{(n % 1000) + 1:04d}") for n in range(count)]


def _signed(url: str, secret: str) -> list[SignedRequest]:
    return [
        build_signed(url, CloseRequest.from_input(t.login, None, False), secret)
        for t in _terminals(LOGINS)
    ]


def _in_threads(
    worker: Callable[[list[SignedRequest]], None], signed: list[SignedRequest]
) -> float:
    """Seconds for CONCURRENCY threads, each running ``worker`` over its share of ``signed``."""
    threads = [
        threading.Thread(target=worker, args=(signed[k::CONCURRENCY],)) for k in range(CONCURRENCY)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def _bare(url: str, secret: str) -> float:
    """Eight threads, each with its own Session, posting the same signed requests."""
    headers = {"Content-Type": "application/json"}

    def worker(share: list[SignedRequest]) -> None:
        session = requests.Session()
        for s in share:
            session.post(s.url, params=s.query, data=s.body_bytes, headers=headers).json()

    return _in_threads(worker, _signed(url, secret))


def _bare_durable(url: str, secret: str, folder: str) -> float:
    """The bare client plus the one thing no audited close can skip: a row committed
    durably (SQLite, WAL, synchronous=FULL, one connection shared under a lock, as the
    tool's store) before each request, its answer riding with the next commit (as the
    tool's do). No seal, no derived data, no log: the floor under the trail's own cost."""
    headers = {"Content-Type": "application/json"}
    db = sqlite3.connect(
        Path(folder) / "floor.sqlite3", check_same_thread=False, isolation_level=None
    )
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    lock = threading.Lock()
    answers: list[tuple[str]] = []  # ride with the next commit, as the tool's do

    def worker(share: list[SignedRequest]) -> None:
        session = requests.Session()
        for s in share:
            with lock, db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT INTO rows (body) VALUES (?)", answers)
                answers.clear()
                db.execute("INSERT INTO rows (body) VALUES (?)", (s.body_bytes.decode(),))
            answer = session.post(s.url, params=s.query, data=s.body_bytes, headers=headers)
            with lock:
                answers.append((answer.text,))

    seconds = _in_threads(worker, _signed(url, secret))
    with db:
        db.executemany("INSERT INTO rows (body) VALUES (?)", answers)
    db.close()
    return seconds


def _service(url: str, secret: str, folder: str) -> CloseService:
    store = AuditLog(Path(folder) / "history.sqlite3")
    profiles = ProfileSet((make_profile("bench", url),), "bench")
    return CloseService(lambda: profiles, MemorySecrets({"bench": secret}), store)


def _timed(measure: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (every thread's, user + system)."""
    cpu, wall = time.process_time(), time.perf_counter()
    measure()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(runs: int = RUNS) -> list[Figure]:
    """The tool's batch and the bare client, alternating, against one sandbox process;
    logging set up as the command line does (every close writes its log line)."""
    with (
        sandbox_process("--latency-ms", str(LATENCY_MS)) as (url, secret),
        tempfile.TemporaryDirectory() as folder,
    ):
        os.environ["SUPPORT_TOOL_HOME"] = folder
        configure_logging()
        service = _service(url, secret, folder)

        def tool() -> None:
            summary = BatchRun(
                service, _terminals(LOGINS), BatchOptions(concurrency=CONCURRENCY)
            ).run()
            assert summary.succeeded == LOGINS, summary.counts_text()

        BatchRun(service, _terminals(50), BatchOptions(concurrency=CONCURRENCY)).run()
        rounds = paired(
            runs,
            {
                "tool": lambda: _timed(tool),
                "bare": lambda: _timed(lambda: _bare(url, secret)),
                "durable": lambda: _timed(lambda: _bare_durable(url, secret, folder)),
            },
            floor="bare",
        )
        service.close_all()
        service.history.close()
    load = load_average()
    tool_s, bare_s = rounds.median("tool"), rounds.median("bare")
    wall, cpu = rounds.ratio("tool"), rounds.ratio("tool", cpu=True)
    durable = Paired(rounds.wall, rounds.cpu, "durable")
    return [
        Figure(
            f"{LOGINS:,}-login batch, concurrency {CONCURRENCY}, {LATENCY_MS} ms latency: wall "
            "time vs a bare 8-thread requests client (same signed requests, same provider)",
            tool_s,
            "s",
            bare_s,
            f"≤ {BATCH_WALL_TARGET}×",
            wall <= BATCH_WALL_TARGET,
            f"{rounds.spread('tool')}; ideal {IDEAL_S:.1f} s (the tool {tool_s / IDEAL_S:.2f}×, "
            f"the bare client {bare_s / IDEAL_S:.2f}×); {load}",
            paired_ratio=wall,
        ),
        Figure(
            "the same batch: CPU time (user + system, all threads) vs the bare client",
            rounds.median("tool", cpu=True),
            "s",
            rounds.median("bare", cpu=True),
            f"≤ {BATCH_CPU_TARGET}×",
            cpu <= BATCH_CPU_TARGET,
            f"every attempt committed before its request, answers group-committed; {load}",
            paired_ratio=cpu,
        ),
        Figure(
            "the same batch: CPU time vs the bare client that also commits a row durably "
            "before each request (what no audited close can skip)",
            rounds.median("tool", cpu=True),
            "s",
            rounds.median("durable", cpu=True),
            "– (how much the trail's seals, derived data and log add)",
            None,
            f"the durable floor is {durable.ratio('bare', cpu=True) ** -1:.2f}× the bare "
            f"client's CPU; {load}",
            paired_ratio=durable.ratio("tool", cpu=True),
        ),
    ]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def memory(closes: int = 20_000) -> list[Figure]:
    """Peak RSS over a 100,000-login batch: after the first quarter of ``closes`` (SQLite's
    page cache and the WAL have warmed up by then) and after all of them; the difference
    is what the batch grows per row, which must be nothing."""
    with sandbox_process() as (url, secret), tempfile.TemporaryDirectory() as folder:
        service = _service(url, secret, folder)
        terminals = _terminals(MEMORY_LIST)
        run = BatchRun(service, terminals, BatchOptions(concurrency=CONCURRENCY))
        run.start()
        warm = closes // 4
        while run.progress().done < warm:
            time.sleep(0.05)
        early = _peak_rss_mb()
        while run.progress().done < closes:
            time.sleep(0.05)
        late = _peak_rss_mb()
        run.cancel()
        run.wait()
        service.close_all()
        service.history.close()
    growth = late - early
    per_10k = growth / (closes - warm) * 10_000
    return [
        Figure(
            f"peak memory growth during a {MEMORY_LIST:,}-login batch "
            f"(closes {warm:,} → {closes:,})",
            growth,
            "MB",
            None,
            "flat (< 2 MB)",
            growth < 2,
            f"peak RSS {early:.0f} MB after {warm:,} closes, {late:.0f} MB after {closes:,} "
            f"({per_10k:.2f} MB per 10,000 rows)",
        )
    ]


# Where a row's CPU goes, by the function each part enters through (cumulative time of
# those calls on the worker threads; requests is what the bare client pays too).
PROFILE_PARTS = (
    ("requests (send, receive, parse: the floor pays this too)", "sessions.py", "request"),
    ("audit store: the attempt (seal, insert, derived items, commit)", "log.py", "begin"),
    (
        "  of which the filter keys and search index caught up in bulk (each 1,024 events)",
        "log.py",
        "_catch_up",
    ),
    ("audit store: queueing the answer", "log.py", "finish"),
    ("  of which SQLite statements (events, indexes, triggers)", "~", "execute"),
    ("  of which SQLite commits (WAL write + fsync)", "~", "__exit__"),
    ("the per-row log line", "__init__.py", "_log"),
    ("signing", "request.py", "build_signed"),
    ("interpreting the answer", "interpret.py", "interpret_http"),
)


def profile(logins: int = LOGINS) -> str:
    """One batch with every worker thread under cProfile (per-thread CPU clock): the
    per-row CPU of each part (``python -m benchmarks.bench_batch --profile``). cProfile's
    own overhead inflates Python-heavy parts about threefold; compare parts, not totals."""
    import cProfile
    import pstats

    profiles: list[cProfile.Profile] = []
    work = BatchRun._work

    def profiled(self: BatchRun) -> None:
        profiler = cProfile.Profile(time.thread_time)
        profiles.append(profiler)
        profiler.runcall(work, self)

    with (
        sandbox_process("--latency-ms", str(LATENCY_MS)) as (url, secret),
        tempfile.TemporaryDirectory() as folder,
    ):
        os.environ["SUPPORT_TOOL_HOME"] = folder
        configure_logging()
        service = _service(url, secret, folder)
        BatchRun(service, _terminals(50), BatchOptions(concurrency=CONCURRENCY)).run()
        BatchRun._work = profiled  # type: ignore[method-assign]
        try:
            BatchRun(service, _terminals(logins), BatchOptions(concurrency=CONCURRENCY)).run()
        finally:
            BatchRun._work = work  # type: ignore[method-assign]
        service.close_all()
        service.history.close()
    stats = pstats.Stats(*profiles)  # type: ignore[arg-type]
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    lines = [f"per-row CPU of {logins:,} rows (cProfile, worker threads):"]
    total = sum(entry[2] for entry in table.values())
    lines.append(f"  {total * 1000 / logins:6.3f} ms  everything on the worker threads")
    for label, file, function in PROFILE_PARTS:
        spent = sum(
            entry[3]
            for (path, _, name), entry in table.items()
            if (path.endswith(file) and name == function)
            or (file == "~" and f"'{function}' of 'sqlite3.Connection'" in name)
        )
        lines.append(f"  {spent * 1000 / logins:6.3f} ms  {label}")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--profile" in sys.argv:
        print(profile())
    else:
        for figure in run():
            print(f"{figure.name}: {figure.value:.2f} s vs {figure.baseline} s; {figure.note}")
