"""Logging to a rotating file in the log folder; never the secret (it never reaches a logger).

The log folder is created 0700 and each log file 0600 (see ``paths``). A log record must
never stop or clutter the tool: text that is not UTF-8 is written as escapes, and a failing
handler is silent (``logging.raiseExceptions``) instead of printing a traceback to stderr.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from io import TextIOWrapper
from pathlib import Path
from typing import cast

from support_tool.config import paths

LEVEL_ENV = "SUPPORT_TOOL_LOG_LEVEL"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0600, the first and every rotated one.

    Every close writes a line, so a batch writes one per row: the base class formats each
    record twice (once to ask whether it fits, once to write it) and stats the file twice
    per line, about 65 µs a line here. This one formats once and asks the open file its
    size (one ``fstat``, so lines written by another process still count toward rotation).
    """

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, paths.PRIVATE_FILE)
        paths.narrow(Path(self.baseFilename))
        return cast(TextIOWrapper, open(fd, self.mode, encoding=self.encoding, errors=self.errors))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
            if self.maxBytes > 0:
                self.stream.flush()
                if os.fstat(self.stream.fileno()).st_size + len(line) >= self.maxBytes:
                    self.doRollover()
            if self.stream is None:  # doRollover leaves it closed while ``delay`` is set
                self.stream = self._open()
            self.stream.write(line)
            self.stream.flush()
        except Exception:  # noqa: BLE001 - as logging does: a log line never stops the tool
            self.handleError(record)


def configure_logging() -> None:
    """Send the tool's log records to ``support-tool.log``; a broken log folder is not fatal."""
    logging.raiseExceptions = False
    # No line of ours names its source file, line or process: without these every record
    # walks the stack and asks for the process (a tenth of a batch row's log line).
    logging._srcfile = None
    logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger("support_tool")
    path = paths.log_file()
    for old in [h for h in root.handlers if getattr(h, "_support_tool", None) is not None]:
        if old._support_tool == path:  # type: ignore[attr-defined]
            return
        root.removeHandler(old)
        old.close()
    level = os.environ.get(LEVEL_ENV, "INFO").upper()
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    try:
        paths.ensure_dir(path.parent)
        handler: logging.Handler = PrivateRotatingFileHandler(
            path,
            maxBytes=1_000_000,
            backupCount=5,
            encoding="utf-8",
            delay=True,
            errors="backslashreplace",
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._support_tool = path  # type: ignore[attr-defined]
    root.addHandler(handler)
