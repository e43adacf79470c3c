"""``support-tool [--demo]`` with no command: the window, started from the command line.

Qt is imported only inside :func:`open_window`: the command line never loads it otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from support_tool.exit_status import ExitStatus


def arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """The parsed arguments of a plain start of the window (none, or ``--demo`` alone), as
    the parser would give them, without building it: its help texts' translation look-ups
    (gettext, locale) cost the window's start ~5 ms. None for anything else."""
    if list(argv) in ([], ["--demo"]):
        return argparse.Namespace(version=None, demo=bool(argv), command=None)
    return None


def load_core_before_qt(demo: bool) -> None:
    """Import the window's Qt-free modules before Qt itself, as they are needed before the
    first paint whichever way (PySide6's reading of their source once Qt is loaded is
    spared by ``gui.qt_scan``). Not the demo's embedded provider: it starts, and its HTTP
    server is imported, on a worker after the first paint (``ops.demo``); nor the audit
    store's modules: it opens on a worker after the first paint too."""
    import support_tool.ops.runtime  # noqa: F401 - profiles, keyring, close path


def open_window(demo: bool, qt_arguments: Sequence[str] = ()) -> int:
    """The window, its log file set up after its first paint (``config.log_later``): what
    is logged before is held until then, or until the window ends, whichever comes first."""
    from support_tool.config import log_later
    from support_tool.gui.preflight import window_problem

    held = log_later.hold()
    try:
        problem = window_problem(["support-tool", *qt_arguments])
        if problem:  # Qt would abort the process with a core dump instead
            print(problem, file=sys.stderr)
            return ExitStatus.CONFIG
        load_core_before_qt(demo)
        from support_tool.gui.app import run

        return run(demo=demo, qt_arguments=qt_arguments, held=held)
    finally:
        log_later.write_held(held)
