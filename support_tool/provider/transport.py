"""The one place that sends requests to the provider.

Properties the contract demands, and how they are kept:

* a total deadline, even against a server that drips bytes (``deadline.Exchange``);
* at most 1 MiB of body read (streamed, then cut off);
* redirects reported, never followed (the request is signed for one endpoint);
* TLS always verified, against the authorities shipped with requests (certifi) or the
  profile's CA bundle;
* the environment never chooses where a request goes or whom it trusts: no
  ``*_PROXY``/``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` or netrc, only
  the profile's proxy and CA bundle (the answer decides what the audit history records);
* a request that could not connect is retried at most twice; one that reached the
  server is never repeated automatically;
* connections are reused across closes (a batch pays for one TLS handshake).
"""

from __future__ import annotations

import functools
import logging
import socket
import ssl
import threading
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from support_tool import __version__
from support_tool.provider import contract
from support_tool.provider.deadline import Exchange, current_exchange, set_current_exchange
from support_tool.provider.environment import ignored_environment
from support_tool.provider.interpret import interpret_http
from support_tool.provider.outcome import CloseResult, Failure, Outcome
from support_tool.provider.request import SignedRequest
from support_tool.provider.validation import clean_api_url

DEADLINE_SLACK_S = 0.05  # a timeout this close to the deadline is the deadline
log = logging.getLogger(__name__)


class _DeadlineConnectionMixin:
    """Hands each connection's socket to the exchange running on this thread."""

    sock: socket.socket | None

    def request(self, *args: Any, **kwargs: Any) -> None:
        exchange = current_exchange()
        if exchange is not None:
            exchange.attach(self.sock)  # a reused connection is already connected
        super().request(*args, **kwargs)  # type: ignore[misc]

    def connect(self) -> None:
        started = time.monotonic()
        super().connect()  # type: ignore[misc]
        exchange = current_exchange()
        if exchange is not None:
            exchange.connect_s = time.monotonic() - started
            exchange.attach(self.sock)


class _HTTPConnection(_DeadlineConnectionMixin, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnectionMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes; requests and urllib3 wrap the real error deeply."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        nxt = current.__cause__ or current.__context__
        if nxt is None and isinstance(current, urllib3.exceptions.MaxRetryError):
            nxt = current.reason
        if nxt is None and current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        current = nxt
    return found


def _root_cause(exc: BaseException) -> BaseException:
    return _chain(exc)[-1]


_Classified = tuple[Failure, str, str, bool]


def _classify(exc: BaseException, host: str, proxy: str = "") -> _Classified:
    """Failure kind, description, next step, and whether the request may have been received.

    Checked in order: the proxy and TLS first (their errors wrap connection errors), then
    the failures to connect; anything else happened once the request may have left."""
    chain = _chain(exc)
    return (
        _proxy_or_tls_failure(exc, chain, host, proxy)
        or _connect_failure(exc, chain, host)
        or (
            Failure.DISCONNECTED,
            f"The connection to {host} was lost before a complete answer arrived "
            f"({type(_root_cause(exc)).__name__}).",
            "The session may or may not be closed: check it, then retry by hand.",
            True,
        )
    )


def _proxy_or_tls_failure(
    exc: BaseException, chain: list[BaseException], host: str, proxy: str
) -> _Classified | None:
    """The profile's proxy or the provider's certificate stopped the request (nothing sent)."""
    if proxy and any(isinstance(e, urllib3.exceptions.ProxyError) for e in chain):
        # Raised only before the request leaves: connecting to the proxy, or the proxy
        # refusing to open the tunnel to the provider.
        return (
            Failure.NO_CONNECTION,
            f"Could not reach {host} through the profile's proxy {proxy} "
            f"({str(_root_cause(exc))[:200]}). Nothing was sent.",
            "Check the profile's proxy setting and that the proxy is running.",
            False,
        )
    if any(isinstance(e, requests.exceptions.SSLError | ssl.SSLError) for e in chain):
        reason = str(_root_cause(exc))
        if "certificate" in reason.lower() or "hostname" in reason.lower():
            reason = next(
                (str(e) for e in chain if isinstance(e, ssl.SSLCertVerificationError)), reason
            )
        return (
            Failure.TLS,
            f"The secure connection to {host} failed: its TLS certificate could not be "
            f"verified ({reason[:200]}). Nothing was sent.",
            "Check the profile's API URL, or its CA bundle if the provider uses a private one.",
            False,
        )
    return None


def _connect_failure(
    exc: BaseException, chain: list[BaseException], host: str
) -> _Classified | None:
    """No connection to the provider could be made (nothing sent): name, refusal, timeout."""
    if any(isinstance(e, urllib3.exceptions.NameResolutionError | socket.gaierror) for e in chain):
        return (
            Failure.DNS,
            f"The provider's server {host} could not be found (name lookup failed). "
            "Nothing was sent.",
            "Check the profile's API URL and this computer's network connection.",
            False,
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return (
            Failure.REFUSED_CONNECTION,
            f"The provider's server {host} refused the connection. Nothing was sent.",
            "Check the API URL and port; the provider's service may be down.",
            False,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError) for e in chain
    ):
        return (
            Failure.CONNECT_TIMEOUT,
            f"No answer from {host} while connecting. Nothing was sent.",
            "Check this computer's network connection and the API URL; retry later.",
            False,
        )
    if any(isinstance(e, urllib3.exceptions.NewConnectionError) for e in chain):
        return (
            Failure.NO_CONNECTION,
            f"Could not connect to {host} ({_root_cause(exc)}). Nothing was sent.",
            "Check this computer's network connection and the API URL.",
            False,
        )
    return None


@functools.lru_cache(maxsize=64)
def _checked_host(url: str) -> str:
    """``host:port`` of a URL that passed the API URL rules (checked once per URL)."""
    clean_api_url(url.removesuffix(contract.ENDPOINT_PATH))
    return urlsplit(url).netloc


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class Transport:
    """Sends signed requests; one instance per profile keeps connections for reuse.

    Thread-safe: the batch runner shares one instance between its workers.
    """

    def __init__(
        self,
        deadline_s: float = contract.DEFAULT_DEADLINE_S,
        ca_bundle: str | None = None,
        pool_size: int = 4,
        proxy: str = "",
    ) -> None:
        self.deadline_s = deadline_s
        self.ca_bundle = ca_bundle or None
        self.proxy = proxy
        self._session = requests.Session()
        # Nothing from the environment: *_PROXY would send the signed request (hash
        # included) to whoever set it, and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would let a
        # local proxy decrypt it and forge "closed"; netrc would add credentials. The
        # profile alone says where a request goes and whom it trusts.
        self._session.trust_env = False
        self._proxies = {"http": proxy, "https": proxy} if proxy else {}
        self._verify: str | bool = self.ca_bundle or True
        ignored = ignored_environment()
        if ignored:
            log.debug("ignored in the environment (the profile decides): %s", ", ".join(ignored))
        self._session.headers.update(
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": f"support-tool/{__version__}",
            }
        )
        adapter = _Adapter(pool_connections=2, pool_maxsize=max(1, pool_size), max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()
        self._session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, signed: SignedRequest) -> CloseResult:
        """Send one request and interpret the answer. Never raises for network faults."""
        host = _checked_host(signed.url)  # last guard: never plain http to a remote host
        started = time.monotonic()
        exchange = Exchange(started + self.deadline_s)
        set_current_exchange(exchange)
        attempts = 0
        try:
            while True:
                attempts += 1
                try:
                    return self._attempt(signed, exchange, started, attempts)
                except (
                    requests.exceptions.RequestException,
                    OSError,
                    urllib3.exceptions.HTTPError,
                ) as exc:
                    elapsed_ms = int((time.monotonic() - started) * 1000)
                    # The socket's own timeout (set to the time remaining) can fire a moment
                    # before the watchdog marks the exchange expired, most often on a busy
                    # machine: either way the deadline ran out, and the operator must read
                    # that, not "the connection was lost".
                    if exchange.expired or exchange.remaining() <= DEADLINE_SLACK_S:
                        return self._deadline_result(host, elapsed_ms, attempts, reached=True)
                    failure, description, next_step, reached = _classify(exc, host, self.proxy)
                    log.info(
                        "attempt %d to %s failed after %d ms: %s",
                        attempts,
                        host,
                        elapsed_ms,
                        failure.value,
                    )
                    retryable = failure in {
                        Failure.REFUSED_CONNECTION,
                        Failure.CONNECT_TIMEOUT,
                        Failure.NO_CONNECTION,
                        Failure.DNS,
                    }
                    backoff = contract.RETRY_BACKOFF_S[
                        min(attempts - 1, len(contract.RETRY_BACKOFF_S) - 1)
                    ]
                    if (
                        retryable
                        and attempts <= contract.CONNECT_RETRIES
                        and exchange.remaining() > backoff + 0.5
                        and not self._closed.wait(backoff)
                    ):
                        continue
                    return CloseResult(
                        outcome=Outcome.TRANSPORT_FAILURE,
                        failure=failure,
                        description=description,
                        next_step=next_step,
                        elapsed_ms=elapsed_ms,
                        attempts=attempts,
                        reached_provider=reached,
                    )
        finally:
            exchange.finish()
            set_current_exchange(None)

    def _attempt(
        self, signed: SignedRequest, exchange: Exchange, started: float, attempts: int
    ) -> CloseResult:
        remaining = max(exchange.remaining(), 0.05)
        host = _checked_host(signed.url)
        log.debug("attempt %d to %s via %s", attempts, host, self.proxy or "a direct connection")
        exchange.connect_s = None
        attempt_started = time.monotonic()
        response = self._session.post(
            signed.url,
            params=signed.query,
            data=signed.body_bytes,
            timeout=(min(contract.CONNECT_TIMEOUT_S, remaining), remaining),
            allow_redirects=False,
            stream=True,
            verify=self._verify,
            proxies=self._proxies,
        )
        headers_at = time.monotonic()
        with response:
            body, truncated = self._read_body(response)
        done_at = time.monotonic()
        log.debug(
            "attempt %d to %s: connect %s, first byte %d ms, total %d ms, HTTP %d, %d bytes%s",
            attempts,
            host,
            "reused" if exchange.connect_s is None else f"{_ms(exchange.connect_s)} ms",
            _ms(headers_at - attempt_started),
            _ms(done_at - attempt_started),
            response.status_code,
            len(body),
            " (cut)" if truncated else "",
        )
        elapsed_ms = _ms(done_at - started)
        if exchange.expired:
            return self._deadline_result(host, elapsed_ms, attempts, True)
        result = interpret_http(
            response.status_code,
            body,
            truncated=truncated,
            location=response.headers.get("Location"),
            elapsed_ms=elapsed_ms,
            attempts=attempts,
        )
        return result

    @staticmethod
    def _read_body(response: requests.Response) -> tuple[bytes, bool]:
        """At most 1 MiB of the (decoded) body, and whether there was more."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > contract.MAX_RESPONSE_BYTES:
            return b"", True
        body: bytes = response.raw.read(contract.MAX_RESPONSE_BYTES + 1, decode_content=True)
        if len(body) > contract.MAX_RESPONSE_BYTES:
            return body[: contract.MAX_RESPONSE_BYTES], True
        return body, False

    def _deadline_result(
        self, host: str, elapsed_ms: int, attempts: int, reached: bool
    ) -> CloseResult:
        return CloseResult(
            outcome=Outcome.TRANSPORT_FAILURE,
            failure=Failure.DEADLINE,
            description=(
                f"No complete answer from {host} within {self.deadline_s:g} s "
                "(the profile's deadline)."
            ),
            next_step="The session may or may not be closed: check it, then retry by hand.",
            elapsed_ms=elapsed_ms,
            attempts=attempts,
            reached_provider=reached,
        )


def with_request_details(
    result: CloseResult, signed: SignedRequest, proxy: str = ""
) -> CloseResult:
    """Attach what was sent (never the secret) for the *Details* panel, including the
    route it took: the profile's proxy, or a direct connection."""
    return replace(
        result,
        request_as_sent={
            "url": signed.full_url,
            "body": signed.body_bytes.decode("utf-8"),
            "signed_string": signed.signed_string_redacted,
            "proxy": proxy or "none (direct connection)",
        },
    )
