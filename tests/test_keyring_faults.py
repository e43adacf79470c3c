"""Keyring faults, through the command line and the window: a locked collection, a daemon
that does not answer, and no backend at all. Each gives a clear message within seconds and
a history row; never a hang, never plaintext."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from support_tool.config import secret_store
from support_tool.config.profiles import ProfileStore, make_profile
from support_tool.config.secret_store import KEYRING_TIMEOUT_S, KeyringSecrets
from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET, CliProcessRunner
from tests.gui_fixtures import window_for
from tests.keyring_daemon import SecretServiceDaemon
from tests.test_gui_close import tick_counter, wait_answer

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


@pytest.fixture
def private_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretServiceDaemon]:
    """A second real gnome-keyring on its own bus, which these tests may lock or freeze."""
    daemon = SecretServiceDaemon()
    for key, value in daemon.environment().items():
        monkeypatch.setenv(key, value)
    try:
        yield daemon
    finally:
        daemon_pid = _keyring_daemon_pid(daemon)
        if daemon_pid:
            os.kill(daemon_pid, signal.SIGCONT)
        daemon.stop()


def _keyring_daemon_pid(daemon: SecretServiceDaemon) -> int | None:
    found = subprocess.run(
        ["pgrep", "-f", "gnome-keyring-daemon --unlock --foreground"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for pid in map(int, found):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        # The daemon itself, not the shell that started it (its command line matches too).
        if name.startswith("gnome-keyring") and str(daemon.root).encode() in environ:
            return pid
    return None


@pytest.fixture
def profile_with_secret(
    home: Path, sandbox: SandboxServer, private_keyring: SecretServiceDaemon
) -> str:
    store = ProfileStore()
    store.save(store.load().with_profile(make_profile("sandbox", sandbox.url, 3.0)))
    KeyringSecrets().set("sandbox", SANDBOX_SECRET)
    return "sandbox"


def lock_collection() -> None:
    import secretstorage

    bus = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(bus)
    collection.lock()
    assert collection.is_locked()
    bus.close()


def history_outcomes(home: Path) -> list[str]:
    with sqlite3.connect(home / "history.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT outcome FROM actions ORDER BY id")]


def test_locked_collection_from_the_command_line(
    cli_process: CliProcessRunner, home: Path, sandbox: SandboxServer, profile_with_secret: str
) -> None:
    lock_collection()
    started = time.monotonic()
    run = cli_process("close", "terminal-0001")
    assert time.monotonic() - started < 10  # a bound to catch hangs, not a speed target
    assert run.status == 4
    assert "The keyring is locked" in run.err
    assert "Unlock it" in run.err
    assert SANDBOX_SECRET not in run.text
    assert history_outcomes(home) == ["configuration_error"]
    assert sandbox.request_count == 0


def test_keyring_that_does_not_answer_from_the_command_line(
    cli_process: CliProcessRunner,
    home: Path,
    sandbox: SandboxServer,
    private_keyring: SecretServiceDaemon,
    profile_with_secret: str,
) -> None:
    pid = _keyring_daemon_pid(private_keyring)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    run = cli_process("close", "terminal-0001", timeout=KEYRING_TIMEOUT_S + 20)
    elapsed = time.monotonic() - started
    assert run.status == 4, run.text
    assert f"did not answer within {KEYRING_TIMEOUT_S:g} s" in run.err
    assert elapsed < KEYRING_TIMEOUT_S + 10  # never the D-Bus default of 25 s, never forever
    assert history_outcomes(home) == ["configuration_error"]
    assert sandbox.request_count == 0


def test_no_backend_in_the_window(qtbot: QtBot, home: Path, sandbox: SandboxServer) -> None:
    from keyring.backends import fail

    store = ProfileStore()
    store.save(store.load().with_profile(make_profile("sandbox", sandbox.url, 3.0)))
    with open_runtime() as runtime:
        assert isinstance(runtime.secrets, KeyringSecrets)
        runtime.secrets._backend = fail.Keyring()  # what keyring picks with no backend
        with window_for(qtbot, runtime) as window:
            window.form.login.setText("terminal-0001")
            window.form.submit()
            wait_answer(qtbot, window)
            text = window.answer.description.text()
            assert "No working keyring" in text
            assert "never stores secret keys in a file" in text
    assert history_outcomes(home) == ["configuration_error"]


@pytest.mark.gui
def test_locked_and_frozen_keyring_in_the_window_stays_responsive(
    qtbot: QtBot,
    home: Path,
    sandbox: SandboxServer,
    private_keyring: SecretServiceDaemon,
    profile_with_secret: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(secret_store, "KEYRING_TIMEOUT_S", 2.0)
    with open_runtime() as runtime, window_for(qtbot, runtime) as window:
        assert isinstance(runtime.secrets, KeyringSecrets)
        runtime.secrets._timeout_s = 2.0
        lock_collection()
        window.form.login.setText("terminal-0001")
        window.form.submit()
        wait_answer(qtbot, window)
        assert "The keyring is locked" in window.answer.description.text()

        pid = _keyring_daemon_pid(private_keyring)
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        ticks, timer = tick_counter()
        timer.start()
        window.form.login.setText("terminal-0002")
        window.form.submit()
        wait_answer(qtbot, window, timeout=15_000)
        timer.stop()
        assert "did not answer within 2 s" in window.answer.description.text()
        assert len(ticks) >= 20  # the window kept running while the keyring hung
    assert history_outcomes(home) == ["configuration_error", "configuration_error"]
    assert sandbox.request_count == 0


def test_a_frozen_keyring_costs_a_batch_one_bound_not_one_per_worker(
    cli_process: CliProcessRunner,
    home: Path,
    sandbox: SandboxServer,
    private_keyring: SecretServiceDaemon,
    profile_with_secret: str,
) -> None:
    """16 workers at once against a SIGSTOPped gnome-keyring: the first read gives up after
    the 5 s bound and every other worker gets that answer at once (it was 5 s x 16 = 80 s)."""
    listing = home / "sixteen.csv"
    listing.write_text("".join(f"terminal-{n:04d}\n" for n in range(1, 17)))
    pid = _keyring_daemon_pid(private_keyring)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    run = cli_process("batch", str(listing), "--concurrency", "16", "--json", timeout=150)
    elapsed = time.monotonic() - started
    assert run.status == 4, run.text
    assert f"did not answer within {KEYRING_TIMEOUT_S:g} s" in run.err + run.out
    assert elapsed < 15  # one bound plus generous slack; one per worker would be 80 s
    assert sandbox.request_count == 0
    assert set(history_outcomes(home)) == {"configuration_error"}
