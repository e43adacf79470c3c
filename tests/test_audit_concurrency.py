"""Issue 12, item 6: several writers on one history file extend one chain, and a batch
killed with SIGKILL leaves a sealed attempt for every request the provider saw."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from support_tool.audit.log import AuditLog
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.sandbox import SandboxServer
from tests.conftest import cli_command

REFUSED = CloseResult(Outcome.INVALID_INPUT, "not a login")
ROW = {"profile": "sandbox", "api_host": "127.0.0.1", "game_id": None, "clear_history": False}


def start(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*cli_command(), *args],
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_writers_extend_one_chain_and_a_killed_batch_leaves_only_sealed_attempts(  # type: ignore[no-untyped-def]
    home: Path, sandbox: SandboxServer, sandbox_profile: str, cli_process, tmp_path: Path
) -> None:
    sandbox.latency_s = 0.05  # keep requests in flight, so the kill lands mid-request
    lists = []
    for name, first in (("a", 1), ("b", 101)):
        listing = tmp_path / f"{name}.txt"
        listing.write_text("\n".join(f"terminal-{n:04d}" for n in range(first, first + 60)))
        lists.append(listing)
    common = ("--profile", sandbox_profile, "--concurrency", "4", "--yes")
    victim = start(home, "batch", str(lists[0]), *common)
    other = start(home, "batch", str(lists[1]), *common)
    single = start(home, "close", "terminal-0200", "--profile", sandbox_profile)
    with AuditLog(home / "history.sqlite3") as window:  # the window's writes meanwhile
        for n in range(20):
            window.record(REFUSED, login=f"typo-{n}", **ROW)
    assert sandbox.wait_for_requests(20, timeout=60), "the batches never got going"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert other.wait(timeout=120) in (0, 1)  # done (some logins are unknown to the sandbox)
    assert single.wait(timeout=60) == 0

    run = cli_process("history", "verify")  # opens the store: recovery appends unknowns
    assert run.status == 0, run.text
    sent = {
        found
        for request in sandbox.received
        for found in re.findall(r"terminal-\d{4}", request.query + request.body.decode())
    }
    db = sqlite3.connect(home / "history.sqlite3")
    try:
        sealed = {
            json.loads(body)["login"]
            for (body,) in db.execute("SELECT body FROM events WHERE kind = 'attempt'")
        }
        attempts, closings = db.execute(
            "SELECT SUM(kind = 'attempt'), SUM(kind IN ('answer', 'unknown')) FROM events"
        ).fetchone()
        refused = db.execute("SELECT COUNT(*) FROM events WHERE kind = 'refused'").fetchone()
    finally:
        db.close()
    assert sent
    assert sent <= sealed  # nothing reached the provider without its sealed attempt
    assert attempts == closings  # every attempt answered, or closed as unknown by recovery
    assert refused == (20,)


def test_verify_while_another_process_appends_sees_one_consistent_trail(tmp_path: Path) -> None:
    """verify reads the newest event and the head in one snapshot: appends made meanwhile
    (the window's background check during a batch) are not mistaken for lost events."""
    path = tmp_path / "h.sqlite3"
    with AuditLog(path) as store:
        store.record(REFUSED, login="first", **ROW)
    code = (
        "import sys; from pathlib import Path; from support_tool.audit.log import AuditLog;"
        "from support_tool.provider.outcome import CloseResult, Outcome;"
        f"s = AuditLog(Path({str(path)!r})); r = CloseResult(Outcome.SUCCESS, 'Success');"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    s.finish(s.begin(profile='p', api_host='h', login='l', game_id=None,"
        " clear_history=False), r)"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        with AuditLog(path) as store:
            reports = [store.verify() for _ in range(15)]
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert [r.problem for r in reports if not r.ok] == []
    assert reports[-1].checked > reports[0].checked  # it really was appending meanwhile
