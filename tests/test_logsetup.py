"""The log file: one line per close, written cheaply (a batch writes one per row), rotated
at its size and kept private."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from support_tool.config import paths
from support_tool.config.logsetup import PrivateRotatingFileHandler, configure_logging


class CountingFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(message)s")
        self.calls = 0

    def format(self, record: logging.LogRecord) -> str:
        self.calls += 1
        return super().format(record)


@pytest.fixture
def handler(home: Path) -> Iterator[tuple[PrivateRotatingFileHandler, CountingFormatter]]:
    paths.ensure_dir(paths.log_dir())
    made = PrivateRotatingFileHandler(
        paths.log_file(), maxBytes=200, backupCount=2, encoding="utf-8", delay=True
    )
    formatter = CountingFormatter()
    made.setFormatter(formatter)
    yield made, formatter
    made.close()


def _record(text: str) -> logging.LogRecord:
    return logging.LogRecord("support_tool.test", logging.INFO, "", 0, text, None, None)


def test_each_line_is_formatted_once(
    handler: tuple[PrivateRotatingFileHandler, CountingFormatter],
) -> None:
    made, formatter = handler
    for n in range(5):
        made.handle(_record(f"close #{n} outcome=success"))
    assert formatter.calls == 5
    lines = paths.log_file().read_text(encoding="utf-8").splitlines()
    assert lines == [f"close #{n} outcome=success" for n in range(5)]


def test_the_log_rotates_at_its_size_counting_other_writers(
    handler: tuple[PrivateRotatingFileHandler, CountingFormatter],
) -> None:
    made, _ = handler
    made.handle(_record("first line"))
    with paths.log_file().open("a", encoding="utf-8") as other:  # another process's lines
        other.write("x" * 190 + "\n")
    made.handle(_record("after the other writer"))
    rotated = paths.log_file().with_name("support-tool.log.1")
    assert rotated.read_text(encoding="utf-8").startswith("first line\n")
    assert paths.log_file().read_text(encoding="utf-8") == "after the other writer\n"
    for path in (rotated, paths.log_file()):
        assert stat.S_IMODE(path.stat().st_mode) == paths.PRIVATE_FILE


def test_configured_logging_writes_each_close_line(home: Path) -> None:
    configure_logging()
    root = logging.getLogger("support_tool")
    try:
        logging.getLogger("support_tool.ops.close").info("close #%d outcome=%s", 7, "success")
    finally:
        for old in [h for h in root.handlers if getattr(h, "_support_tool", None)]:
            root.removeHandler(old)
            old.close()
    text = paths.log_file().read_text(encoding="utf-8")
    assert " INFO support_tool.ops.close: close #7 outcome=success\n" in text
