"""A desk's few connections to the team store, and noticing when the store is lost.

The writer (one group commit at a time) and readers (History pages, the window's checks)
each take a connection, so a read never queues behind a batch's appends. A connection
that breaks means the server went away: the idle ones are
dropped with it, and the store counts as lost until a new connection succeeds, when
``on_back`` runs first (recovery of what the loss left open).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from support_tool.audit.team_store import TeamStore, connect, driver, server_message
from support_tool.audit.team_verify import Source
from support_tool.errors import AuditUnavailable

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")

# An append waits at most this long on the server (the head's lock included): with the
# 5 s connect bound, recording an attempt never outlasts a close's default deadline (15 s).
APPEND_TIMEOUT_MS = 5_000
# A server that vanishes without closing the connection (power, network) is noticed by TCP
# keepalives within ~10 s instead of never (statement_timeout is the server's own clock).
KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",
}


@dataclass
class Link:
    """One connection and the store over it."""

    conn: psycopg.Connection[tuple[Any, ...]]
    store: TeamStore
    what: str

    @property
    def broken(self) -> bool:
        return bool(self.conn.closed or self.conn.broken)


def with_keepalives(conninfo: str) -> str:
    """The URL with TCP keepalive settings added, unless it sets them itself."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = conninfo_to_dict(conninfo)
    return make_conninfo(conninfo, **{k: v for k, v in KEEPALIVES.items() if k not in given})


def select(link: Link, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query of the adapter's own, with the server's words on failure."""
    pg = driver()
    try:
        with link.conn.transaction():
            return link.conn.execute(query, params).fetchall()
    except pg.Error as exc:
        raise AuditUnavailable(
            f"The team audit store {link.what} cannot be read: {server_message(exc)}"
        ) from None


class Pool:
    """Up to ``size`` connections, opened when first needed and kept while they work."""

    def __init__(
        self,
        conninfo: str,
        password: str | None,
        what: str,
        size: int,
        *,
        on_back: Callable[[Link], None],
    ) -> None:
        driver()
        self._conninfo = with_keepalives(conninfo)
        self._password = password
        self._what = what
        self._size = max(1, size)
        self._on_back = on_back
        self._idle: list[Link] = []
        self._open = 0
        self._cond = threading.Condition()
        self._closed = False
        self.lost: str | None = None  # why the store was lost, until it is back

    def connect(self, statement_timeout_ms: int = APPEND_TIMEOUT_MS) -> Link:
        """A new connection outside the pool (the caller closes it)."""
        conn = connect(
            self._conninfo,
            self._password,
            what=self._what,
            statement_timeout_ms=statement_timeout_ms,
        )
        source = Source(self._conninfo, self._password, self._what)
        return Link(conn, TeamStore(conn, self._what, source), self._what)

    def use(self, work: Callable[[Link], T]) -> T:
        """Run ``work`` on a pooled connection; one that broke is dropped with the idle
        ones (they lost the same server), and the store counts as lost."""
        link = self._acquire()
        try:
            return work(link)
        except AuditUnavailable as exc:
            if link.broken:
                self.lost = str(exc)
                self._drop_idle()
            raise
        finally:
            self._release(link)

    def _acquire(self) -> Link:
        """An idle connection, or a new one while fewer than ``size`` are open."""
        with self._cond:
            while not self._idle and self._open >= self._size:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            link = self.connect()
        except AuditUnavailable as exc:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            self.lost = str(exc)
            raise
        if self.lost is not None:  # back after a loss
            self.lost = None
            self._on_back(link)
        return link

    def _release(self, link: Link) -> None:
        with self._cond:
            if link.broken or self._closed:
                self._open -= 1
                link.conn.close()
            else:
                self._idle.append(link)
            self._cond.notify()

    def _drop_idle(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for link in idle:
            link.conn.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
        self._drop_idle()
