"""Shared pieces: figures, medians, and a sandbox provider in its own process."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass


@dataclass
class Figure:
    """One measured figure against its same-run baseline (or a fixed target)."""

    name: str
    value: float
    unit: str
    baseline: float | None
    target: str
    met: bool | None  # None: a figure shown for understanding, with no target
    note: str = ""
    paired_ratio: float | None = None  # median of per-round ratios, where runs were paired

    @property
    def ratio(self) -> float | None:
        if self.paired_ratio is not None:
            return self.paired_ratio
        return self.value / self.baseline if self.baseline else None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def median_of(runs: int, measure: Callable[[], float], warmup: int = 1) -> float:
    for _ in range(warmup):
        measure()
    return statistics.median(measure() for _ in range(runs))


@dataclass
class Paired:
    """Runs of several commands, interleaved; each run's time against the floor's own in
    the same round, so that a busy moment moves both alike. Wall time is what the targets
    are about; the CPU time of each child (user + system) is kept beside it, since on a
    loaded machine it says what the program itself cost with far less noise."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    floor: str

    def median(self, name: str, cpu: bool = False) -> float:
        return statistics.median((self.cpu if cpu else self.wall)[name])

    def ratios(self, name: str, cpu: bool = False) -> list[float]:
        times = self.cpu if cpu else self.wall
        return sorted(a / b for a, b in zip(times[name], times[self.floor], strict=True))

    def ratio(self, name: str, cpu: bool = False) -> float:
        """The median of the paired ratios (what the targets are checked against)."""
        return statistics.median(self.ratios(name, cpu))

    def spread(self, name: str) -> str:
        """The wall ratio's middle half and range, and the CPU ratio."""
        r = self.ratios(name)
        return (
            f"paired wall ratio {self.ratio(name):.2f}× (middle half {r[len(r) // 4]:.2f}–"
            f"{r[(3 * len(r)) // 4]:.2f}×, range {r[0]:.2f}–{r[-1]:.2f}×, {len(r)} rounds); "
            f"CPU {self.median(name, cpu=True) * 1000:.0f} ms vs "
            f"{self.median(self.floor, cpu=True) * 1000:.0f} ms, paired ratio "
            f"{self.ratio(name, cpu=True):.2f}×"
        )


def timed_child(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command to its end: (wall seconds, its CPU seconds, user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    return wall, children_cpu_since(before)


def children_cpu_since(before: resource.struct_rusage) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def paired(runs: int, measures: dict[str, Callable[[], tuple[float, float]]], floor: str) -> Paired:
    """Each measure (returning wall and CPU seconds) ``runs`` times after one warm-up each,
    in rounds that alternate their order, so that neither side always runs first."""
    for measure in measures.values():
        measure()
    names = list(measures)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        for name in names if round_ % 2 == 0 else reversed(names):
            seconds, cpu_seconds = measures[name]()
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
    return Paired(wall, cpu, floor)


def load_average() -> str:
    """The machine's load, said with each figure: the timings are only as quiet as it."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


@contextmanager
def sandbox_process(*extra: str) -> Iterator[tuple[str, str]]:
    """``support-tool sandbox`` in a child process; yields (url, secret)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "support_tool", "sandbox", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": os.environ.get("SUPPORT_TOOL_HOME", "")},
    )
    assert process.stdout is not None
    url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
    secret = process.stdout.readline().split(":", 1)[1].strip()
    try:
        yield url, secret
    finally:
        process.terminate()
        process.wait(timeout=10)
