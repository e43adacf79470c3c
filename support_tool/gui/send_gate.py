"""Why *Close session* is disabled: the audit store's reason, and in the demo, until its
embedded provider answers, that it is starting (``ops.demo``: after the first paint).

The store's watch gives its reason (``StoreWatch.blocks``); the provider's start is told
by the profiles' load, whose first answer in the demo means the provider listens.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox

from support_tool.ops.demo import STARTING

FAILED = "The demo's sandbox provider did not start"


class SendGate:
    """Gives the form (``set_blocked``) every reason that holds, joined; "" when none."""

    def __init__(
        self, set_blocked: Callable[[str], None], profile: QComboBox, provider_starting: bool
    ) -> None:
        self._set_blocked = set_blocked
        self._profile = profile  # says, where the profile will be, that it is starting
        self._store = ""
        self.provider = (
            f"Disabled: {STARTING} Closing sessions works as soon as it answers."
            if provider_starting
            else ""
        )
        if provider_starting:
            profile.setPlaceholderText(STARTING)

    def store(self, reason: str) -> None:
        """The audit store's reason ("" once it can record)."""
        self._store = reason
        self._apply()

    def provider_started(self) -> None:
        if self.provider:
            self.provider = ""
            self._apply()

    def provider_failed(self, error: BaseException) -> None:
        """The demo's provider did not start: sending stays off, saying why."""
        if self.provider:
            self.provider = f"Disabled: {FAILED.lower()}: {error}"
            self._profile.setPlaceholderText(FAILED)
            self._apply()

    def _apply(self) -> None:
        self._set_blocked(" ".join(r for r in (self._store, self.provider) if r))
