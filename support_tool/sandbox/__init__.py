"""An embedded provider that implements the *Close Session* contract for real.

It checks signatures with its own secret, keeps players with open sessions and
unfinished rounds, and can inject latency and faults, so that the whole flow can be run,
demonstrated and tested with no credentials and no network.
"""

from support_tool.sandbox.faults import FAULTS
from support_tool.sandbox.provider import SandboxProvider, default_players
from support_tool.sandbox.server import SandboxServer

__all__ = ["FAULTS", "SandboxProvider", "SandboxServer", "default_players"]
