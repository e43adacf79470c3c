"""Every way the provider side can fail, through the real transport and the real sandbox.

Each case must end in a clean result, within the deadline, without following redirects
or reading unbounded bodies.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from support_tool.provider.outcome import CloseResult, Failure, Outcome
from support_tool.provider.request import CloseRequest, build_signed
from support_tool.provider.transport import Transport
from support_tool.sandbox import SandboxServer

SECRET = "transport-secret"


def send(
    url: str, login: str = "terminal-0001", deadline: float = 3.0, ca: str = ""
) -> CloseResult:
    with Transport(deadline_s=deadline, ca_bundle=ca) as transport:
        return transport.send(build_signed(url, CloseRequest.from_input(login), SECRET))


@pytest.mark.parametrize(
    ("fault", "outcome", "failure", "code", "words"),
    [
        ("none", Outcome.SUCCESS, None, 0, "Success"),
        ("http500", Outcome.TRANSPORT_FAILURE, Failure.HTTP_STATUS, None, "HTTP 500: 500 Internal"),
        ("notfound", Outcome.TRANSPORT_FAILURE, Failure.HTTP_STATUS, None, "HTTP 404"),
        ("badjson", Outcome.TRANSPORT_FAILURE, Failure.NOT_JSON, None, "not the expected JSON"),
        ("wrongshape", Outcome.TRANSPORT_FAILURE, Failure.WRONG_SHAPE, None, "expected shape"),
        ("stringerror", Outcome.TRANSPORT_FAILURE, Failure.WRONG_SHAPE, None, "expected shape"),
        ("reset", Outcome.TRANSPORT_FAILURE, Failure.DISCONNECTED, None, "connection"),
        ("ratelimit", Outcome.REFUSED, None, 99, "Request limit exceeded"),
        ("internal", Outcome.REFUSED, None, 100, "Internal error"),
        ("redirect", Outcome.TRANSPORT_FAILURE, Failure.REDIRECT, None, "not followed"),
        ("bigbody", Outcome.TRANSPORT_FAILURE, Failure.TOO_LARGE, None, "larger than 1 MiB"),
        ("duplicatekeys", Outcome.TRANSPORT_FAILURE, Failure.WRONG_SHAPE, None, "more than once"),
    ],
)
def test_fault_matrix(
    fault: str, outcome: Outcome, failure: Failure | None, code: int | None, words: str
) -> None:
    with SandboxServer(secret=SECRET, fault=fault) as sandbox:
        result = send(sandbox.url)
        requests_seen = len(sandbox.received)
    assert result.outcome is outcome, result
    assert result.failure is failure
    assert result.error_code == code
    assert words in result.description
    assert result.next_step or outcome is Outcome.SUCCESS
    assert requests_seen == 1  # reached the server: never repeated automatically
    assert result.attempts == 1
    assert len(result.description) < 400


def test_html_error_page_is_shown_as_short_plain_text() -> None:
    with SandboxServer(secret=SECRET, fault="http500") as sandbox:
        result = send(sandbox.url)
    assert "<" not in result.description
    assert "html" not in result.description.lower()
    assert result.http_status == 500


def test_redirect_is_not_followed() -> None:
    with SandboxServer(secret=SECRET, fault="redirect") as sandbox:
        result = send(sandbox.url)
    assert "https://elsewhere.invalid/V4/closesession" in result.description
    assert result.http_status == 302


@pytest.mark.parametrize("fault", ["drip", "hang"])
def test_deadline_holds_against_drip_and_hang(fault: str) -> None:
    with SandboxServer(secret=SECRET, fault=fault) as sandbox:
        started = time.monotonic()
        result = send(sandbox.url, deadline=2.0)
        took = time.monotonic() - started
    assert result.failure is Failure.DEADLINE, result
    assert "within 2 s" in result.description
    assert "may or may not" in result.next_step
    assert took < 2.0 + 2.0  # the deadline plus scheduling slack, never the drip's 38 s


def test_a_socket_timeout_at_the_deadline_reads_as_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a busy machine the socket's own timeout (set to the time remaining) can fire
    before the watchdog marks the exchange expired. Here the watchdog never marks it, so
    only the socket times out: the operator must still read "no answer within 1.5 s", not
    "the connection was lost"."""
    from support_tool.provider.deadline import Exchange

    monkeypatch.setattr(Exchange, "_expire", lambda self: None)
    with SandboxServer(secret=SECRET, fault="hang") as sandbox:
        result = send(sandbox.url, deadline=1.5)
    assert result.failure is Failure.DEADLINE, result
    assert "within 1.5 s" in result.description


def test_latency_within_deadline_succeeds() -> None:
    with SandboxServer(secret=SECRET, latency_ms=300) as sandbox:
        result = send(sandbox.url, deadline=2.0)
    assert result.ok
    assert result.elapsed_ms >= 300


def test_connection_refused_is_retried_twice_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = send(f"http://127.0.0.1:{port}")
    assert result.failure is Failure.REFUSED_CONNECTION
    assert result.attempts == 3
    assert "refused the connection" in result.description
    assert "Nothing was sent" in result.description


def test_unreachable_host_times_out_connecting_within_the_deadline() -> None:
    # A listening socket whose backlog is full drops new SYNs: the connection never completes.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        started = time.monotonic()
        result = send(f"http://127.0.0.1:{listener.getsockname()[1]}", deadline=2.0)
        took = time.monotonic() - started
        for filler in fillers:
            filler.close()
    assert result.outcome is Outcome.TRANSPORT_FAILURE
    assert result.failure in (Failure.CONNECT_TIMEOUT, Failure.DEADLINE), result
    assert took < 4.0


def test_plain_http_to_a_remote_host_is_never_sent() -> None:
    from support_tool.errors import InvalidInput

    with pytest.raises(InvalidInput, match="Plain http://"):
        send("http://api.provider.example")


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_sandbox(authority: trustme.CA, request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    hostname = getattr(request, "param", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(hostname).configure_cert(context)
    with SandboxServer(secret=SECRET, tls=context) as sandbox:
        yield sandbox


def test_tls_with_the_profile_ca_bundle_succeeds(
    tls_sandbox: SandboxServer, authority: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    result = send(tls_sandbox.url, ca=str(bundle))
    assert result.ok, result


@pytest.mark.parametrize("tls_sandbox", ["other-host.example"], indirect=True)
def test_tls_certificate_for_another_host_is_refused(
    tls_sandbox: SandboxServer, authority: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    result = send(tls_sandbox.url, ca=str(bundle))
    assert result.failure is Failure.TLS, result
    assert "certificate" in result.description
    assert "localhost" in result.description
    assert not tls_sandbox.received
    assert result.attempts == 1


def test_tls_from_an_unknown_authority_is_refused(tls_sandbox: SandboxServer) -> None:
    result = send(tls_sandbox.url)
    assert result.failure is Failure.TLS
    assert not tls_sandbox.received
