"""A command-line close loads what a close needs and nothing else (issue 15: start-up close
to the floor). Each module kept out is import time an operator no longer waits for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CliRunner

# Run exactly as ``python -m support_tool close ...`` does (``__main__`` included), then
# list what was loaded.
_PROBE = """
import atexit, runpy, sys
atexit.register(lambda: print("\\n".join(sorted(sys.modules)), flush=True))
sys.argv = ["support-tool", *sys.argv[1:]]
runpy.run_module("support_tool", run_name="__main__")
"""

NOT_FOR_A_CLOSE = (
    "PySide6",  # the window
    "shiboken6",
    "support_tool.gui",
    "support_tool.sandbox",  # the embedded provider (only --demo and `sandbox`)
    "support_tool.spreadsheet",  # CSV export
    "psycopg",  # the team store's driver
    "support_tool.audit.team",
    "support_tool.ops.batch",  # batches and their list reader
    "support_tool.ops.terminals",
    "support_tool.cli.batch",  # other commands
    "support_tool.cli.history",
    "support_tool.cli.audit",
    "support_tool.cli.profiles",
    "support_tool.cli.sandbox",
    "platformdirs",  # SUPPORT_TOOL_HOME names the folder
)


def _loaded(home: Path, *args: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.split()


@pytest.mark.keyring
def test_a_close_imports_only_what_a_close_needs(
    home: Path, sandbox_profile: str, cli: CliRunner
) -> None:
    loaded = _loaded(home, "close", "player-001")
    assert "support_tool.provider.transport" in loaded  # it did send
    assert [m for m in loaded if m.startswith(NOT_FOR_A_CLOSE)] == []
    history = cli("history", "--json")
    assert history.out.count('"outcome": "success"') == 1  # and recorded it


def test_python_m_support_tool_loads_no_multiprocessing_of_its_own(home: Path) -> None:
    """``freeze_support`` matters only in the frozen app; ``--version`` opens no history,
    so nothing else brings multiprocessing in."""
    loaded = _loaded(home, "--version")
    assert "multiprocessing" not in loaded


def test_help_and_a_mistyped_command_still_list_every_command(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The parser is built for the one command that runs; help and mistakes get them all."""
    from support_tool.cli.commands import COMMAND_MODULES, main

    with pytest.raises(SystemExit) as help_exit:
        main(["--help"])
    assert help_exit.value.code == 0
    listed = capsys.readouterr().out
    assert all(f"    {name} " in listed for name in COMMAND_MODULES)
    with pytest.raises(SystemExit) as typo_exit:
        main(["clsoe", "player-001"])
    assert typo_exit.value.code == 2
    said = capsys.readouterr().err
    assert "invalid choice: 'clsoe'" in said
    assert all(repr(name) in said for name in COMMAND_MODULES)


def test_the_command_is_told_only_when_nothing_but_demo_comes_first() -> None:
    from support_tool.cli.commands import command_named

    assert command_named(["close", "x", "--profile", "batch"]) == "close"
    assert command_named(["--demo", "batch", "-"]) == "batch"
    assert command_named([]) == ""
    assert command_named(["--demo"]) == ""
    assert command_named(["--help", "close"]) is None
    assert command_named(["--dem", "close"]) is None  # an abbreviation: argparse decides
    assert command_named(["clsoe"]) is None


def test_a_plain_window_start_reads_its_arguments_as_the_parser_would_without_it() -> None:
    """``support-tool`` and ``support-tool --demo`` get the parser's own answer without
    building it (its help texts' translation look-ups cost the window's start ~5 ms);
    anything else still goes to the parser."""
    from support_tool.cli.commands import build_parser, command_named
    from support_tool.cli.window import arguments

    for argv in ([], ["--demo"]):
        assert arguments(argv) == build_parser(command_named(argv)).parse_args(argv)
    for argv in (["--dem"], ["--demo", "--demo"], ["close", "x"], ["--version"], ["-h"]):
        assert arguments(argv) is None


_WINDOW_PROBE = """
import os, sys
from support_tool.cli import commands
from support_tool.gui import main_window
def dataclasses_defined():  # after sys.modules is listed: it imports dataclasses
    import dataclasses
    for name, module in list(sys.modules.items()):
        if name.startswith("support_tool"):
            for value in vars(module).values():
                if dataclasses.is_dataclass(value) and value.__module__ == name:
                    yield "dataclass:" + name + "." + value.__qualname__
def threads():
    import threading
    return ["threads:" + str(threading.active_count())]
main_window.MainWindow.show = lambda window: (
    print("\\n".join(sorted([*sys.modules, *dataclasses_defined(), *threads()])), flush=True),
    os._exit(0),
)
commands.main(sys.argv[1:])
"""

# No dataclass is defined before the first paint: a frozen dataclass costs the window's
# start ~3.5 M instructions (its generated methods compiled at import). The window's own
# value types are NamedTuples or plain classes; the close service's modules (the request,
# its signing and JSON) load with the service's first use, and the close outcome's (its
# ``CloseResult``, with ``dataclasses`` and ``copy``: ~13 M) with the first result, after
# the paint (its colours are looked up by the outcome's value).
CLOSE_OR_COMMAND_LINE_ONLY = {
    "json",
    "support_tool.cli.output",
    "support_tool.ops.close",
    "support_tool.provider.request",
    "support_tool.version",
}
# Loaded after the first paint, by the work it starts: the profiles file's parser (and the
# ``datetime`` it imports), read on a worker; the worker threads themselves, started with
# the first job (plain threads, not ``concurrent.futures`` with ``queue`` and ``heapq``);
# ``unicodedata``, at the first check of a typed value.
AFTER_THE_PAINT = {
    "tomllib",
    "datetime",
    "concurrent.futures",
    "queue",
    "heapq",
    "unicodedata",
    "dataclasses",
    "support_tool.provider.outcome",
}


@pytest.mark.parametrize("demo", [False, True], ids=["saved profiles", "demo"])
def test_the_window_is_shown_without_what_only_a_close_or_a_parser_needs(
    home: Path, demo: bool
) -> None:
    """Before the window is shown: no message catalogue look-up (argparse's, through
    gettext and locale), no OpenSSL (hashlib, for signing: loaded at the first
    signature, on a worker), none of what only the command line's output or ``--version``
    needs, nor the close service's modules (built at its first use, after the paint), no
    dataclass, and no worker thread nor what the work started
    after the paint needs (the profiles' TOML, the worker pool's modules)."""
    loaded = subprocess.run(
        [sys.executable, "-c", _WINDOW_PROBE, *(["--demo"] if demo else [])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    ).stdout.split()
    assert "support_tool.gui.main_window" in loaded  # the probe saw the window's start
    assert [m for m in loaded if m in {"locale", "hashlib", "_hashlib"}] == []
    assert [m for m in loaded if m in CLOSE_OR_COMMAND_LINE_ONLY] == []
    assert [m for m in loaded if m.startswith("dataclass:")] == []
    assert [m for m in loaded if m in AFTER_THE_PAINT] == []
    assert "threads:1" in loaded  # no worker yet: none competes with the paint


_EXIT_PROBE = """
import atexit, runpy, sys

class TornDown:
    def __del__(self):
        print("torn down", flush=True)

kept = TornDown()  # a module global: freed only by the interpreter's teardown
atexit.register(lambda: print("atexit ran", flush=True))
sys.argv = ["support-tool", *sys.argv[1:]]
runpy.run_module("support_tool", run_name="__main__")
"""


def test_the_command_line_exits_without_the_interpreters_teardown(home: Path) -> None:
    """Exit handlers run and output is flushed, with the same status as before; the
    teardown of every module and object (~100 ms of CPU for a close) is skipped."""
    completed = subprocess.run(
        [sys.executable, "-c", _EXIT_PROBE, "history", "--login", "nobody"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    assert completed.returncode == 0, completed.stderr
    assert "atexit ran" in completed.stdout
    assert "torn down" not in completed.stdout
    refused = subprocess.run(
        [sys.executable, "-c", _EXIT_PROBE, "close", "pl ayer"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    assert refused.returncode == 2
    assert "a space at position 3" in refused.stderr  # flushed before the exit
    log = (home / "logs" / "support-tool.log").read_text(encoding="utf-8")
    assert "refused before sending" in log  # the log handler was flushed and closed


def test_the_close_service_is_built_once_over_the_runtimes_store(home: Path) -> None:
    """The runtime builds its close service at the first use (after the window's first
    paint), once, over the store the window already watches."""
    from support_tool.ops.runtime import open_runtime

    with open_runtime(demo=True, open_store_later=True, start_sandbox_later=True) as runtime:
        store = runtime.history
        service = runtime.service
        assert runtime.service is service
        assert service.history is store is runtime.history
