"""The demo's embedded provider, its profile and its groups, each made on first use.

``support-tool --demo`` paints its window before the embedded sandbox provider runs:
importing its HTTP server and starting it was a fifth of the demo's start, for a provider
that nobody can ask before typing a login. The window asks for the demo's profile on a
worker right after its first paint; that first ``load()`` starts the provider there (the
profile names its address, which is known only once it listens), and until it answers
*Close session* stays disabled and says why. A close that reaches the core earlier starts
it, or waits for its start, in the same way, under one lock: nothing is sent to a
provider that is not listening yet. The command line starts it at once (``open_runtime``).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from support_tool.config.profiles import ProfileSet, make_profile
from support_tool.errors import ConfigurationError

if TYPE_CHECKING:
    from support_tool.config.groups import Group
    from support_tool.sandbox.server import SandboxServer  # imported when it starts

DEMO_PROFILE = "Sandbox"
STARTING = "Starting the demo's sandbox provider…"
STOPPED = "The demo's sandbox provider has stopped: support-tool is shutting down."


class EmbeddedSandbox:
    """The demo's sandbox provider on loopback, started by the first ``started()``."""

    def __init__(self) -> None:
        # Known before the provider runs, so that the in-memory secret store has it. From
        # the OS's generator, as ``secrets`` does, without importing it (hmac loads
        # OpenSSL's libcrypto, ~5 ms before the first paint).
        self.secret = os.urandom(24).hex()
        self._server: SandboxServer | None = None
        self._stopped = False
        self._lock = threading.Lock()

    @property
    def server(self) -> SandboxServer | None:
        """The running provider, or None while it has not been started yet."""
        return self._server

    def started(self) -> SandboxServer:
        """The provider, started now (on the calling thread) if it is not yet; raises
        :class:`ConfigurationError` once the runtime has closed."""
        with self._lock:
            if self._stopped:
                raise ConfigurationError(STOPPED)
            if self._server is None:
                from support_tool.sandbox.server import SandboxServer

                self._server = SandboxServer(secret=self.secret).start()
            return self._server

    def stop(self) -> None:
        """Stop the provider if it was started; a later ``started()`` starts nothing."""
        with self._lock:
            self._stopped = True
            server, self._server = self._server, None
        if server is not None:
            server.stop()


class DemoProfiles:
    """The demo's one profile, on the embedded provider's address: the first ``load()``
    starts the provider (see the module). Kept in memory, as the demo writes no
    configuration."""

    def __init__(self, sandbox: EmbeddedSandbox) -> None:
        self._sandbox = sandbox
        self._set: ProfileSet | None = None

    def load(self) -> ProfileSet:
        if self._set is None:
            url = self._sandbox.started().url
            self._set = ProfileSet((make_profile(DEMO_PROFILE, url),), DEMO_PROFILE)
        return self._set

    def save(self, profile_set: ProfileSet) -> None:
        self._set = profile_set


class DemoGroups:
    """The demo's groups over the sandbox's terminals, built on the first ``load()`` (the
    Terminals tab's, after the first paint): a thousand terminals are not built for a
    window that has not been painted yet."""

    def __init__(self) -> None:
        self._groups: dict[str, Group] | None = None

    def load(self) -> dict[str, Group]:
        if self._groups is None:
            from support_tool.config.groups import demo_groups

            self._groups = demo_groups()
        return dict(self._groups)

    def save(self, groups: dict[str, Group]) -> None:
        self._groups = dict(groups)
