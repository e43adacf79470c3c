"""An embedded provider that implements the *Close Session* contract for real.

It checks signatures with its own secret, keeps players with open sessions and
unfinished rounds, and can inject latency and faults, so that the whole flow can be run,
demonstrated and tested with no credentials and no network.

Names are loaded on first use: the command line lists ``FAULTS`` in its help on every
start, and must not pay for an HTTP server (``http.server``, ``ssl``) to do so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from support_tool.sandbox.faults import FAULTS
    from support_tool.sandbox.provider import SandboxProvider, default_players
    from support_tool.sandbox.server import SandboxServer

__all__ = ["FAULTS", "SandboxProvider", "SandboxServer", "default_players"]

_HOMES = {
    "FAULTS": "support_tool.sandbox.faults",
    "SandboxProvider": "support_tool.sandbox.provider",
    "default_players": "support_tool.sandbox.provider",
    "SandboxServer": "support_tool.sandbox.server",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _HOMES:
        raise AttributeError(f"module 'support_tool.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
