"""An audit store opened on first use, on the thread that first uses it.

The window paints its Close session form before the audit store is open: opening it
(importing the SQLite trail's modules, recovering and migrating the file, or connecting to
the team's PostgreSQL) is a fifth of the window's start, and it is disk and network work
that must not run on the GUI thread anyway. The window's every use of the store is on a
worker (``StoreWatch.check`` asks ``problem()`` right after the first paint, which opens
it), so the first of them opens the store there; the others wait for it under the lock.
Nothing is sent meanwhile: ``begin`` opens the store first, and if that fails it raises
:class:`AuditUnavailable`, as a store that cannot record does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from support_tool.errors import AuditUnavailable, SupportToolError

if TYPE_CHECKING:  # the store's modules load with the store, on the worker that opens it
    from support_tool.audit.events import Anchor, ChainReport
    from support_tool.audit.records import AuditFilter, AuditRecord
    from support_tool.audit.store import AuditStore
    from support_tool.provider.outcome import CloseResult

OPENING = "Opening the audit history…"
CLOSED = "The audit history is closed: support-tool is shutting down. Nothing was sent."


class OpeningStore:
    """An :class:`AuditStore` that ``open_store()`` opens on first use (see the module)."""

    def __init__(self, open_store: Callable[[], AuditStore]) -> None:
        self._open_store = open_store
        self._store: AuditStore | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Open already: its answers need no disk or network work to open it first."""
        return self._store is not None

    @property
    def where(self) -> str:
        return "the audit history" if self._store is None else self._store.where

    def opened(self) -> AuditStore:
        """The store, opening it now if it is not yet; raises what the opening raises
        (:class:`AuditUnavailable` for a store that cannot be reached or read)."""
        with self._lock:
            if self._closed:
                raise AuditUnavailable(CLOSED)
            if self._store is None:
                self._store = self._open_store()
            return self._store

    def problem(self) -> str | None:
        try:
            store = self.opened()
        except SupportToolError as exc:  # the store cannot be opened: say why, retry later
            return str(exc)
        return store.problem()

    def begin(self, **attempt: Any) -> int:
        return self.opened().begin(**attempt)

    def finish(self, row_id: int, result: CloseResult, *, wait: bool = True) -> None:
        self.opened().finish(row_id, result, wait=wait)

    def flush(self) -> None:
        if self._store is not None:  # nothing can be waiting in a store never opened
            self._store.flush()

    def record(self, result: CloseResult, **row: Any) -> int:
        return self.opened().record(result, **row)

    def record_many(self, entries: list[tuple[str, CloseResult]], **row: Any) -> None:
        self.opened().record_many(entries, **row)

    def get(self, row_id: int) -> AuditRecord | None:
        return self.opened().get(row_id)

    def query(self, **criteria: Any) -> Iterator[AuditRecord]:
        return self.opened().query(**criteria)

    def page(
        self, flt: AuditFilter, before_id: int | None = None, limit: int = 256
    ) -> list[AuditRecord]:
        return self.opened().page(flt, before_id, limit)

    def newer(self, flt: AuditFilter, after_id: int, limit: int = 256) -> list[AuditRecord]:
        return self.opened().newer(flt, after_id, limit)

    def verify(self) -> ChainReport:
        return self.opened().verify()

    def verify_anchor(self, anchor: Anchor) -> ChainReport:
        return self.opened().verify_anchor(anchor)

    def anchor(self) -> str:
        return self.opened().anchor()

    def close(self) -> None:
        """Close the store if it was opened; a use after this opens nothing."""
        with self._lock:
            self._closed = True
            store, self._store = self._store, None
        if store is not None:
            store.close()
