"""close --clear-history on a production profile asks, as the window does: at a terminal
the operator types the login; without one it is refused (exit 2, recorded) unless --yes.
And logins a person cannot read back are refused everywhere, with the reason."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support_tool.config.secret_store import KeyringSecrets
from support_tool.errors import InvalidInput
from support_tool.ops.terminals import parse_terminals
from support_tool.provider.validation import clean_login
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET, CliProcessRunner, CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


@pytest.fixture
def production(cli: CliRunner, sandbox: SandboxServer) -> Iterator[str]:
    assert cli("profile", "add", "live", "--url", sandbox.url, "--production").status == 0
    KeyringSecrets().set("live", SANDBOX_SECRET)
    yield "live"
    KeyringSecrets().delete("live")


def outcomes(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "history.sqlite3") as db:
        return db.execute("SELECT outcome, description FROM actions ORDER BY id").fetchall()


def test_without_a_terminal_it_is_refused_and_recorded(
    cli_process: CliProcessRunner, home: Path, sandbox: SandboxServer, production: str
) -> None:
    run = cli_process("close", "terminal-0001", "--clear-history")
    assert run.status == 2, run.text
    assert "PRODUCTION profile 'live'" in run.err
    assert "--yes" in run.err
    assert sandbox.request_count == 0
    [(outcome, description)] = outcomes(home)
    assert outcome == "invalid_input"
    assert "Not confirmed" in description
    assert cli_process("close", "terminal-0001", "--clear-history", "--yes").status == 0
    assert cli_process("close", "terminal-0002").status == 0  # no clearing: nothing to ask
    assert sandbox.request_count == 2


def close_at_a_terminal(home: Path, typed: bytes) -> tuple[int, str]:
    """Run close with its stdin, stdout and stderr on a real pseudo-terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "support_tool", "close", "terminal-0003", "--clear-history"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home)},
    )
    os.close(follower)
    seen = b""
    try:
        while b"Enter cancels" not in seen:
            ready, _, _ = select.select([leader], [], [], 30)
            assert ready, f"no question within 30 s: {seen!r}"
            seen += os.read(leader, 4096)
        os.write(leader, typed)
        process.wait(timeout=30)
        while select.select([leader], [], [], 0)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    return process.returncode, seen.decode(errors="replace")


def test_at_a_terminal_the_login_must_be_typed(
    home: Path, sandbox: SandboxServer, production: str
) -> None:
    status, text = close_at_a_terminal(home, b"\n")  # Enter by reflex cancels
    assert status == 2, text
    assert "This closes the session of terminal-0003 (all games) on PRODUCTION" in text
    assert sandbox.request_count == 0
    status, text = close_at_a_terminal(home, b"terminal-0004\n")
    assert status == 2, text
    assert sandbox.request_count == 0
    status, text = close_at_a_terminal(home, b"terminal-0003\n")
    assert status == 0, text
    assert "Closed: session of terminal-0003" in text
    assert sandbox.request_count == 1
    assert [o for o, _ in outcomes(home)] == ["invalid_input", "invalid_input", "success"]


UNREADABLE = [
    ("\u3164", "invisible character U+3164"),
    ("abc\u3164", "invisible character U+3164"),
    ("\u2800", "invisible character U+2800"),
    ("a\u200bb", "invisible character U+200B"),
    ("\ufeffterminal-1", "invisible character U+FEFF"),
    ("\u0301", "accent or mark with no letter before it"),
    ("terminal-1\U0001f600", "emoji or symbol (U+1F600"),
    ("\u115f\u1160", "invisible character U+115F"),
    ("a\u2061b", "invisible character U+2061"),
    ("a\ufe0fb", "invisible character U+FE0F"),
]


@pytest.mark.parametrize(("login", "reason"), UNREADABLE)
def test_logins_a_person_cannot_read_are_refused(login: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match="contains") as caught:
        clean_login(login)
    assert reason in str(caught.value)
    parsed = parse_terminals(f"terminal-0001\n{login}\n")  # batches share the rule
    assert [t.login for t in parsed.terminals] == ["terminal-0001"]
    assert reason in parsed.invalid[0].reason


def test_the_close_command_refuses_them_and_records_why(cli: CliRunner, home: Path) -> None:
    run = cli("close", "\u3164")
    assert run.status == 2
    assert "contains an invisible character U+3164" in run.err
    assert outcomes(home)[0][0] == "invalid_input"


_BLANK = st.sampled_from(["\u3164", "\u2800", "\u200b", "\ufeff", "\u115f", "\u034f", "\u2060"])
_READABLE = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x2FFF), min_size=1
)


@given(_READABLE, _BLANK, _READABLE)
def test_a_blank_looking_character_anywhere_is_refused(before: str, blank: str, after: str) -> None:
    with pytest.raises(InvalidInput, match=f"U\\+{ord(blank):04X}"):
        clean_login((before + blank + after)[:128] if len(before) < 100 else blank + after[:20])


@given(_READABLE.filter(lambda s: len(s) <= 128))
def test_letters_and_digits_are_accepted(login: str) -> None:
    assert clean_login(login) == login
