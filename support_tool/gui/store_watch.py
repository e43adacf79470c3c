"""The window fails closed when the audit store cannot take an attempt.

Nothing may be sent unless its attempt is recorded first: the core refuses a close whose
attempt cannot be recorded, and the window says so before anyone tries. When the store
reports a problem (at start-up, or a close or a batch met one), a red banner names the store
and the reason, *Close session* and *Start batch* are disabled with the reason as their
tooltip, and the store is asked again in the background with a growing pause, so the window
comes back by itself when the store does (a team's database server restarted, a disk
remounted). The question, ``AuditStore.problem()``, may reconnect over the network, so it
always runs on a worker, never on the GUI thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from support_tool.gui.banners import warning_banner
from support_tool.gui.jobs import Jobs
from support_tool.ops.opening_store import OPENING, OpeningStore

if TYPE_CHECKING:  # the store's modules load with the store, after the first paint
    from support_tool.audit.store import AuditStore
    from support_tool.provider.outcome import CloseResult  # with the first refusal

log = logging.getLogger(__name__)

FIRST_RETRY_MS = 2_000
LONGEST_RETRY_MS = 30_000
RECOVERED = "Audit store reachable again: closing sessions works again."


def naming_store(where: str, reason: str) -> str:
    """The reason with the store named once: the embedded file's reasons already name it."""
    return (
        reason if where.lower() in reason.lower() else f"{where[:1].upper()}{where[1:]}: {reason}"
    )


def refusal_text(where: str, reason: str) -> str:
    """What a close refused for want of an audit record says: nothing went out, and why
    (once: the stores' own reasons may already say that nothing was sent)."""
    named = naming_store(where, reason)
    if "nothing was sent" in named.lower():
        return named
    return f"Nothing was sent: the attempt could not be recorded. {named}"


def blocked_text(where: str, reason: str) -> str:
    """The tooltip of a disabled *Close*: why, in one breath."""
    return f"Disabled: nothing can be sent while {where} cannot record it. {reason}"


def first_sentence(text: str) -> str:
    """The reason's first sentence: the banner shares the window with two others, and the
    whole reason is one hover (the disabled button) or one close (the answer) away."""
    found = re.search(r"[.!?]\)?\s+(?=[A-Z])", text)
    return text[: found.end()].rstrip() if found else text


def banner_text(where: str, reason: str, place: str, profile: str | None) -> str:
    """The banner, naming the tab and its profile as the production banner does."""
    tab = f"{place} (profile “{profile}”)" if profile else place
    return (
        f"AUDIT STORE UNAVAILABLE — {tab}: nothing can be sent. "
        f"{first_sentence(naming_store(where, reason))} Retrying in the background."
    )


class StoreWatch(QObject):
    """Whether the audit store can take an attempt now; ``changed`` fires on each switch.

    ``reason`` is ``None`` while it can. ``report(reason)`` (a close or a batch met the
    problem) and a start-up ``check()`` turn it down; while down, ``problem()`` is asked
    after FIRST_RETRY_MS, doubling up to LONGEST_RETRY_MS, until it answers ``None``.
    A store not opened yet (``OpeningStore``) starts as OPENING: sending is blocked, with
    no red banner, until the first ``check()`` (which opens it, on a worker) answers.
    """

    changed = Signal()

    def __init__(self, store: AuditStore, jobs: Jobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._jobs = jobs
        opening = isinstance(store, OpeningStore) and not store.ready
        self.reason: str | None = OPENING if opening else None
        self.just_opened = False  # the last change was the start's opening (no "again")
        self.banner = warning_banner("Audit store warning", word_wrap=True)
        self._blockers: list[Callable[[str], None]] = []
        self.next_delay_ms = FIRST_RETRY_MS
        self._asking = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.check)

    @property
    def down(self) -> bool:
        return self.reason is not None

    @property
    def opening(self) -> bool:
        """The store is still being opened: blocked, but nothing has gone wrong."""
        return self.reason == OPENING

    @property
    def blocked(self) -> str:
        """Why nothing can be sent now, for a disabled button's tooltip ("" when it can)."""
        if self.opening:
            return f"Disabled: {OPENING} Closing sessions works as soon as it is open."
        return "" if self.reason is None else blocked_text(self.store.where, self.reason)

    def blocks(self, setter: Callable[[str], None]) -> None:
        """``setter(why)`` disables a sending button while down (``""``: enable it again);
        it is called now and on every change."""
        self._blockers.append(setter)
        setter(self.blocked)

    def show_for(self, place: str, profile: str | None) -> None:
        """The banner, naming the tab in front and the profile its action would use."""
        shown = self.reason is not None and not self.opening  # opening: no alarm, just wait
        self.banner.setVisible(shown)
        if shown and self.reason is not None:
            self.banner.setText(banner_text(self.store.where, self.reason, place, profile))

    def refusal(self, reason: str) -> CloseResult:
        """A close the core refused because its attempt could not be recorded."""
        from support_tool.provider.outcome import CloseResult, Outcome

        return CloseResult(
            Outcome.CONFIGURATION,
            refusal_text(self.store.where, reason),
            "Wait for the red banner to go: sending comes back by itself when the audit "
            "store answers. Then close again.",
        )

    def check(self) -> None:
        """Ask the store, on a worker, whether it can take an attempt now."""
        if self._asking:
            return
        self._asking = True
        self._jobs.submit(self.store.problem, self._answered, self._unanswered)

    def report(self, reason: str) -> None:
        """A close or a batch found the store unable to record: down until it answers."""
        self._went_down(reason)

    def stop(self) -> None:
        self._timer.stop()

    def _answered(self, reason: str | None) -> None:
        self._asking = False
        if reason:
            self._went_down(reason)
        else:
            self._came_back()

    def _unanswered(self, error: BaseException) -> None:
        """The question itself failed: the store cannot be trusted to record, so down."""
        self._asking = False
        log.warning("asking %s whether it can record failed: %r", self.store.where, error)
        self._went_down(str(error) or type(error).__name__)

    def _went_down(self, reason: str) -> None:
        first = self.reason is None or self.opening
        changed = reason != self.reason
        self.reason = reason
        if first:
            self.next_delay_ms = FIRST_RETRY_MS
            log.error("audit store unavailable: %s", reason)
        if not self._timer.isActive() and not self._asking:
            self._timer.start(self.next_delay_ms)
            self.next_delay_ms = min(self.next_delay_ms * 2, LONGEST_RETRY_MS)
        if changed:
            self._emit()

    def _came_back(self) -> None:
        self._timer.stop()
        self.next_delay_ms = FIRST_RETRY_MS
        if self.reason is not None:
            self.just_opened = self.opening  # the start's opening, not a recovery
            self.reason = None
            log.info(
                "audit store %s: %s",
                "open" if self.just_opened else "reachable again",
                self.store.where,
            )
            self._emit()

    def _emit(self) -> None:
        for setter in self._blockers:
            setter(self.blocked)
        self.changed.emit()
