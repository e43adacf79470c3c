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
    """A rotating log whose files are created 0600, the first and every rotated one."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, paths.PRIVATE_FILE)
        paths.narrow(Path(self.baseFilename))
        return cast(TextIOWrapper, open(fd, self.mode, encoding=self.encoding, errors=self.errors))


def configure_logging() -> None:
    """Send the tool's log records to ``support-tool.log``; a broken log folder is not fatal."""
    logging.raiseExceptions = False
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
