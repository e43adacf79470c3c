"""Logging to a rotating file in the log folder; never the secret (it never reaches a logger)."""

from __future__ import annotations

import logging
import logging.handlers
import os

from support_tool.config import paths

LEVEL_ENV = "SUPPORT_TOOL_LOG_LEVEL"


def configure_logging() -> None:
    """Send the tool's log records to ``support-tool.log``; a broken log folder is not fatal."""
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
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=5, encoding="utf-8", delay=True
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._support_tool = path  # type: ignore[attr-defined]
    root.addHandler(handler)
