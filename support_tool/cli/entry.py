"""The process around the command line: ``main`` with this process's arguments, then an exit
that skips the interpreter's teardown (``support-tool`` and ``python -m support_tool``)."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

from support_tool.cli.commands import main


def exit_without_teardown(status: int) -> NoReturn:
    """End the command-line process as ``sys.exit(status)`` would, minus the interpreter's
    teardown: what must happen at exit still does (threads that are not daemons are
    waited for, ``atexit`` handlers run, which close the log, and standard output and error
    are flushed); freeing every module and object one by one does not. That teardown cost a
    ``close`` ~100 ms of CPU, a fifth of its whole run, for nothing the operator sees.
    Everything the tool writes (history, profiles, reports) is closed explicitly before."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed, or its reader went away
            stream.flush()
    os._exit(status)


def run() -> NoReturn:
    """The ``support-tool`` command (and ``python -m support_tool``): ``main`` with this
    process's arguments, then its exit."""
    status = main()
    if "PySide6" in sys.modules:
        sys.exit(status)  # the window ran: Qt's objects are taken down in their own order
    exit_without_teardown(status)
