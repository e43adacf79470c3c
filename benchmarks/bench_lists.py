"""Hostile lists: an endless or huge list must be refused early, in bounded memory.

``yes player-1 | head -c 1G | support-tool batch -`` once grew to 24 GB and was killed,
and a 60 MiB file of one repeated login took 70 s and 2.5 GB: every line was kept. The
reader now streams with bounds (bytes, lines, line length, invalid lines) and keeps one
entry per distinct terminal; these figures hold it to that.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import Figure

GIB = 1024 * 1024 * 1024
LINE = b"player-1\n"


def _feed(pipe: object, total: int) -> None:
    """Write ``total`` bytes of one repeated login, as ``yes | head -c`` does, until the
    reader stops reading (a refusal closes the pipe)."""
    chunk = LINE * (1024 * 1024 // len(LINE))
    sent = 0
    try:
        while sent < total:
            piece = chunk[: total - sent]
            pipe.write(piece)  # type: ignore[attr-defined]
            sent += len(piece)
    except (BrokenPipeError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError):
            pipe.close()  # type: ignore[attr-defined]


def _refuse(argv: list[str], env: dict[str, str], stdin_bytes: int) -> tuple[float, float, int]:
    """Seconds to exit, peak resident memory (MB) of the child, and its exit status."""
    start = time.perf_counter()
    child = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.PIPE if stdin_bytes else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    feeder = None
    if stdin_bytes:
        feeder = threading.Thread(target=_feed, args=(child.stdin, stdin_bytes), daemon=True)
        feeder.start()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if feeder is not None:
        feeder.join(10)
    return elapsed, usage.ru_maxrss / 1024, child.returncode  # Linux: ru_maxrss in KiB


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SUPPORT_TOOL_HOME": home}
        tool = [sys.executable, "-m", "support_tool", "--demo", "batch"]
        seconds, peak, status = _refuse([*tool, "-"], env, GIB)
        big = Path(home) / "one-login-60MiB.csv"
        with big.open("wb") as out:
            out.write(LINE * (60 * 1024 * 1024 // len(LINE)))
        file_s, file_peak, file_status = _refuse([*tool, str(big)], env, 0)
    return [
        Figure(
            "1 GiB of one login on standard input ('yes player-1 | head -c 1G'): refused in",
            seconds,
            "s",
            None,
            "< 5 s, exit 2",
            seconds < 5 and status == 2,
            f"exit status {status}; it once grew to 24 GB and was killed",
        ),
        Figure(
            "1 GiB of one login on standard input: peak resident memory",
            peak,
            "MB",
            None,
            "< 200 MB",
            peak < 200,
        ),
        Figure(
            "60 MiB file of one repeated login: refused in",
            file_s,
            "s",
            None,
            "< 5 s, exit 2",
            file_s < 5 and file_status == 2,
            f"peak {file_peak:.0f} MB, exit status {file_status}; it took 70 s and 2.5 GB",
        ),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
