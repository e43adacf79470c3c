"""``support-tool batch`` and ``group`` as an operator or a script runs them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support_tool.audit.log import AuditLog
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET, CliProcessRunner, CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def write_list(folder: Path, text: str, name: str = "list.csv") -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def json_lines(out: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    parsed = [json.loads(line) for line in out.splitlines()]
    return parsed[:-1], parsed[-1]


def test_batch_json_lines_then_a_summary(
    cli: CliRunner, sandbox_profile: str, tmp_path: Path
) -> None:
    listing = write_list(tmp_path, "login,gameId\nterminal-0001\nterminal-0002,vs20olympgate\n")
    run = cli("batch", listing, "--clear-history", "--reason", "INC-7", "--json")
    assert run.status == 0, run.err
    rows, summary = json_lines(run.out)
    assert sorted(r["login"] for r in rows) == ["terminal-0001", "terminal-0002"]
    assert all(r["ok"] and r["outcome"] == "success" and r["history_id"] for r in rows)
    assert summary["summary"] is True
    assert summary["succeeded"] == 2
    assert summary["exit_status"] == 0
    history = cli("history", "--batch", str(summary["batch_id"]), "--json")
    recorded = [json.loads(line) for line in history.out.splitlines()]
    assert len(recorded) == 2
    assert {r["reason"] for r in recorded} == {"INC-7"}


def test_exit_status_by_the_worst_kind_of_problem(
    cli: CliRunner, sandbox_profile: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    refused = cli("batch", write_list(tmp_path, "terminal-0001\nnobody\n"))
    assert refused.status == 1
    assert "nobody: Refused by provider: error 17" in refused.err
    assert "1 closed, 1 refused by provider" in refused.err
    sandbox.fault_for_login["terminal-0003"] = "http500"
    transport = cli("batch", write_list(tmp_path, "nobody\nterminal-0003\n"))
    assert transport.status == 3  # a transport failure wins
    invalid = cli("batch", write_list(tmp_path, "terminal-0004\nbad login\n"))
    assert invalid.status == 2
    assert "1 invalid line will not be sent (first on line 2" in invalid.err
    nothing = cli("batch", write_list(tmp_path, "bad login\n"))
    assert nothing.status == 2
    assert "no valid terminals" in nothing.err


def test_retry_failed_sends_only_the_rows_that_did_not_close(
    cli: CliRunner, sandbox_profile: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.fault_for_login["terminal-0002"] = "reset"
    first = cli("batch", write_list(tmp_path, "terminal-0001\nterminal-0002\n"), "--json")
    assert first.status == 3
    _, summary = json_lines(first.out)
    del sandbox.fault_for_login["terminal-0002"]
    before = sandbox.request_count
    again = cli("batch", "--retry-failed", str(summary["batch_id"]), "--json")
    assert again.status == 0, again.err
    rows, _ = json_lines(again.out)
    assert [r["login"] for r in rows] == ["terminal-0002"]
    assert sandbox.request_count == before + 1
    missing = cli("batch", "--retry-failed", "no-such-batch")
    assert missing.status == 2
    assert "no batch" in missing.err


def test_production_needs_yes_when_not_at_a_terminal(
    cli: CliRunner, sandbox: SandboxServer, tmp_path: Path
) -> None:
    from support_tool.config.secret_store import KeyringSecrets

    assert cli("profile", "add", "live", "--url", sandbox.url, "--production").status == 0
    KeyringSecrets().set("live", SANDBOX_SECRET)
    try:
        listing = write_list(tmp_path, "terminal-0001\nterminal-0002\n")
        refused = cli("batch", listing, "--clear-history")
        assert refused.status == 2
        assert "2 sessions on PRODUCTION profile 'live'" in refused.err
        assert "--yes" in refused.err
        assert sandbox.request_count == 0
        confirmed = cli("batch", listing, "--clear-history", "--yes")
        assert confirmed.status == 0
        assert sandbox.request_count == 2
    finally:
        KeyringSecrets().delete("live")


def test_usage_errors(cli: CliRunner, sandbox_profile: str, tmp_path: Path) -> None:
    assert cli("batch").status == 2
    both = cli("batch", write_list(tmp_path, "t\n"), "--group", "A")
    assert both.status == 2
    assert cli("batch", write_list(tmp_path, "t\n"), "--concurrency", "17").status == 2
    assert cli("batch", str(tmp_path / "missing.csv")).status == 2
    unknown = cli("batch", "--group", "Nope")
    assert unknown.status == 2
    assert "no group named 'Nope'" in unknown.err


def test_groups_add_list_show_remove_and_run(
    cli: CliRunner, sandbox_profile: str, tmp_path: Path
) -> None:
    listing = write_list(
        tmp_path, "\ufefflogin\r\nterminal-0001\r\nterminal-0002,vs20olympgate\r\n"
    )
    added = cli("group", "add", "Bank A", listing)
    assert added.status == 0
    assert "2 terminals" in added.out
    assert cli("group", "add", "Bank A", listing).status == 2  # no silent overwrite
    assert cli("group", "add", "Bank A", listing, "--replace").status == 0
    assert "'Bank A'  (2 terminals)" in cli("group", "list").out
    shown = cli("group", "show", "Bank A")
    assert shown.out.splitlines() == [
        "login,gameId",
        "terminal-0001",
        "terminal-0002,vs20olympgate",
    ]
    run = cli("batch", "--group", "Bank A", "--game", "vs10bbbonanza", "--json")
    rows, summary = json_lines(run.out)
    assert summary["succeeded"] == 2
    games = {r["login"]: r["game_id"] for r in rows}
    assert games == {"terminal-0001": "vs10bbbonanza", "terminal-0002": "vs20olympgate"}
    bad = cli("group", "add", "Broken", write_list(tmp_path, "ok-1\nbad login\n"))
    assert bad.status == 2
    assert "not saved" in bad.err
    assert cli("group", "remove", "Bank A").status == 0
    assert "No groups yet" in cli("group", "list").out


def test_list_from_standard_input(cli_process: CliProcessRunner, sandbox_profile: str) -> None:
    run = cli_process("batch", "-", "--json", stdin="terminal-0001\nterminal-0002\n")
    assert run.status == 0, run.err
    assert json_lines(run.out)[1]["succeeded"] == 2


def test_demo_batch_with_a_demo_group(cli_process: CliProcessRunner) -> None:
    run = cli_process("--demo", "batch", "--group", "Demo bank A", "--clear-history")
    assert run.status == 0, run.err
    assert "40 closed" in run.out


def test_killed_mid_batch_every_sent_request_has_a_row(
    home: Path, sandbox_profile: str, tmp_path: Path
) -> None:
    """SIGKILL a real batch process: no request that reached the provider goes unrecorded,
    the database is intact, and rows in flight become *unknown* on the next start."""
    listing = write_list(tmp_path, "".join(f"terminal-{n:04d}\n" for n in range(1, 1001)))
    with SandboxServer(secret=SANDBOX_SECRET, latency_ms=60) as slow:
        from support_tool.config.profiles import ProfileStore, make_profile

        store = ProfileStore()
        store.save(store.load().with_profile(make_profile("sandbox", slow.url, 3.0)))
        process = subprocess.Popen(
            [sys.executable, "-m", "support_tool", "batch", listing, "--concurrency", "8"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
        )
        try:
            assert slow.wait_for_requests(60, timeout=30)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        arrived = {r.query.split("MEMB_ID=")[1].split("&")[0] for r in list(slow.received)}
    path = home / "history.sqlite3"
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    with AuditLog(path) as history:  # the next start: recovery runs
        records = list(history.query())
    assert arrived <= {r.login for r in records}
    outcomes = {r.outcome for r in records}
    assert "pending" not in outcomes
    assert "unknown" in outcomes  # the requests that were in flight when it died
    assert len(records) < 1000


def test_retry_leaves_out_permanent_refusals_unless_asked(
    cli: CliRunner, sandbox_profile: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """17 *Player not found* fails the same way twice: a retry leaves it out, says so by
    reason, and sends it only with --include-refused. The retry's rows link to the batch
    they retry, and ``history --batch`` shows both with each terminal's latest status."""
    sandbox.fault_for_login["terminal-0002"] = "reset"
    listing = write_list(tmp_path, "terminal-0001\nterminal-0002\nnobody-1\nnobody-2\n")
    first = cli("batch", listing, "--json")
    _, summary = json_lines(first.out)
    parent = str(summary["batch_id"])
    del sandbox.fault_for_login["terminal-0002"]
    again = cli("batch", "--retry-failed", parent, "--json")
    assert again.status == 0, again.err
    rows, retry_summary = json_lines(again.out)
    assert [r["login"] for r in rows] == ["terminal-0002"]
    assert "2 × error 17: Player not found" in again.err
    assert "--include-refused" in again.err
    retry_id = str(retry_summary["batch_id"])
    assert retry_id.startswith(parent + ".r")  # the link to the batch it retries
    # the batch and its retry as one: terminal-0002's latest row is the retry's success
    history = cli("history", "--batch", parent)
    lines = history.out.splitlines()
    assert len(lines) == 5
    latest = [line for line in lines if "(latest)" in line]
    assert len(latest) == 4  # one latest row per terminal
    [t2] = [line for line in latest if "terminal-0002" in line]
    assert "Closed" in t2
    assert f"batch {retry_id} (latest)" in t2
    # nothing left that could succeed; the refusals only on request
    nothing = cli("batch", "--retry-failed", parent, "--json")
    assert nothing.status == 0
    assert json.loads(nothing.out.splitlines()[-1])["total"] == 0
    forced = cli("batch", "--retry-failed", parent, "--include-refused", "--json")
    assert forced.status == 1
    assert sorted(r["login"] for r in json_lines(forced.out)[0]) == ["nobody-1", "nobody-2"]


def test_json_always_ends_with_a_summary(
    cli: CliRunner, sandbox_profile: str, tmp_path: Path
) -> None:
    run = cli("batch", write_list(tmp_path, "bad login\n"), "--json")
    assert run.status == 2
    summary = json.loads(run.out.splitlines()[-1])
    assert summary["summary"] is True
    assert summary["total"] == 0
    assert summary["invalid_lines"] == 1
    assert summary["exit_status"] == 2


def test_one_terminal_is_one_terminal(cli: CliRunner, sandbox_profile: str, tmp_path: Path) -> None:
    run = cli("batch", write_list(tmp_path, "terminal-0001\n"))
    assert "(1 terminal, " in run.out
    added = cli("group", "add", "One", write_list(tmp_path, "terminal-0002\n"))
    assert "with 1 terminal." in added.out
    assert "'One'  (1 terminal)" in cli("group", "list").out


def test_group_add_reads_lists_as_batch_does(
    cli: CliRunner, sandbox_profile: str, tmp_path: Path
) -> None:
    """Same reader, same separators, same messages: a semicolon list with a quoted field."""
    listing = write_list(tmp_path, 'login;gameId\nterminal-0001;vs20olympgate\n"a,b"\n')
    assert cli("group", "add", "Semi", listing).status == 0
    assert cli("group", "show", "Semi").out.splitlines()[1:] == [
        "terminal-0001,vs20olympgate",
        '"a,b"',
    ]
    stray = write_list(tmp_path, "terminal-0001\tvs20olympgate\nplayer-006;vs10bbbonanza\n")
    batch = cli("batch", stray, "--json")
    group = cli("group", "add", "Stray", stray)
    message = "contains a semicolon (';') at position 11"
    assert message in batch.err
    assert message in group.err


def test_an_endless_pipe_is_refused_early_at_a_bound(home: Path, sandbox_profile: str) -> None:
    """``yes player-1 | support-tool batch -``: a real, endless child-process pipe. The
    list is read as a stream, refused at the line bound (exit 2, the bound named), and
    the refusal is recorded in the history; nothing is sent."""
    env = {**os.environ, "SUPPORT_TOOL_HOME": str(home)}
    producer = subprocess.Popen(["yes", "player-1"], stdout=subprocess.PIPE)
    try:
        assert producer.stdout is not None
        batch = subprocess.run(
            [sys.executable, "-m", "support_tool", "batch", "-", "--json"],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        producer.stdout.close()
    finally:
        producer.kill()
        producer.wait()
    assert batch.returncode == 2, batch.stderr
    assert "more than 1,000,000 lines" in batch.stderr
    assert "Traceback" not in batch.stderr
    with AuditLog(home / "history.sqlite3") as store:
        [row] = list(store.query())
    assert row.outcome == "invalid_input"
    assert row.login == "list (standard input)"
    assert "more than 1,000,000 lines" in row.description


def test_a_disk_that_fills_mid_batch_is_a_configuration_problem(
    home: Path, sandbox_profile: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The fault is real: the child process runs under RLIMIT_FSIZE, so once the history's
    files reach the limit the kernel refuses the write with EFBIG, as a full disk refuses
    it with ENOSPC; SQLite reports both as an I/O failure. (Python ignores SIGXFSZ, so the
    process is not killed.) A loop-mounted or tmpfs filesystem would need root and mount
    privileges that CI machines and developers' laptops do not give; a resource limit needs
    neither and works on any POSIX system."""
    import resource

    listing = write_list(tmp_path, "".join(f"terminal-{n:04d}\n" for n in range(1, 1001)))
    limit = 256 * 1024

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run(
        [sys.executable, "-m", "support_tool", "batch", listing, "--clear-history"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
        preexec_fn=small_disk,  # only a resource limit: safe before exec
    )
    assert run.returncode == 4, run.stderr
    assert "audit history could not be written" in run.stderr
    assert "nothing further was sent" in run.stderr
    assert "Traceback" not in run.stderr
    assert "not sent" in run.stderr
    # nothing was sent unrecorded: every request the provider saw has a history row
    with AuditLog(home / "history.sqlite3") as store:
        recorded = len(list(store.query()))
    assert 0 < sandbox.request_count <= recorded < 1000


def test_retry_goes_to_the_batch_profile_with_its_clear_history(
    cli: CliRunner, sandbox_profile: str, sandbox: SandboxServer, tmp_path: Path, home: Path
) -> None:
    """QA: --retry-failed sent to the default profile (or --profile), and without clear
    history, under a production batch's id. It now takes both from the batch's rows,
    refuses a --profile that names another, and says where it goes."""
    from support_tool.config.secret_store import KeyringSecrets

    assert cli("profile", "add", "live", "--url", sandbox.url, "--production").status == 0
    KeyringSecrets().set("live", SANDBOX_SECRET)
    try:
        sandbox.fault_for_login["terminal-0002"] = "reset"
        listing = write_list(tmp_path, "terminal-0001\nterminal-0002\n")
        first = cli(
            "batch", listing, "--profile", "live", "--clear-history", "--reason", "INC-9", "--yes"
        )
        assert first.status == 3
        parent = first.err.split("Batch ", 1)[1].split(" ", 1)[0]
        assert f"Batch {parent} on profile 'live' (PRODUCTION), clear history: yes" in first.err
        assert (
            "(it goes to profile 'live' (PRODUCTION), clear history: yes, as this batch did): "
            f"support-tool batch --retry-failed {parent}" in first.err
        )
        del sandbox.fault_for_login["terminal-0002"]
        before = sandbox.request_count
        elsewhere = cli("batch", "--retry-failed", parent, "--profile", "sandbox", "--yes")
        assert elsewhere.status == 2
        assert f"Batch {parent} ran on profile 'live'" in elsewhere.err
        assert sandbox.request_count == before
        again = cli("batch", "--retry-failed", parent, "--yes")
        assert again.status == 0, again.err
        assert "on profile 'live' (PRODUCTION), clear history: yes" in again.out
        assert f"A retry of batch {parent}" in again.out
        with AuditLog(home / "history.sqlite3") as store:
            records = list(store.query(batch_id=parent))
        assert len(records) == 3
        assert {(r.profile, r.clear_history, r.reason) for r in records} == {
            ("live", True, "INC-9")
        }
    finally:
        KeyringSecrets().delete("live")


def test_nothing_to_clear_is_not_printed_as_a_failure(
    cli: CliRunner, sandbox_profile: str, tmp_path: Path
) -> None:
    """QA: a clear-history batch counted 4 *Round not found* as done, yet printed it as a
    refusal per row and in ``history``. It reads *Nothing to clear* there; the history
    still records what the provider answered (refused, code 4)."""
    listing = write_list(tmp_path, "terminal-0001\nplayer-001\n")  # player-001: no round
    run = cli("batch", listing, "--clear-history")
    assert run.status == 0, run.err
    assert "player-001" not in run.err
    assert "1 closed, 1 with nothing to clear (done)" in run.out
    batch = run.out.split("Batch ", 1)[1].split(" ", 1)[0]
    history = cli("history", "--batch", batch)
    [line] = [line for line in history.out.splitlines() if "player-001" in line]
    assert "Nothing to clear code 4: Round not found" in line
    assert "Refused" not in line
    stored = cli("history", "--batch", batch, "--json")
    outcomes = {json.loads(x)["login"]: json.loads(x)["outcome"] for x in stored.out.splitlines()}
    assert outcomes == {"terminal-0001": "success", "player-001": "refused"}


def test_demo_groups_are_named_as_they_are_typed(cli: CliRunner) -> None:
    """QA: ``--demo batch --group 'Demo bank A'`` was refused, listing "Demo bank A (40
    terminals)" as a name; ``--demo group list`` was refused. Names are what one types,
    quoted, with the count beside them; the demo's groups can be listed and run."""
    listed = cli("--demo", "group", "list")
    assert listed.status == 0, listed.err
    assert listed.out.splitlines() == [
        "'Demo bank A'  (40 terminals)",
        "'Demo floor'  (1,000 terminals)",
    ]
    unknown = cli("--demo", "batch", "--group", "Demo bank")
    assert unknown.status == 2
    assert (
        "There is no group named 'Demo bank' (groups: 'Demo bank A' (40 terminals), "
        "'Demo floor' (1,000 terminals))" in unknown.err
    )
    run = cli("--demo", "batch", "--group", "Demo bank A")
    assert run.status == 0, run.err
    assert "40 closed" in run.out
    changed = cli("--demo", "group", "remove", "Demo bank A")
    assert changed.status == 2
    assert "built in" in changed.err
