"""``python -m benchmarks.verify_floor [--actions N] [--runs R] [--keep PATH]``: full verify
against its floor.

The floor is the least any verifier of this format can do: read every event's stored seal
and sealed bytes (SQLite builds them, ``TAIL``) and hash them, split over the same two
processes, nothing else (no types, gaps, links, pages or head). It reads with verify's own
``TAIL``, so a cheaper read lowers both. Both are timed alternately in one run, so a loaded
machine slows both alike; the ratio is what verify costs on top.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from support_tool.audit.check import TAIL
from support_tool.audit.events import GENESIS


def floor_range(uri: str, lo: int, hi: int) -> bool:
    """Read and hash events ``lo``…``hi``: the plainest loop there is."""
    db = sqlite3.connect(uri, uri=True)
    db.text_factory = bytes
    row = db.execute("SELECT seal FROM events WHERE seq = ?", (lo - 1,)).fetchone()
    previous = row[0] if row else GENESIS
    sha256 = hashlib.sha256
    for seal, tail in db.execute(
        f"SELECT seal, {TAIL} FROM events WHERE seq BETWEEN ? AND ?",  # noqa: S608
        (lo, hi),
    ):
        if sha256(previous + tail).digest() != seal:
            return False
        previous = seal
    db.close()
    return True


def floor(uri: str, last: int) -> bool:
    """Half here, half in one spawned worker, as verify shares its work on two cores."""
    half = last // 2
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        other = pool.submit(floor_range, uri, half + 1, last)
        return floor_range(uri, 1, half) and other.result()


def measure(path: Path, runs: int) -> None:
    from support_tool.audit.log import AuditLog

    uri = f"{path.resolve().as_uri()}?mode=ro"
    verify_s: list[float] = []
    floor_s: list[float] = []
    loads: list[str] = []
    with AuditLog(path) as store:
        for _ in range(runs):
            loads.append(f"{os.getloadavg()[0]:.1f}")
            start = time.perf_counter()
            report = store.verify()
            verify_s.append(time.perf_counter() - start)
            assert report.ok, report.problem
            start = time.perf_counter()
            assert floor(uri, report.checked)
            floor_s.append(time.perf_counter() - start)
    v, f = statistics.median(verify_s), statistics.median(floor_s)
    print(f"{report.checked:,} events, {os.cpu_count()} cores, 1-min load average {loads}")
    print(f"verify: median {v:.2f} s  {[round(x, 2) for x in verify_s]}")
    print(f"floor:  median {f:.2f} s  {[round(x, 2) for x in floor_s]}")
    print(f"verify / floor: {v / f:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.verify_floor")
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--history", type=Path, help="an existing history file to use")
    parser.add_argument(
        "--keep", type=Path, help="seed --actions into this file unless it exists, and keep it"
    )
    args = parser.parse_args()
    from tests.history_seed import seed_history

    if args.keep and not args.keep.exists():  # seeding a million actions takes minutes
        seed_history(args.keep, args.actions)
    if args.history or args.keep:
        measure(args.history or args.keep, args.runs)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.sqlite3"
        seed_history(path, args.actions)
        measure(path, args.runs)


if __name__ == "__main__":
    main()
