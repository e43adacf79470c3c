"""The window's log file, set up after its first paint; nothing logged before it is lost.

``logsetup.configure_logging`` imports ``logging.handlers`` (with ``socket`` and ``pickle``):
about 30 million instructions, a twentieth of what the window's first paint costs. The
window holds its records in memory until then (``hold``) and, on a worker after the first
paint, sets up the log file and writes them to it (``write_held``); a start that fails
before that paint writes them at once. No record is printed to the terminal meanwhile.
"""

from __future__ import annotations

import logging
import threading

_LOGGER = "support_tool"
_lock = threading.Lock()


class HeldRecords(logging.Handler):
    """Keeps the records logged before the log file is set up."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.written = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if not self.written.is_set():  # once set, the log file's handler writes it itself
            self.records.append(record)


def hold() -> HeldRecords:
    """Keep the tool's records in memory until :func:`write_held` (every level: the level
    the log file takes is decided when it is set up)."""
    held = HeldRecords()
    logger = logging.getLogger(_LOGGER)
    logger.addHandler(held)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.DEBUG)
    return held


def write_held(held: HeldRecords) -> None:
    """Set up the log file (``configure_logging``) and write the held records to it, at its
    level; a second call does nothing. Disk work: not on the GUI thread after the paint."""
    from support_tool.config.logsetup import configure_logging

    with _lock:
        if held.written.is_set():
            return
        logger = logging.getLogger(_LOGGER)
        configure_logging()
        held.written.set()
        logger.removeHandler(held)
        held.acquire()  # the lock its emit() runs under
        try:
            records, held.records = held.records, []
        finally:
            held.release()
        level = logger.getEffectiveLevel()
        for record in records:
            if record.levelno >= level:
                logger.handle(record)
