"""The command line: argument parsing and printing only; the work is done in ``ops``."""

from support_tool.cli.commands import main
from support_tool.cli.entry import run

__all__ = ["main", "run"]
