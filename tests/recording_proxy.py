"""A tiny HTTP proxy on loopback that records everything that reaches it.

Two modes, the two proxies the tests need:

* ``forge``: what an attacker's proxy does. Every plain request is answered with a forged
  ``{"error": 0, "description": "Success"}``; a ``CONNECT`` tunnel is answered "200" and,
  with ``mitm`` (a TLS context holding a certificate from a rogue authority), decrypted and
  answered the same way.
* ``forward``: an honest proxy. Plain requests (absolute-form) are relayed to their target
  and ``CONNECT`` opens a byte-for-byte tunnel.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass
from socketserver import BaseRequestHandler, ThreadingTCPServer
from types import TracebackType
from urllib.parse import urlsplit

FORGED = b'{"error": 0, "description": "Success"}'


@dataclass(frozen=True)
class Arrived:
    """One request as the proxy saw it (``tunnelled``: read inside a decrypted tunnel)."""

    method: str
    target: str
    body: bytes
    tunnelled: bool = False


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request head (up to the blank line) and whatever body bytes came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _read_request(sock: socket.socket) -> tuple[str, str, dict[str, str], bytes]:
    head, body = _read_head(sock)
    lines = head.decode("latin-1").split("\r\n")
    method, target = [*lines[0].split(" "), "", ""][:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return method, target, headers, body


def _answer(sock: socket.socket, body: bytes) -> None:
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class _Handler(BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        method, target, headers, body = _read_request(sock)
        if not method:
            return
        proxy = self.server.owner
        proxy.record(Arrived(method, target, body))
        if method == "CONNECT":
            self._connect(sock, target)
        elif proxy.mode == "forge":
            _answer(sock, FORGED)
        else:
            self._forward(sock, method, target, headers, body)

    def _connect(self, sock: socket.socket, target: str) -> None:
        proxy = self.server.owner
        host, _, port = target.rpartition(":")
        if proxy.mode == "forge":
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if proxy.mitm is None:
                return
            with (
                contextlib.suppress(OSError),
                proxy.mitm.wrap_socket(sock, server_side=True) as tls,
            ):
                method, path, _, body = _read_request(tls)
                proxy.record(Arrived(method, path, body, tunnelled=True))
                _answer(tls, FORGED)
            return
        with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as upstream:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=_pipe, args=(upstream, sock), daemon=True)
            back.start()
            _pipe(sock, upstream)
            back.join(timeout=10)

    def _forward(
        self, sock: socket.socket, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> None:
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        kept = {k: v for k, v in headers.items() if k not in {"connection", "proxy-connection"}}
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept.items())
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=10) as upstream:
            upstream.sendall(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)
            while chunk := upstream.recv(65536):
                sock.sendall(chunk)


class _Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: RecordingProxy


class RecordingProxy:
    """Run the proxy on a loopback port in a background thread (a context manager)."""

    def __init__(self, mode: str = "forge", mitm: ssl.SSLContext | None = None) -> None:
        assert mode in ("forge", "forward")
        self.mode = mode
        self.mitm = mitm
        self.received: list[Arrived] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def record(self, arrived: Arrived) -> None:
        with self._lock:
            self.received.append(arrived)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
