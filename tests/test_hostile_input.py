"""Every command-line entry point, as a real child process, against hostile input: bytes
that are not UTF-8, huge arguments, control characters, empty values and damaged files.
None may end in a Python traceback, and each ends with a documented exit status for input
or configuration problems (never 1, "the provider refused", and never 70, a defect)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

NON_UTF8 = b"a\x80b\xff"
HUGE = "x" * 100_000
CONTROL = "a\x1b[31mb\x07c\x7f"
HOSTILE: dict[str, str | bytes] = {
    "non-utf8": NON_UTF8,
    "huge": HUGE,
    "control": CONTROL,
    "empty": "",
}
# What an input or configuration problem may end with (README: exit statuses).
EXPECTED = {0, 2, 3, 4, 5}

X = object()  # where the hostile value goes
ENTRY_POINTS: list[tuple[object, ...]] = [
    ("close", X),
    ("close", X, "--json"),
    ("close", "terminal-0001", "--game", X),
    ("close", "terminal-0001", "--reason", X),
    ("close", "terminal-0001", "--profile", X, "--clear-history"),
    ("--demo", "close", X),
    ("--demo", "close", "terminal-0001", "--game", X, "--json"),
    ("profile", "add", X, "--url", "http://localhost:1"),
    ("profile", "add", "p", "--url", "https://api.example.com", "--ca-bundle", X),
    ("profile", "add", "p", "--url", "https://api.example.com", "--timeout", X),
    ("profile", "add", "p", "--url", "https://api.example.com", "--concurrency", X),
    ("profile", "remove", X),
    ("profile", "default", X),
    ("secret", "set", X),
    ("secret", "delete", X),
    ("batch", X),
    ("batch", "--group", X),
    ("batch", "--retry-failed", X),
    ("--demo", "batch", "-", "--game", X, "--yes"),
    ("--demo", "batch", "-", "--reason", X, "--yes"),
    ("batch", "-", "--profile", X),
    ("batch", "-", "--concurrency", X),
    ("batch", "-", "--max-rps", X),
    ("group", "add", X, "-"),
    ("group", "show", X),
    ("group", "remove", X),
    ("history", "--login", X),
    ("history", "--batch", X),
    ("history", "--profile", X),
    ("history", "--outcome", X),
    ("history", "--limit", X),
    ("history", "--csv", "--login", X),
    ("sandbox", "--port", X),
    ("sandbox", "--latency-ms", X),
    ("sandbox", "--rate-limit", X),
    ("sandbox", "--fault", X),
    ("sandbox", "--port", "99999", "--secret", X),
    (X,),
    ("profile", X),
    ("history", X),
]
URL_ENTRY_POINT = ("profile", "add", "p", "--url", X)


def run_child(home: Path, args: list[str | bytes], stdin: bytes = b"") -> tuple[int, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "support_tool", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    return completed.returncode, completed.stderr.decode("utf-8", "replace")


def assert_handled(home: Path, template: tuple[object, ...], stdin: bytes = b"") -> None:
    """Run ``template`` once per hostile value (in parallel) and check each outcome."""

    def one(value: str | bytes) -> tuple[str | bytes, int, str]:
        args = [value if part is X else str(part) for part in template]
        return (value, *run_child(home, args, stdin))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, HOSTILE.values()))
    for value, status, err in results:
        shown = repr(value)[:40]
        assert "Traceback" not in err, f"{template} with {shown}:\n{err[-2000:]}"
        assert status in EXPECTED, f"{template} with {shown}: exit {status}\n{err[-1000:]}"


@pytest.mark.parametrize(
    "template", ENTRY_POINTS, ids=[" ".join(map(str, t)).replace(str(X), "X") for t in ENTRY_POINTS]
)
def test_every_entry_point_handles_hostile_arguments(
    home: Path, template: tuple[object, ...]
) -> None:
    assert_handled(home, template, stdin=b"terminal-0001\n")


def test_profile_url_handles_hostile_arguments(home: Path) -> None:
    assert_handled(home, URL_ENTRY_POINT)
    for url in ("https://[::1", "https://[::1]:99999", "https://exa mple.com"):
        status, err = run_child(home, ["profile", "add", "p", "--url", url])
        assert "Traceback" not in err
        assert status == 2, err


def test_hostile_stdin_lists_are_handled(home: Path) -> None:
    """Lists and secrets read from standard input: not UTF-8, NUL bytes, one huge line."""
    for data in (b"\xff\xfe\x00a\x00\x80", b"a\x00b\n" * 10, b"x" * 2_000_000, b""):
        for args in (["batch", "-", "--yes"], ["group", "add", "g", "-"]):
            status, err = run_child(home, list(args), stdin=data)
            assert "Traceback" not in err, err[-2000:]
            assert status in EXPECTED, (args, status, err[-500:])


BAD_FILES: dict[str, tuple[str, bytes]] = {
    "profiles not utf-8": ("profiles.toml", b'default = "caf\xe9"\n'),
    "profiles nested": ("profiles.toml", b"a = " + b"[" * 50_000 + b"\n"),
    "profiles nested tables": ("profiles.toml", b"a = " + b"{b = " * 20_000 + b"\n"),
    "profiles not toml": ("profiles.toml", b"[profiles\nurl = \n"),
    "profiles a folder": ("profiles.toml", b""),
    "groups not utf-8": ("groups.toml", b'[groups."\xff"]\nterminals = []\n'),
    "groups nested": ("groups.toml", b"a = " + b"[" * 50_000 + b"\n"),
    "history not sqlite": ("history.sqlite3", b"this is not a database" * 100),
    "history a folder": ("history.sqlite3", b""),
}
FILE_COMMANDS = [
    ["close", "terminal-0001"],
    ["profile", "list"],
    ["profile", "add", "p", "--url", "https://api.example.com"],
    ["secret", "set", "p"],
    ["group", "list"],
    ["batch", "-", "--yes"],
    ["history"],
    ["history", "verify"],
]


@pytest.mark.parametrize("bad", list(BAD_FILES))
def test_damaged_files_are_reported_plainly(home: Path, bad: str) -> None:
    name, content = BAD_FILES[bad]
    if bad.endswith("a folder"):
        (home / name).mkdir()
    else:
        (home / name).write_bytes(content)
    for args in FILE_COMMANDS:
        status, err = run_child(home, list(args), stdin=b"terminal-0001\n")
        assert "Traceback" not in err, f"{args}:\n{err[-2000:]}"
        assert status in EXPECTED, (args, status, err[-500:])
        if status in (4, 5) and (name != "groups.toml" or args[0] in ("group", "batch")):
            assert str(home) in err, (args, err)  # the message names the file


def test_non_utf8_profiles_and_deep_nesting_exit_4_naming_the_file(home: Path) -> None:
    path = home / "profiles.toml"
    for content in (b'default = "caf\xe9"\n', b"a = " + b"[" * 50_000 + b"\n"):
        path.write_bytes(content)
        status, err = run_child(home, ["profile", "list"])
        assert status == 4, err
        assert str(path) in err
        assert "UTF-8" in err
        assert "move it aside" in err


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ([b"close", b"a\x80b"], "login"),
        ([b"close", b"terminal-0001", b"--game", b"g\xff"], "game id"),
        ([b"close", b"terminal-0001", b"--reason", b"t\x80"], "reason"),
    ],
)
def test_non_utf8_close_arguments_are_refused_and_recorded(
    home: Path, args: list[bytes], field: str
) -> None:
    status, err = run_child(home, list(args))
    assert status == 2, err
    assert "Traceback" not in err
    assert f"The {field} contains" in err
    assert "not UTF-8" in err
    with sqlite3.connect(home / "history.sqlite3") as db:
        rows = db.execute("SELECT outcome, login, game_id, reason FROM actions").fetchall()
    assert len(rows) == 1
    assert rows[0][0] == "invalid_input"
    assert "\\x80" in "".join(rows[0][1:]) or "\\xff" in "".join(rows[0][1:])
    log = (home / "logs" / "support-tool.log").read_text(encoding="utf-8")
    assert "refused before sending" in log


def test_a_defect_exits_70_with_a_report_file_and_no_traceback(home: Path) -> None:
    """A bug (here: a command that divides by zero) is a short message and a report file."""
    code = (
        "import sys; from support_tool.cli import commands as cli\n"
        "cli.COMMANDS['history'] = lambda args: 1 // 0\n"
        "sys.exit(cli.main(['history', '--login', 'x']))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    assert completed.returncode == 70
    assert "Traceback" not in completed.stderr
    assert "unexpected problem (ZeroDivisionError)" in completed.stderr
    reports = list((home / "logs").glob("crash-*.txt"))
    assert len(reports) == 1
    assert str(reports[0]) in completed.stderr
    report = reports[0].read_text(encoding="utf-8")
    assert "Traceback" in report
    assert "ZeroDivisionError" in report
    assert "command: support-tool history --login x" in report
    if os.name == "posix":
        assert reports[0].stat().st_mode & 0o777 == 0o600
    assert "ZeroDivisionError" in (home / "logs" / "support-tool.log").read_text()


def test_a_defect_on_a_worker_thread_is_logged_not_printed(home: Path) -> None:
    code = (
        "import sys, threading; from support_tool.cli import commands as cli\n"
        "def history(args):\n"
        "    worker = threading.Thread(target=lambda: 1 // 0)\n"
        "    worker.start(); worker.join(); return 0\n"
        "cli.COMMANDS['history'] = history\n"
        "sys.exit(cli.main(['history']))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    assert "Traceback" not in completed.stderr
    assert "unexpected problem on a worker thread (ZeroDivisionError)" in completed.stderr
    assert "ZeroDivisionError" in (home / "logs" / "support-tool.log").read_text()
