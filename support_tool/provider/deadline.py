"""A total deadline for an HTTP exchange, enforced by shutting its socket down.

``requests`` timeouts bound each socket read, not the exchange: a server that drips one
byte a second never trips them. One shared watchdog thread (not a timer thread per
request, which would cost more than a loopback request) shuts down the socket of every
exchange that outlives its deadline; the blocked read then returns at once.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable


class Alarm:
    """A scheduled action; ``cancel()`` is cheap and idempotent."""

    __slots__ = ("action", "cancelled", "watchdog", "when")

    def __init__(self, when: float, action: Callable[[], None], watchdog: Watchdog) -> None:
        self.when = when
        self.action: Callable[[], None] | None = action
        self.cancelled = False
        self.watchdog = watchdog

    def cancel(self) -> None:
        self.watchdog.cancel(self)


class Watchdog:
    """One daemon thread that fires alarms at their ``time.monotonic()`` deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._counter = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._cancelled = 0

    def cancel(self, alarm: Alarm) -> None:
        """Forget the alarm's action at once (it holds the exchange and its sockets), and
        drop cancelled entries once they are most of the heap: a batch finishes hundreds
        of exchanges a second, each long before its deadline, and memory must stay flat."""
        with self._condition:
            if alarm.cancelled:
                return
            alarm.cancelled = True
            alarm.action = None
            self._cancelled += 1
            if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    @property
    def armed(self) -> int:
        """Entries still held (for tests of the memory bound)."""
        with self._condition:
            return len(self._heap)

    def arm(self, when: float, action: Callable[[], None]) -> Alarm:
        alarm = Alarm(when, action, self)
        with self._condition:
            heapq.heappush(self._heap, (when, next(self._counter), alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="support-tool-deadline", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is alarm:
                self._condition.notify()
        return alarm

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled = max(0, self._cancelled - 1)
                if not self._heap:
                    self._condition.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._condition.wait(delay)
                    continue
                alarm = heapq.heappop(self._heap)[2]
                action = alarm.action
            if not alarm.cancelled and action is not None:
                action()


WATCHDOG = Watchdog()


def shutdown_socket(sock: socket.socket | None) -> None:
    """Unblock any thread reading ``sock``; for TLS, the raw socket underneath.

    ``socket.socket.shutdown`` is called directly so that an ``SSLSocket`` does not drop
    its TLS state under a reader in another thread.
    """
    if sock is None:
        return
    # OSError: already closed or never connected, so nothing is left to unblock.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Exchange:
    """One request/response under a deadline; connections attach their sockets to it."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        # How long the current attempt took to connect (TCP, proxy tunnel and TLS), for the
        # DEBUG log; None while it reuses a pooled connection.
        self.connect_s: float | None = None
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._alarm = WATCHDOG.arm(deadline, self._expire)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self.expired:
                shutdown_socket(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            shutdown_socket(sock)

    def finish(self) -> None:
        self._alarm.cancel()
        with self._lock:
            self._sockets.clear()


_current = threading.local()


def current_exchange() -> Exchange | None:
    exchange: Exchange | None = getattr(_current, "exchange", None)
    return exchange


def set_current_exchange(exchange: Exchange | None) -> None:
    _current.exchange = exchange
