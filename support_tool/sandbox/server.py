"""The sandbox provider's loopback HTTP server, with latency and fault injection.

Faults are the ways a real provider or the network in between misbehave; each one is a
case of the fault matrix the tool is tested against.
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from support_tool.provider import contract
from support_tool.sandbox.faults import FAULTS
from support_tool.sandbox.provider import SandboxProvider

_HTML_500 = (
    b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
    b"<body><h1>Internal Server Error</h1><p>The server encountered an internal error."
    b"</p></body></html>"
)


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as it arrived, for tests that verify the wire format independently."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "support-tool-sandbox"
    # Headers and body go out in two writes; with Nagle on, the body waits for the
    # client's delayed ACK (40 ms on Linux) and every answer looks slow.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._send(405, b'{"error": 3, "description": "Use POST"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1024 * 1024))
        parts = urlsplit(self.path)
        self.server.record(
            ReceivedRequest("POST", parts.path, parts.query, dict(self.headers.items()), body)
        )
        sandbox = self.server.sandbox
        if sandbox.latency_s:
            sandbox.stopping.wait(sandbox.latency_s)
        if parts.path != contract.ENDPOINT_PATH:
            self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        fault = sandbox.fault_for(query.get(contract.QUERY_LOGIN, ""))
        if fault != "none":
            self._fault(fault)
            return
        if not sandbox.within_rate_limit():
            self._fault("ratelimit")
            return
        status, answer = sandbox.provider.handle(query, body)
        self._send(status, answer)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _fault(self, fault: str) -> None:
        stopping = self.server.sandbox.stopping
        if fault == "http500":
            self._send(500, _HTML_500, "text/html")
        elif fault == "notfound":
            self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        elif fault == "badjson":
            self._send(200, b"<html>Service temporarily unavailable</html>", "text/html")
        elif fault == "wrongshape":
            self._send(200, b'{"status": "ok"}')
        elif fault == "stringerror":
            self._send(200, b'{"error": "0", "description": "Success"}')
        elif fault == "ratelimit":
            self._send(200, b'{"error": 99, "description": "Request limit exceeded"}')
        elif fault == "internal":
            self._send(200, b'{"error": 100, "description": "Internal error"}')
        elif fault == "badparam":
            self._send(200, b'{"error": 3, "description": "Invalid parameter value"}')
        elif fault == "longdescription":
            trace = "Internal error: " + "at com.provider.Session.close(Session.java:42) " * 20_000
            self._send(200, json.dumps({"error": 100, "description": trace[:900_000]}).encode())
        elif fault == "duplicatekeys":
            self._send(200, b'{"error": 17, "description": "Player not found", "error": 0}')
        elif fault == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.invalid/V4/closesession")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif fault == "bigbody":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            chunk = b" " * 65536
            for _ in range(50 * 16):
                if stopping.is_set():
                    break
                self.wfile.write(chunk)
        elif fault == "drip":
            answer = b'{"error": 0, "description": "Success"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.flush()
            for byte in answer:
                if stopping.wait(1.0):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif fault == "hang":
            stopping.wait()
            self.close_connection = True

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading: expected for faults


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer
    verbose = False

    def record(self, request: ReceivedRequest) -> None:
        with self.sandbox._arrived:
            self.sandbox.received.append(request)
            self.sandbox.request_count += 1
            self.sandbox._arrived.notify_all()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sandbox._count_lock:
            self.sandbox.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


class SandboxServer:
    """Run the sandbox on a loopback port in a background thread (a context manager).

    ``fault`` applies to every request; ``fault_for_login`` overrides it per login, which
    lets one batch mix outcomes.
    """

    def __init__(
        self,
        secret: str | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        latency_ms: int = 0,
        fault: str = "none",
        provider: SandboxProvider | None = None,
        verbose: bool = False,
        tls: ssl.SSLContext | None = None,
        rate_limit_rps: float | None = None,
    ) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
        self.secret = secret or secrets.token_urlsafe(24)
        self.provider = provider or SandboxProvider(self.secret)
        self.provider.secret = self.secret
        self.latency_s = latency_ms / 1000
        self.fault = fault
        self.fault_for_login: dict[str, str] = {}
        self.rate_limit_rps = rate_limit_rps
        self.rate_limited = 0
        self._bucket = (rate_limit_rps or 0.0, time.monotonic())
        self.received: deque[ReceivedRequest] = deque(maxlen=10_000)
        self.connections = 0
        self.request_count = 0
        self._count_lock = threading.Lock()
        self._arrived = threading.Condition()
        self.stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.sandbox = self
        self._server.verbose = verbose
        self._tls = tls is not None
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if self._tls:  # certificates name hosts, not addresses
            return f"https://localhost:{port}"
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def wait_for_requests(self, count: int, timeout: float) -> bool:
        """Block until ``count`` requests have arrived in total (tests, demos)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.request_count >= count, timeout)

    def within_rate_limit(self) -> bool:
        """A token bucket, as providers meter: ``rate_limit_rps`` a second, bursts of as
        many; beyond it the answer is error 99."""
        limit = self.rate_limit_rps
        if not limit:
            return True
        with self._count_lock:
            tokens, then = self._bucket
            now = time.monotonic()
            tokens = min(limit, tokens + (now - then) * limit)
            if tokens >= 1:
                self._bucket = (tokens - 1, now)
                return True
            self._bucket = (tokens, now)
            self.rate_limited += 1
            return False

    def fault_for(self, login: str) -> str:
        return self.fault_for_login.get(login, self.fault)

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sandbox-provider",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (``support-tool sandbox``)."""
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
