"""Shared pieces: figures, medians, and a sandbox provider in its own process."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
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
    met: bool
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def median_of(runs: int, measure: Callable[[], float], warmup: int = 1) -> float:
    for _ in range(warmup):
        measure()
    return statistics.median(measure() for _ in range(runs))


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
