"""What every audit store offers: the embedded SQLite file and the team store on PostgreSQL.

The close path, batches, the history commands and the window talk to this protocol only,
so a desk writes to (and reads from) whichever store it is configured for, with the same
rules: an attempt is durably recorded before a request leaves, answers are appended, never
edited, and ``verify`` checks every event. Opening a store, and choosing which one, is
``support_tool.audit.open_store``'s job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from support_tool.audit.events import Anchor, ChainReport
from support_tool.audit.records import AuditFilter, AuditRecord
from support_tool.provider.outcome import CloseResult


class AuditStore(Protocol):
    """An append-only audit trail of sealed events, read back as one record per action."""

    @property
    def where(self) -> str:
        """The store in words for messages: "the audit history at /path/history.sqlite3"
        or "the team audit store postgresql://host/db"."""
        ...

    def problem(self) -> str | None:
        """Why an attempt cannot be recorded now (``None`` when it can). May reconnect or
        touch the disk, so the window calls it on a worker, never on the GUI thread."""
        ...

    def begin(
        self,
        *,
        profile: str,
        api_host: str,
        login: str,
        game_id: str | None,
        clear_history: bool,
        reason: str = "",
        batch_id: str | None = None,
    ) -> int:
        """Seal and commit the *attempt* before the request is sent; returns its id.
        Raises :class:`support_tool.errors.AuditUnavailable` if it cannot: then nothing
        may be sent."""
        ...

    def finish(self, row_id: int, result: CloseResult, *, wait: bool = True) -> None: ...

    def flush(self) -> None: ...

    def record(self, result: CloseResult, **row: Any) -> int: ...

    def record_many(self, entries: list[tuple[str, CloseResult]], **row: Any) -> None: ...

    def get(self, row_id: int) -> AuditRecord | None: ...

    def query(
        self,
        *,
        login: str | None = None,
        profile: str | None = None,
        outcome: str | None = None,
        batch_id: str | None = None,
        text: str = "",
        limit: int | None = None,
    ) -> Iterator[AuditRecord]: ...

    def page(
        self, flt: AuditFilter, before_id: int | None = None, limit: int = 256
    ) -> list[AuditRecord]: ...

    def newer(self, flt: AuditFilter, after_id: int, limit: int = 256) -> list[AuditRecord]: ...

    def verify(self) -> ChainReport: ...

    def verify_anchor(self, anchor: Anchor) -> ChainReport: ...

    def anchor(self) -> str: ...

    def close(self) -> None: ...
