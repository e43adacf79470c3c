"""``support-tool close`` for each input and fault: message, exit status, history row, and
the secret never printed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from support_tool.cli.output import safe
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET, CliProcessRunner, CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def history_rows(home: Path, demo: bool = False) -> list[dict[str, Any]]:
    name = "demo-history.sqlite3" if demo else "history.sqlite3"
    with sqlite3.connect(home / name) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM actions ORDER BY id")]


def assert_no_secret(text: str) -> None:
    assert SANDBOX_SECRET not in text


def test_close_success_human_and_json(
    cli: CliRunner,
    sandbox_profile: str,
    sandbox: SandboxServer,
    home: Path,
) -> None:
    run = cli(
        "close",
        "terminal-0007",
        "--game",
        "vs20olympgate",
        "--clear-history",
        "--reason",
        "TCK-42 frozen terminal",
    )
    assert run.status == 0, run.text
    assert (
        "Closed: session of terminal-0007 in game vs20olympgate, unfinished round removed."
        in run.out
    )
    assert sandbox.provider.sessions("terminal-0007") == {}
    run = cli("close", "player-001", "--json")
    document = json.loads(run.out)
    assert document == {
        "login": "player-001",
        "game_id": None,
        "clear_history": False,
        "profile": "sandbox",
        "ok": True,
        "outcome": "success",
        "error": 0,
        "description": "Success",
        "next_step": "",
        "http_status": 200,
        "elapsed_ms": document["elapsed_ms"],
        "attempts": 1,
        "history_id": 3,  # an action's id is its attempt's event: the first took 1 and 2
    }
    rows = history_rows(home)
    assert [r["outcome"] for r in rows] == ["success", "success"]
    first = rows[0]
    assert first["login"] == "terminal-0007"
    assert first["game_id"] == "vs20olympgate"
    assert first["clear_history"] == 1
    assert first["reason"] == "TCK-42 frozen terminal"
    assert first["profile"] == "sandbox"
    assert first["api_host"].startswith("127.0.0.1:")
    assert first["http_status"] == 200
    assert first["error_code"] == 0
    assert first["attempts"] == 1
    assert first["finished_at"]
    assert first["started_at"]
    assert first["operator"]
    assert first["workstation"]
    dump = json.dumps(rows)
    assert_no_secret(dump)
    assert sandbox.received[0].body.decode() not in dump  # not the hash either
    body = json.loads(sandbox.received[0].body)
    assert body["hash"] not in dump


@pytest.mark.parametrize(
    ("login", "args", "status", "outcome", "words"),
    [
        ("", (), 2, "invalid_input", "Enter the player's or terminal's login"),
        ("pl ayer", (), 2, "invalid_input", "a space at position 3"),
        ("bad\x07login", (), 2, "invalid_input", "control character"),
        ("x" * 10_000, (), 2, "invalid_input", "too long (10,000 characters"),
        ("terminal-0001", ("--game", "vs 20"), 2, "invalid_input", "game id contains a space"),
        ("nobody-here", (), 1, "refused", "Player not found"),
        ("player-002", ("--clear-history",), 1, "refused", "Round not found"),
        (
            "terminal-0001",
            ("--profile", "nope"),
            4,
            "configuration_error",
            "no profile named 'nope'",
        ),
    ],
)
def test_close_bad_input_and_refusals(
    cli: CliRunner,
    sandbox_profile: str,
    home: Path,
    login: str,
    args: tuple[str, ...],
    status: int,
    outcome: str,
    words: str,
) -> None:
    run = cli("close", login, *args)
    assert run.status == status, run.text
    assert words in run.err
    assert f" for {safe(login)}" in run.err.splitlines()[0]  # a refusal names its login too
    assert "Next step:" in run.err
    assert_no_secret(run.text)
    rows = history_rows(home)
    assert len(rows) == 1
    assert rows[0]["outcome"] == outcome
    assert len(str(rows[0]["login"])) <= 256


def test_unicode_login_is_signed_and_accepted(
    cli: CliRunner,
    sandbox_profile: str,
    sandbox: SandboxServer,
) -> None:
    sandbox.provider.add_player("jörg.müller", {"vs20olympgate": True})
    run = cli("close", "jörg.müller", "--clear-history")
    assert run.status == 0, run.text


def test_blank_game_id_closes_all_games(
    cli: CliRunner, sandbox_profile: str, sandbox: SandboxServer
) -> None:
    assert cli("close", "player-003", "--game", "  ").status == 0
    assert sandbox.provider.sessions("player-003") == {}
    assert "gameId" not in json.loads(sandbox.received[-1].body)


def test_wrong_secret_is_refused_with_code_1_and_a_next_step(
    cli: CliRunner, sandbox_profile: str
) -> None:
    from support_tool.config.secret_store import KeyringSecrets

    KeyringSecrets().set("sandbox", "not-the-secret")
    run = cli("close", "terminal-0001")
    assert run.status == 1
    assert "Unauthorized" in run.err
    assert "check the profile's secret key" in run.err.lower()
    assert "not-the-secret" not in run.text


@pytest.mark.parametrize(
    ("fault", "status", "words"),
    [
        ("http500", 3, "HTTP 500"),
        ("badjson", 3, "not the expected JSON"),
        ("wrongshape", 3, "expected shape"),
        ("stringerror", 3, "expected shape"),
        ("drip", 3, "within 3 s"),
        ("bigbody", 3, "larger than 1 MiB"),
        ("redirect", 3, "redirect"),
        ("reset", 3, "connection"),
        ("ratelimit", 1, "Request limit exceeded"),
    ],
)
def test_close_faults(
    cli: CliRunner,
    sandbox_profile: str,
    sandbox: SandboxServer,
    home: Path,
    fault: str,
    status: int,
    words: str,
) -> None:
    sandbox.fault = fault
    run = cli("close", "terminal-0001", "--json")
    assert run.status == status
    document = json.loads(run.out)
    assert words in document["description"]
    assert document["ok"] is False
    assert document["elapsed_ms"] < 3000 + 1500
    assert_no_secret(run.text)
    (row,) = history_rows(home)
    assert row["outcome"] == document["outcome"]
    assert row["id"] == document["history_id"]


def test_connection_refused_through_the_cli(cli: CliRunner, home: Path) -> None:
    import socket

    from support_tool.config.secret_store import KeyringSecrets

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert cli("profile", "add", "down", "--url", f"http://127.0.0.1:{port}").status == 0
    KeyringSecrets().set("down", "s")
    try:
        run = cli("close", "terminal-0001")
    finally:
        KeyringSecrets().delete("down")
    assert run.status == 3
    assert "refused the connection" in run.err
    assert "3 attempts" in run.err
    assert history_rows(home)[0]["attempts"] == 3


def test_missing_secret_is_a_configuration_error(
    cli: CliRunner, sandbox: SandboxServer, home: Path
) -> None:
    assert cli("profile", "add", "nosecret", "--url", sandbox.url).status == 0
    run = cli("close", "terminal-0001")
    assert run.status == 4
    assert "No secret key is stored for profile 'nosecret'" in run.err
    assert "support-tool secret set nosecret" in run.err
    assert history_rows(home)[0]["outcome"] == "configuration_error"
    assert not sandbox.received


def test_no_profile_and_ambiguous_profiles(cli: CliRunner, sandbox: SandboxServer) -> None:
    run = cli("close", "terminal-0001")
    assert run.status == 4
    assert "No profile is set up yet" in run.err
    cli("profile", "add", "a", "--url", sandbox.url)
    cli("profile", "add", "b", "--url", sandbox.url)
    run = cli("close", "terminal-0001")
    assert run.status == 4
    assert "none is the default" in run.err


def test_no_keyring_backend_exits_4_with_a_fix(
    cli_process: CliProcessRunner, sandbox: SandboxServer, home: Path
) -> None:
    assert cli_process("profile", "add", "p", "--url", sandbox.url).status == 0
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    run = cli_process("close", "terminal-0001", env=no_keyring)
    assert run.status == 4, run.text
    assert "No working keyring" in run.err
    assert "never stores secret keys in a file" in run.err
    assert history_rows(home)[0]["outcome"] == "configuration_error"
    run = cli_process("secret", "set", "p", stdin="abc\n", env=no_keyring)
    assert run.status == 4
    assert "No working keyring" in run.err
    assert "abc" not in "".join(
        p.read_text(errors="ignore")
        for p in home.rglob("*")
        if p.is_file() and p.suffix != ".sqlite3"
    )


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare(1)")
def test_dns_failure_in_an_isolated_network(cli_process: CliProcessRunner, home: Path) -> None:
    """Name resolution fails for real inside a network namespace with no route out."""
    assert cli_process("profile", "add", "far", "--url", "https://api.provider.invalid").status == 0
    assert cli_process("secret", "set", "far", stdin="s3cret\n").status == 0
    run = cli_process("close", "terminal-0001", prefix=("unshare", "-n"))
    if "unshare failed" in run.err:
        pytest.skip("network namespaces are not permitted here")
    assert run.status == 3, run.text
    assert "could not be found" in run.err
    assert "3 attempts" in run.err
    assert history_rows(home)[0]["outcome"] == "transport_failure"


def test_a_refusal_names_the_login_and_json_says_what_was_asked(
    cli: CliRunner, sandbox_profile: str
) -> None:
    """QA: 'Refused by the provider: Player not found' did not say for which login, and
    ``close --json`` did not say which login, game, clear-history choice or profile."""
    run = cli("close", "nobody-here", "--game", "vs20olympgate")
    assert run.status == 1
    assert run.err.splitlines()[0] == (
        "Refused by the provider for nobody-here in game vs20olympgate: Player not found"
    )
    as_json = json.loads(cli("close", "player-002", "--clear-history", "--json").out)
    assert {k: as_json[k] for k in ("login", "game_id", "clear_history", "profile")} == {
        "login": "player-002",
        "game_id": None,
        "clear_history": True,
        "profile": "sandbox",
    }


def test_an_empty_login_is_named_as_such(cli: CliRunner, sandbox_profile: str) -> None:
    """A refusal names its login; an empty one read "Invalid input for  (all games)"."""
    run = cli("close", "")
    assert run.status == 2, run.text
    first = run.err.splitlines()[0]
    assert " for an empty login (all games):" in first
    assert "  " not in first
