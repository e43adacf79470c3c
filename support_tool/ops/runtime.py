"""Assemble what a front end needs: profiles, secrets, history and the close service.

Both the command line and the window start here, so that *demo* (embedded sandbox,
in-memory profile and secret, separate history file) and *normal* operation are set up
identically for each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from support_tool.config import paths
from support_tool.config.groups import GroupSource, GroupStore
from support_tool.config.profiles import ProfileSource, ProfileStore
from support_tool.config.secret_store import KeyringSecrets, MemorySecrets
from support_tool.ops.close import CloseService
from support_tool.ops.demo import DEMO_PROFILE, DemoGroups, DemoProfiles, EmbeddedSandbox
from support_tool.ops.opening_store import OpeningStore
from support_tool.provider import contract

if TYPE_CHECKING:  # the sandbox (an HTTP server) is imported only when it starts
    from support_tool.audit.store import AuditStore
    from support_tool.sandbox.server import SandboxServer

__all__ = ["DEMO_PROFILE", "Runtime", "open_runtime"]


class Runtime:
    """Everything one front end uses; ``demo`` tells the UI to say it is a sandbox.

    A plain class, not a dataclass: it is built before the window's first paint, where
    ``@dataclass`` costs ~3.5 M instructions compiling methods nothing here uses."""

    def __init__(
        self,
        service: CloseService,
        profiles: ProfileSource,
        secrets: KeyringSecrets | MemorySecrets,
        history_path: Path,  # this desk's embedded file (the store only without a team store)
        demo: bool,
        embedded: EmbeddedSandbox | None = None,  # the demo's provider, running or not yet
        groups: GroupSource | None = None,
    ) -> None:
        self.service = service
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
    def history(self) -> AuditStore:
        return self.service.history

    @property
    def where(self) -> str:
        """The audit store in use, in words (About box, Verify dialog, messages)."""
        return self.service.history.where


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
        service = CloseService(profiles.load, secrets, history, pool_size=pool_size)
        try:
            yield Runtime(service, profiles, secrets, history_path, demo, embedded, groups)
        finally:
            service.close_all()
    finally:
        if embedded is not None:
            embedded.stop()
        history.close()
