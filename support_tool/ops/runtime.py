"""Assemble what a front end needs: profiles, secrets, history and the close service.

Both the command line and the window start here, so that *demo* (embedded sandbox,
in-memory profile and secret, separate history file) and *normal* operation are set up
identically for each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from support_tool.config import paths
from support_tool.config.groups import GroupSource, GroupStore
from support_tool.config.profiles import ProfileSource, ProfileStore
from support_tool.config.secret_store import KeyringSecrets, MemorySecrets
from support_tool.ops.demo import DEMO_PROFILE, DemoGroups, DemoProfiles, EmbeddedSandbox
from support_tool.ops.opening_store import OpeningStore
from support_tool.provider import contract

if TYPE_CHECKING:  # the sandbox (an HTTP server) is imported only when it starts
    from support_tool.audit.store import AuditStore
    from support_tool.ops.close import CloseService  # with the first use of the service
    from support_tool.sandbox.server import SandboxServer

__all__ = ["DEMO_PROFILE", "Runtime", "open_runtime"]


class Runtime:
    """Everything one front end uses; ``demo`` tells the UI to say it is a sandbox.

    A plain class, not a dataclass: it is built before the window's first paint, where
    ``@dataclass`` costs ~3.5 M instructions compiling methods nothing here uses. For the
    same reason the close service is built, and its modules (the request, its signing and
    JSON, their dataclasses: ~20 M instructions) imported, at its first use: for the
    window, after its first paint."""

    def __init__(
        self,
        history: AuditStore,
        profiles: ProfileSource,
        secrets: KeyringSecrets | MemorySecrets,
        history_path: Path,  # this desk's embedded file (the store only without a team store)
        demo: bool,
        embedded: EmbeddedSandbox | None = None,  # the demo's provider, running or not yet
        groups: GroupSource | None = None,
        pool_size: int = contract.MAX_BATCH_CONCURRENCY,
    ) -> None:
        self._history = history
        self._pool_size = pool_size
        self._service: CloseService | None = None
        self._building = threading.Lock()
        self.profiles = profiles
        self.secrets = secrets
        self.history_path = history_path
        self.demo = demo
        self.embedded = embedded
        self.groups: GroupSource = groups if groups is not None else GroupStore()

    @property
    def sandbox(self) -> SandboxServer | None:
        """The demo's embedded provider once it runs (None before, and outside the demo)."""
        return self.embedded.server if self.embedded is not None else None

    @property
    def service(self) -> CloseService:
        """The close service, built at its first use (on whichever thread asks first)."""
        with self._building:
            if self._service is None:
                from support_tool.ops.close import CloseService

                self._service = CloseService(
                    self.profiles.load, self.secrets, self._history, pool_size=self._pool_size
                )
            return self._service

    @property
    def history(self) -> AuditStore:
        """The audit store: the service's once it is built (which may be given another)."""
        return self._service.history if self._service is not None else self._history

    @property
    def where(self) -> str:
        """The audit store in use, in words (About box, Verify dialog, messages)."""
        return self.history.where

    def close_service(self) -> None:
        """Wait for the service's closes in flight, if it was ever built."""
        if self._service is not None:
            self._service.close_all()


def _open_store(demo: bool, may_be_down: bool) -> AuditStore:
    """``audit.open_store``, its modules (the team settings, TOML) imported when it runs:
    for the window, on the worker that opens the store after the first paint."""
    from support_tool.audit.open_store import open_store

    return open_store(demo, may_be_down=may_be_down)


@contextmanager
def open_runtime(
    demo: bool = False,
    pool_size: int = contract.MAX_BATCH_CONCURRENCY,
    *,
    store_may_be_down: bool = False,
    open_store_later: bool = False,
    start_sandbox_later: bool = False,
) -> Iterator[Runtime]:
    """Open the configured audit store (``audit.open_store``: a team store, or the
    embedded file; demo: its own file), and for ``demo`` start the sandbox; close both
    afterwards. The command line stops at once (exit 4) when the store cannot be reached;
    the window passes ``store_may_be_down`` and shows the store's ``problem()`` instead,
    and ``open_store_later``: the store opens on its first use, on a worker after the first
    paint (``OpeningStore``), so the form is on screen without waiting for it; and
    ``start_sandbox_later``: the demo's provider starts with the first load of its profile
    (``ops.demo``), which the window asks for on a worker after its first paint."""
    history_path = paths.history_file(demo=demo)
    history: AuditStore
    if open_store_later:
        history = OpeningStore(lambda: _open_store(demo, store_may_be_down))
    else:
        history = _open_store(demo, store_may_be_down)
    embedded: EmbeddedSandbox | None = None
    try:
        profiles: ProfileSource
        secrets: KeyringSecrets | MemorySecrets
        groups: GroupSource
        if demo:
            embedded = EmbeddedSandbox()
            if not start_sandbox_later:
                embedded.started()
            profiles = DemoProfiles(embedded)
            secrets = MemorySecrets({DEMO_PROFILE: embedded.secret})
            groups = DemoGroups()
        else:
            profiles = ProfileStore()
            secrets = KeyringSecrets()
            groups = GroupStore()
        runtime = Runtime(
            history, profiles, secrets, history_path, demo, embedded, groups, pool_size
        )
        try:
            yield runtime
        finally:
            runtime.close_service()
    finally:
        if embedded is not None:
            embedded.stop()
        history.close()
