"""Waiting on things outside this process (a child app, an X server), where no signal exists."""

from __future__ import annotations

import time
from collections.abc import Callable


def poll_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Check ``predicate`` every 50 ms until true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)  # another process: there is nothing in this one to wait on
