"""A day in miniature, then a search for the secret key everywhere the tool leaves traces.

Profiles are added and secrets stored; single closes, a batch and every provider fault run
through the command line and the window; the history is exported; *Copy details* and an
unexpected-error report go to the clipboard; logging is at DEBUG. Then every file under the
tool's folders, every export, everything printed and everything put on the clipboard is
searched for the secret in plain, hex, base64 and URL-encoded forms: zero hits.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from support_tool.config.logsetup import configure_logging
from support_tool.config.secret_store import KeyringSecrets
from support_tool.gui.app import install_error_hook
from support_tool.gui.error_report import ErrorReport
from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from support_tool.sandbox.faults import FAULTS
from tests.conftest import CliProcessRunner, CliRunner
from tests.gui_fixtures import window_for
from tests.test_gui_close import wait_answer

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

CANARY = "Leak-Canary/7f3e9d+Q!"  # '/', '+' and '!' encode differently in URLs and base64


def encodings(secret: str) -> dict[str, bytes]:
    raw = secret.encode()
    return {
        "plain": raw,
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        "base64": base64.b64encode(raw),
        "base64url": base64.urlsafe_b64encode(raw),
        "base64 unpadded": base64.b64encode(raw).rstrip(b"="),
        "url-encoded": quote(secret, safe="").encode(),
        "url-encoded (+)": quote_plus(secret).encode(),
        "url-encoded (lower)": quote(secret, safe="").lower().encode(),
    }


def hits(blob: bytes, where: str) -> list[str]:
    return [f"{name} form in {where}" for name, form in encodings(CANARY).items() if form in blob]


@pytest.fixture
def canary_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(secret=CANARY) as server:
        yield server


@pytest.fixture
def debug_logging(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SUPPORT_TOOL_LOG_LEVEL", "DEBUG")
    configure_logging()
    yield
    root = logging.getLogger("support_tool")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()


@pytest.mark.gui
def test_a_day_in_miniature_leaves_no_trace_of_the_secret(
    qtbot: QtBot,
    home: Path,
    tmp_path: Path,
    cli: CliRunner,
    cli_process: CliProcessRunner,
    canary_sandbox: SandboxServer,
    debug_logging: None,
) -> None:
    printed: list[str] = []
    clipboard: list[str] = []
    exports = tmp_path / "exports"
    exports.mkdir()

    def run(*args: str) -> None:
        result = cli(*args)
        printed.append(result.out + result.err)

    # Profiles and secrets, as an operator sets them up (the secret only ever on stdin).
    run("profile", "add", "live", "--url", canary_sandbox.url, "--timeout", "2", "--default")
    run("profile", "add", "spare", "--url", canary_sandbox.url, "--production")
    for name in ("live", "spare"):
        stored = cli_process("secret", "set", name, stdin=CANARY + "\n")
        printed.append(stored.out + stored.err)
        assert stored.status == 0
    try:
        run("profile", "list")
        run("profile", "list", "--json")
        # Single closes, refusals, every fault, a batch, the history in every format.
        run("close", "terminal-0001", "--clear-history", "--reason", "leak scan")
        run("close", "nobody", "--json")
        for fault in FAULTS:
            canary_sandbox.fault = fault
            run("close", "terminal-0002", "--json")
        canary_sandbox.fault = "none"
        listing = tmp_path / "bank.csv"
        listing.write_text("".join(f"terminal-{n:04d}\n" for n in range(10, 40)))
        run("batch", str(listing), "--clear-history", "--json")
        run("group", "add", "Bank", str(listing))
        run("history")
        run("history", "--json")
        run("history", "--csv")
        run("history", "verify")
        stdout_child = cli_process(
            "close", "terminal-0003", env={"SUPPORT_TOOL_LOG_LEVEL": "DEBUG"}
        )
        printed.append(stdout_child.out + stdout_child.err)

        # The window: a close with Copy details, a batch with its export, a history export,
        # and an unexpected error's report copied.
        with open_runtime() as runtime, window_for(qtbot, runtime) as window:
            window.form.login.setText("terminal-0100")
            window.form.submit()
            wait_answer(qtbot, window)
            window.answer.copy_details()
            clipboard.append(QGuiApplication.clipboard().text())
            assert "•••" in clipboard[-1]  # the hashed string is shown, redacted

            tab = window.terminals_view()
            qtbot.waitUntil(lambda: tab.profile.count() > 0)
            tab.editor.setPlainText("\n".join(f"terminal-{n:04d}" for n in range(200, 210)))
            qtbot.waitUntil(lambda: tab.checked)
            assert tab.parsed is not None
            tab.start(list(tab.parsed.terminals), [], tab.options())
            qtbot.waitUntil(lambda: tab.summary is not None, timeout=20_000)
            tab.export_results_to(exports / "batch.csv")
            qtbot.waitUntil(lambda: (exports / "batch.csv").exists())
            view = window.history_view()
            view.export_to(exports / "history.csv")
            qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage())

            import sys

            from support_tool.gui import app

            saved_hook = sys.excepthook
            install_error_hook()

            def signing_goes_wrong(secret: str) -> None:
                raise RuntimeError("unexpected failure while signing")

            try:
                signing_goes_wrong(runtime.secrets.get("live"))
            except RuntimeError as exc:
                sys.excepthook(type(exc), exc, exc.__traceback__)
            finally:
                sys.excepthook = saved_hook
            report = app._open_reports[-1]
            assert isinstance(report, ErrorReport)
            clipboard.append(report.report)
            report.close()
    finally:
        KeyringSecrets().delete("live")
        KeyringSecrets().delete("spare")

    found: list[str] = []
    files = [p for p in (*home.rglob("*"), *exports.rglob("*")) if p.is_file()]
    assert any(p.suffix == ".log" for p in files), "logging was expected to write a file"
    assert any(p.name.startswith("history.sqlite3") for p in files)
    for path in files:
        found += hits(path.read_bytes(), str(path.relative_to(tmp_path)))
    for n, text in enumerate(printed):
        found += hits(text.encode(), f"printed output #{n}")
    for n, text in enumerate(clipboard):
        found += hits(text.encode(), f"clipboard #{n}")
    assert found == []
    assert len(files) >= 6


def test_the_scan_finds_every_form_it_looks_for() -> None:
    """The scan above can fail: each encoded form, planted in a file's bytes, is found."""
    for name, form in encodings(CANARY).items():
        assert hits(b"log line: " + form + b" end", "planted") != [], name
    assert hits(b"nothing to see", "clean") == []


def test_a_debug_log_of_a_day_holds_each_request_lifecycle_and_no_secret_or_hash(
    cli: CliRunner,
    cli_process: CliProcessRunner,
    home: Path,
    canary_sandbox: SandboxServer,
) -> None:
    """SUPPORT_TOOL_LOG_LEVEL=DEBUG, real child processes: every close leaves its story
    (what, where, attempts, timings, HTTP status, outcome) and never the secret, the hash
    or the string that was hashed."""
    from urllib.parse import parse_qs

    from support_tool.provider.request import CloseRequest
    from support_tool.provider.signing import string_to_sign

    host = canary_sandbox.url.removeprefix("http://")
    assert cli("profile", "add", "day", "--url", canary_sandbox.url, "--timeout", "2").status == 0
    assert cli_process("secret", "set", "day", stdin=CANARY + "\n").status == 0
    debug = {"SUPPORT_TOOL_LOG_LEVEL": "DEBUG"}
    closes = [  # login, game, clear, fault, outcome
        ("terminal-0001", "vs20olympgate", True, "none", "success"),
        ("nobody-here", None, False, "none", "refused"),
        ("terminal-0002", None, False, "http500", "transport_failure"),
        ("terminal-0003", None, False, "duplicatekeys", "transport_failure"),
        ("terminal-0004", None, False, "reset", "transport_failure"),
        ("terminal-0005", None, False, "longdescription", "refused"),
    ]
    try:
        for login, game, clear, fault, _ in closes:
            canary_sandbox.fault = fault
            args = ["close", login, *(["--game", game] if game else [])]
            cli_process(*args, *(["--clear-history"] if clear else []), env=debug)
    finally:
        KeyringSecrets().delete("day")
    cli_process("close", "terminal-0006", env=debug)  # no secret: refused before sending

    log_text = (home / "logs" / "support-tool.log").read_text(encoding="utf-8")
    # A close's number is its history id, its attempt's event: each close takes two events.
    for number, (login, game, clear, _, outcome) in zip(
        range(1, 2 * len(closes), 2), closes, strict=True
    ):
        assert (
            f"close #{number} sending: profile=day host={host} proxy=none login={login} "
            f"game={game or '(all)'} clear={int(clear)}" in log_text
        )
        assert (
            f"close #{number} profile=day login={login} game={game or ''} clear={int(clear)} "
            f"outcome={outcome} code=" in log_text
        )
    assert log_text.count(f"attempt 1 to {host} via a direct connection") == len(closes)
    timings = re.findall(
        rf"attempt 1 to {re.escape(host)}: connect \d+ ms, first byte \d+ ms, "
        r"total \d+ ms, HTTP (\d+)",
        log_text,
    )
    assert sorted(timings) == ["200", "200", "200", "200", "500"]
    assert f"attempt 1 to {host} failed after" in log_text  # the reset
    assert f"close #{2 * len(closes) + 1} refused before sending: configuration_error" in log_text

    leaks = hits(log_text.encode(), "the DEBUG log")
    hashes = [parse_qs(r.query)["HASH"][0] for r in canary_sandbox.received]
    assert len(hashes) == len(closes)
    leaks += [f"hash {h} in the DEBUG log" for h in hashes if h in log_text]
    for login, game, clear, *_ in closes:
        hashed = string_to_sign(CloseRequest.from_input(login, game, clear).params())
        leaks += [f"hashed string {hashed!r}" for _ in [1] if hashed in log_text]
    assert leaks == []
