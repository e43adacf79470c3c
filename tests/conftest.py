"""Shared fixtures: every test runs against real parts.

* ``home``: an empty SUPPORT_TOOL_HOME (config, history, logs) per test;
* ``secret_service``: a real gnome-keyring on a private D-Bus, once per session, started
  only when a collected test is marked ``keyring``;
* ``sandbox``: the real sandbox provider on a loopback port;
* ``cli`` / ``cli_process``: the command line in-process, or as a real child process.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from hypothesis import settings

from support_tool.sandbox import SandboxServer
from tests.keyring_daemon import SecretServiceDaemon
from tests.postgres_server import postgres_server, team_database  # noqa: F401 - fixtures

SANDBOX_SECRET = "sandbox-secret-Z9!x"

# CI must not fail by the luck of the draw: there the fuzz tests replay the same examples
# every run (a failure is then the code's, reproducible from the log); on a developer's
# machine they keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


KEYRING_WANTED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember whether any collected test needs the real keyring (``keyring`` marker):
    only then does the session start gnome-keyring (``pytest tests/test_signing.py`` does
    not)."""
    config.stash[KEYRING_WANTED] = any(item.get_closest_marker("keyring") for item in items)


@pytest.fixture(scope="session", autouse=True)
def secret_service(request: pytest.FixtureRequest) -> Iterator[SecretServiceDaemon | None]:
    """Start the private Secret Service before anything initialises the keyring library,
    when a collected test is marked ``keyring``. Otherwise keyring's ``fail`` backend is
    set, so that an unmarked test touching the keyring fails plainly instead of reaching
    the developer's own keyring."""
    if not request.config.stash.get(KEYRING_WANTED, True):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
            yield None
        return
    daemon = SecretServiceDaemon()
    saved = {k: os.environ.get(k) for k in daemon.environment()}
    os.environ.update(daemon.environment())
    try:
        yield daemon
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        daemon.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("SUPPORT_TOOL_HOME", str(folder))
    return folder


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(secret=SANDBOX_SECRET) as server:
        yield server


class CliRunner(Protocol):
    """The ``cli`` fixture: ``support-tool ARGS`` in this process."""

    def __call__(self, *args: str) -> CliRun: ...


class CliProcessRunner(Protocol):
    """The ``cli_process`` fixture: ``support-tool ARGS`` as a child process."""

    def __call__(
        self,
        *args: str,
        stdin: str = "",
        env: dict[str, str] | None = None,
        prefix: tuple[str, ...] = (),
        timeout: float = 60,
    ) -> CliRun: ...


@dataclass
class CliRun:
    status: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run ``support-tool ARGS`` in this process; returns status and captured output."""
    from support_tool.cli.commands import main

    def run(*args: str) -> CliRun:
        capsys.readouterr()
        status = main(list(args))
        captured = capsys.readouterr()
        return CliRun(status, captured.out, captured.err)

    return run


BINARY_ENV = "SUPPORT_TOOL_BINARY"


def cli_command() -> list[str]:
    """How to start the command line: ``python -m support_tool``, or the standalone app's
    executable when SUPPORT_TOOL_BINARY names one (CI runs the child-process tests again
    against the bundle, so the bundle is tested, not just the package)."""
    binary = os.environ.get(BINARY_ENV, "").strip()
    return [binary] if binary else [sys.executable, "-m", "support_tool"]


@pytest.fixture
def cli_process(home: Path) -> CliProcessRunner:
    """Run ``support-tool ARGS`` as a real child process (stdin, exit status): the package
    with this interpreter, or the executable in SUPPORT_TOOL_BINARY."""

    def run(
        *args: str,
        stdin: str = "",
        env: dict[str, str] | None = None,
        prefix: tuple[str, ...] = (),
        timeout: float = 60,
    ) -> CliRun:
        completed = subprocess.run(
            [*prefix, *cli_command(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "SUPPORT_TOOL_HOME": str(home), **(env or {})},
        )
        return CliRun(completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def sandbox_profile(cli: CliRunner, sandbox: SandboxServer) -> Iterator[str]:
    """A profile named 'sandbox' pointing at the running sandbox, secret in the keyring."""
    from support_tool.config.secret_store import KeyringSecrets

    assert cli("profile", "add", "sandbox", "--url", sandbox.url, "--timeout", "3").status == 0
    KeyringSecrets().set("sandbox", SANDBOX_SECRET)
    yield "sandbox"
    KeyringSecrets().delete("sandbox")
