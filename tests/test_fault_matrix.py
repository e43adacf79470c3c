"""The fault matrix: every way the provider side can fail, through the command line *and*
the window. Each case must give a clear message, the right outcome and exit status, a
history row, end within the profile's deadline plus 2 s, and leave the window responsive.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from pytestqt.qtbot import QtBot

from support_tool.config.profiles import ProfileStore, make_profile
from support_tool.config.secret_store import KeyringSecrets
from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET, CliProcessRunner
from tests.gui_fixtures import window_for
from tests.test_gui_close import tick_counter, wait_answer

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

DEADLINE_S = 2.0


@dataclass(frozen=True)
class Case:
    name: str
    outcome: str
    status: int
    words: str
    fault: str = "none"
    login: str = "terminal-0001"
    clear: bool = False
    where: str = "sandbox"  # sandbox | closed-port | no-dns | tls-other-host
    secret: str = SANDBOX_SECRET


T = "transport_failure"
CASES = [
    Case("refused connection", T, 3, "refused the connection", where="closed-port"),
    Case("DNS failure", T, 3, "could not be found", where="no-dns"),
    Case("TLS certificate mismatch", T, 3, "certificate", where="tls-other-host"),
    Case("HTTP 500 with HTML", T, 3, "HTTP 500", fault="http500"),
    Case("HTTP 404", T, 3, "HTTP 404", fault="notfound"),
    Case("unreadable JSON", T, 3, "not the expected JSON", fault="badjson"),
    Case("JSON of the wrong shape", T, 3, "expected shape", fault="wrongshape"),
    Case("slow drip past the deadline", T, 3, "within 2 s", fault="drip"),
    Case("reset mid-response", T, 3, "connection", fault="reset"),
    Case("50 MB body", T, 3, "larger than 1 MiB", fault="bigbody"),
    Case("redirect", T, 3, "redirect", fault="redirect"),
    Case("a key named twice", T, 3, "names the key 'error' more than once", fault="duplicatekeys"),
    Case("rate limit (99)", "refused", 1, "Request limit exceeded", fault="ratelimit"),
    Case("refusal 1: bad hash", "refused", 1, "Unauthorized", secret="not-the-secret"),
    Case("refusal 3: invalid value", "refused", 1, "Invalid parameter value", fault="badparam"),
    Case("refusal 4: no round", "refused", 1, "Round not found", login="player-001", clear=True),
    Case("refusal 17: unknown player", "refused", 1, "Player not found", login="nobody-here"),
    Case("refusal 100: internal", "refused", 1, "Internal error", fault="internal"),
    Case("900 KB description", "refused", 1, "[cut: 900,000 characters", fault="longdescription"),
]


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@contextmanager
def provider(case: Case, authority: trustme.CA, folder: Path) -> Iterator[tuple[str, str]]:
    """The profile URL and CA bundle for the case, with the provider side misbehaving."""
    if case.where == "closed-port":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        yield f"http://127.0.0.1:{port}", ""
        return
    if case.where == "no-dns":
        yield "https://support-tool-fault-matrix.invalid", ""  # RFC 6761: never resolves
        return
    tls = None
    bundle = ""
    if case.where == "tls-other-host":
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("other-host.example").configure_cert(tls)
        bundle = str(folder / "ca.pem")
        authority.cert_pem.write_to_path(bundle)
    with SandboxServer(secret=SANDBOX_SECRET, fault=case.fault, tls=tls) as sandbox:
        yield sandbox.url, bundle


@contextmanager
def profile(url: str, bundle: str, secret: str) -> Iterator[None]:
    store = ProfileStore()
    store.save(store.load().with_profile(make_profile("matrix", url, DEADLINE_S, bundle), True))
    KeyringSecrets().set("matrix", secret)
    try:
        yield
    finally:
        KeyringSecrets().delete("matrix")


def rows(home: Path, name: str) -> list[tuple[str, str]]:
    with sqlite3.connect(home / name) as db:
        return db.execute("SELECT outcome, description FROM actions ORDER BY id").fetchall()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_through_the_command_line(
    case: Case, cli_process: CliProcessRunner, home: Path, authority: trustme.CA
) -> None:
    with provider(case, authority, home) as (url, bundle), profile(url, bundle, case.secret):
        args = ["close", case.login, "--json", *(["--clear-history"] if case.clear else [])]
        # Name lookup fails for real, with no query leaving the machine: a network
        # namespace with no route out (the only sure way to fail fast without a network).
        isolated = ("unshare", "-n") if case.where == "no-dns" else ()
        if isolated and not shutil.which("unshare"):
            pytest.skip("needs unshare(1)")
        started = time.monotonic()
        run = cli_process(*args, prefix=isolated)
        elapsed = time.monotonic() - started
    assert run.status == case.status, run.text
    answer = json.loads(run.out)
    assert answer["outcome"] == case.outcome
    assert case.words in answer["description"]
    assert answer["next_step"]  # every failure says what to do next
    assert elapsed < DEADLINE_S + 2 + 1.5  # + the interpreter's own start
    assert rows(home, "history.sqlite3") == [(case.outcome, answer["description"])]


@pytest.mark.gui
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_through_the_window(
    case: Case, qtbot: QtBot, home: Path, authority: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.where == "no-dns":
        # The window runs in this process, which cannot leave the network namespace; the
        # resolver's answer is stood in for (the command-line case above is the real one).
        def no_such_name(*args: object, **kwargs: object) -> list[object]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with (
        provider(case, authority, home) as (url, bundle),
        profile(url, bundle, case.secret),
        open_runtime() as runtime,
        window_for(qtbot, runtime) as window,
    ):
        window.form.login.setText(case.login)
        window.form.clear.setChecked(case.clear)
        ticks, timer = tick_counter()
        timer.start()
        started = time.monotonic()
        window.form.submit()
        if case.clear:
            assert window.confirmation is not None
            window.confirmation.ok.click()
        wait_answer(qtbot, window, timeout=int((DEADLINE_S + 8) * 1000))
        elapsed = time.monotonic() - started
        timer.stop()
        shown = window.answer.shown
        assert shown is not None
        assert shown.result.outcome.value == case.outcome
        assert case.words in window.answer.description.text()
        assert shown.result.next_step
        assert elapsed < DEADLINE_S + 2
        assert len(ticks) >= int(elapsed * 5)  # the event loop ran throughout (20 ms timer)
    assert rows(home, "history.sqlite3") == [(case.outcome, shown.result.description)]
