"""Profiles, secrets (real Secret Service), the sandbox command and CLI startup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from support_tool.config.secret_store import KeyringSecrets
from support_tool.sandbox import SandboxServer
from tests.conftest import CliProcessRunner, CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def test_profile_add_list_default_remove(cli: CliRunner, home: Path) -> None:
    assert cli("profile", "list").out.startswith("No profiles yet")
    run = cli(
        "profile",
        "add",
        "live",
        "--url",
        "https://api.example.com/gs/",
        "--production",
        "--timeout",
        "20",
    )
    assert run.status == 0
    assert "support-tool secret set live" in run.out
    assert (
        cli("profile", "add", "test", "--url", "https://test.example.com", "--default").status == 0
    )
    document = tomllib.loads((home / "profiles.toml").read_text())
    assert document["default"] == "test"
    assert document["profiles"]["live"] == {
        "url": "https://api.example.com/gs",
        "timeout": 20.0,
        "ca_bundle": "",
        "production": True,
        "concurrency": 4,
        "proxy": "",
    }
    busy = cli("profile", "add", "busy", "--url", "https://b.example.com", "--concurrency", "17")
    assert busy.status == 2
    assert "between 1 and 16" in busy.err
    listed = json.loads(cli("profile", "list", "--json").out)
    assert [(p["name"], p["default"], p["production"], p["secret"]) for p in listed] == [
        ("live", False, True, "missing"),
        ("test", True, False, "missing"),
    ]
    assert cli("profile", "default", "live").status == 0
    assert "[default, PRODUCTION]" in cli("profile", "list").out
    assert cli("profile", "remove", "live").status == 0
    assert [p["name"] for p in json.loads(cli("profile", "list", "--json").out)] == ["test"]
    assert not list(home.glob(".profiles.toml.*"))  # no temporary files left behind


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--url", "api.example.com"), "must start with https://"),
        (("--url", "http://api.example.com"), "Plain http://"),
        (("--url", "https://h", "--timeout", "0"), "between 1 and 300"),
        (("--url", "https://h", "--ca-bundle", "/no/such.pem"), "does not exist"),
        (("--url", "https://h:0"), "between 1 and 65535"),
        (("--url", "https://[::1"), "not a valid address"),
        (("--url", "https://[zz]"), "not a valid address"),
        (("--url", "https://h/V4/closesession"), "/V4/closesession/V4/closesession"),
    ],
)
def test_profile_add_refuses_bad_values(cli: CliRunner, args: tuple[str, ...], words: str) -> None:
    run = cli("profile", "add", "p", *args)
    assert run.status == 2
    assert words in run.err


def test_profile_add_twice_is_refused(cli: CliRunner) -> None:
    cli("profile", "add", "p", "--url", "https://h")
    run = cli("profile", "add", "p", "--url", "https://h")
    assert run.status == 2
    assert "already exists" in run.err


def test_unreadable_profile_file_is_a_clear_configuration_error(cli: CliRunner, home: Path) -> None:
    (home / "profiles.toml").write_text("[profiles.x\nurl=")
    run = cli("close", "terminal-0001")
    assert run.status == 4
    assert "cannot be read" in run.err
    assert "profiles.toml" in run.err


def test_secret_set_reads_stdin_and_stores_in_the_real_keyring(
    cli_process: CliProcessRunner, home: Path
) -> None:
    assert cli_process("profile", "add", "p", "--url", "https://h.example").status == 0
    run = cli_process("secret", "set", "p", stdin="  top-secret-value\n")
    assert run.status == 0, run.text
    assert "top-secret-value" not in run.text
    assert KeyringSecrets().get("p") == "top-secret-value"
    listed = json.loads(cli_process("profile", "list", "--json").out)
    assert listed[0]["secret"] == "stored"
    for path in home.rglob("*"):
        if path.is_file():
            assert b"top-secret-value" not in path.read_bytes(), path
    assert cli_process("secret", "delete", "p").status == 0
    assert not KeyringSecrets().has("p")
    assert "no secret key stored" in cli_process("secret", "delete", "p").out


def test_secret_is_never_an_argument(cli_process: CliProcessRunner) -> None:
    run = cli_process("secret", "set", "p", "the-secret")
    assert run.status == 2
    assert "unrecognized arguments" in run.err


def test_secret_for_unknown_profile_and_empty_secret(cli_process: CliProcessRunner) -> None:
    assert cli_process("secret", "set", "ghost", stdin="x").status == 4
    cli_process("profile", "add", "p", "--url", "https://h.example")
    run = cli_process("secret", "set", "p", stdin="\n")
    assert run.status == 2
    assert "nothing was stored" in run.err


def test_profile_remove_deletes_its_secret(cli: CliRunner) -> None:
    cli("profile", "add", "gone", "--url", "https://h.example")
    KeyringSecrets().set("gone", "x")
    run = cli("profile", "remove", "gone")
    assert "deleted from the keyring" in run.out
    assert not KeyringSecrets().has("gone")


def test_cli_startup_does_not_import_qt(home: Path) -> None:
    code = (
        "import sys, runpy; sys.argv=['support-tool','profile','list'];"
        "from support_tool.cli.commands import main; main(['profile','list']);"
        "bad=[m for m in sys.modules if m.startswith(('PySide6','shiboken6'))];"
        "print('QT' if bad else 'NOQT')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    ).stdout
    assert out.strip().endswith("NOQT")


def test_demo_close_needs_no_configuration(cli_process: CliProcessRunner, home: Path) -> None:
    run = cli_process("--demo", "close", "terminal-0001", "--clear-history")
    assert run.status == 0, run.text
    assert (home / "demo-history.sqlite3").exists()
    assert not (home / "history.sqlite3").exists()  # training stays out of the real audit trail
    assert not (home / "profiles.toml").exists()
    history = cli_process("--demo", "history", "--json")
    assert json.loads(history.out.splitlines()[0])["profile"] == "Sandbox"


def test_sandbox_command_prints_url_and_secret_and_serves(
    cli_process: CliProcessRunner, home: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "support_tool", "sandbox", "--port", "0", "--secret", "demo-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert first.startswith("Sandbox provider listening on http://127.0.0.1:")
        assert process.stdout.readline().strip() == "Secret key: demo-key"
        assert cli_process("profile", "add", "sb", "--url", url).status == 0
        assert cli_process("secret", "set", "sb", stdin="demo-key").status == 0
        run = cli_process("close", "terminal-0002", "--clear-history")
        assert run.status == 0, run.text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        KeyringSecrets().delete("sb")
    assert process.returncode == 0


def test_sandbox_port_in_use_is_a_clear_error(
    cli_process: CliProcessRunner, sandbox: SandboxServer
) -> None:
    run = cli_process("sandbox", "--port", str(sandbox.port))
    assert run.status == 4
    assert "cannot listen on port" in run.err


def test_usage_errors_exit_2(cli_process: CliProcessRunner) -> None:
    assert cli_process("close").status == 2
    assert cli_process("history", "--outcome", "nope").status == 2
    assert cli_process("--demo", "profile", "list").status == 2
    assert cli_process("--demo", "group", "add", "X", "-").status == 2  # built in
    assert cli_process("sandbox", "--rate-limit", "0").status == 2


def test_hand_edited_remote_http_url_is_refused_and_recorded(cli: CliRunner, home: Path) -> None:
    (home / "profiles.toml").write_text(
        'default = "x"\n[profiles."x"]\nurl = "http://api.provider.example"\n'
    )
    run = cli("close", "terminal-0001")
    assert run.status == 4
    assert "Plain http:// is only allowed" in run.err
    import sqlite3

    with sqlite3.connect(home / "history.sqlite3") as db:
        assert db.execute("SELECT outcome FROM actions").fetchall() == [("configuration_error",)]
