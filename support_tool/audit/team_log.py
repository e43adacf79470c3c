"""The team audit store as an :class:`~support_tool.audit.store.AuditStore`.

Close, batches, the history commands and the window write and read the team store
through this class exactly as they do the embedded file: the same bodies
(``audit.bodies``), the same rules. The server assigns seq, time and origin and seals
(``team_store``); this side decides *when*:

* an attempt is committed before ``begin`` returns, so nothing is sent unrecorded; if the
  store cannot be reached or refuses it, ``begin`` raises :class:`AuditUnavailable`
  (fail closed) with the store, the reason and the next step;
* batches (``finish(wait=False)``) queue answers to ride in the next attempt's
  transaction: one commit per row instead of two;
* a few connections (one per batch worker at most) let workers overlap their round trips;
  the server's lock on the head still orders every append into one chain;
* an answer that cannot be stored is reported to the operator by the close; its attempt
  gets an *unknown* event when the store is back (on reconnect, or at the next start, as
  the embedded file recovers an attempt whose process died).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from support_tool.audit import events
from support_tool.audit.bodies import ABANDONED, UNSTORED, attempt_body, closing_body, unknown_body
from support_tool.audit.identity import operator_name, process_alive, workstation_name
from support_tool.audit.records import AuditFilter, AuditRecord
from support_tool.audit.team_pool import Link, Pool, select
from support_tool.errors import AuditUnavailable
from support_tool.provider import contract
from support_tool.provider.outcome import CloseResult

log = logging.getLogger(__name__)
T = TypeVar("T")

VERIFY_TIMEOUT_MS = 300_000  # checking every seal of a large trail is one long statement
STALE_PENDING_S = 3600  # as audit.log: an attempt older than any deadline is abandoned
NEXT_STEP = (
    " Nothing was sent: every action is recorded before it is sent. Try again once the "
    "store is back (support-tool audit status says whether it is)."
)
_PENDING = (
    "SELECT a.seq, a.recorded_at, a.body, now() FROM support_tool.events a"
    " WHERE a.kind = 'attempt' AND (a.body::jsonb ->> 'workstation') = %s"
    " AND NOT EXISTS (SELECT 1 FROM support_tool.events c"
    " WHERE c.action = a.seq AND c.kind IN ('answer', 'unknown'))"
)
_TAIL = (
    "SELECT e.seal, p.seal, e.kind, e.action, e.recorded_at, e.origin, e.body"
    " FROM support_tool.events e LEFT JOIN support_tool.events p ON p.seq = e.seq - 1"
    " WHERE e.seq = %s"
)


class TeamLog:
    """This desk's view of the team store: append attempts and answers, read actions."""

    def __init__(
        self,
        conninfo: str,
        password: str | None,
        what: str,
        *,
        connections: int = contract.MAX_BATCH_CONCURRENCY,
    ) -> None:
        self._what = what
        self.operator = operator_name()
        self.workstation = workstation_name()
        self.pid = os.getpid()
        # One connection per batch worker, and one more for reads and the window's checks;
        # the store, back after a loss, first closes what the loss left open.
        self._pool = Pool(conninfo, password, what, connections + 1, on_back=self._recover)
        self._queue: list[tuple[int, CloseResult]] = []
        self._queue_lock = threading.Lock()
        self._unstored: dict[int, str] = {}  # attempts whose answer could not be stored
        self._pool.use(self._recover)  # connects first: an unreachable store fails here

    @property
    def where(self) -> str:
        return f"the team audit store {self._what}"

    # --- the connection ----------------------------------------------------------------

    def run(self, work: Callable[[Link], T]) -> T:
        """Run ``work`` on one of the store's connections (``audit import``)."""
        return self._pool.use(work)

    def problem(self) -> str | None:
        """None when an attempt can be recorded now; else why not. Reconnects (and then
        recovers) when the connection was lost: the window calls it on a worker."""
        for _ in range(2):  # a connection the server dropped while idle, then a new one
            try:
                self._pool.use(lambda link: select(link, "SELECT 1", ()))
                return None
            except AuditUnavailable as exc:
                reason = _sentence(exc)
        return f"{reason} Reconnecting: nothing can be sent until the store is back."

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> TeamLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- writing ------------------------------------------------------------------------

    def _append(self, answers: list[tuple[int, CloseResult]], kind: str, bodies: list[str]) -> int:
        """Append queued ``answers``, then events of ``kind`` with ``bodies``, in one
        transaction; returns the last event's seq (0 when there was none). Answers that
        were not stored are kept for recovery."""

        def work(link: Link) -> int:
            seq = 0
            with link.store.transaction() as appender:
                for action, result in answers:
                    body = events.canonical_body(closing_body(result))
                    appender.append(events.ANSWER, action, body)
                for body in bodies:
                    seq = appender.append(kind, None, body).seq
            return seq

        try:
            return self._pool.use(work)
        except AuditUnavailable as exc:
            self._unstored.update((action, str(exc)) for action, _ in answers)
            raise

    def _taken(self, extra: tuple[int, CloseResult] | None = None) -> list[tuple[int, CloseResult]]:
        with self._queue_lock:
            queued, self._queue = self._queue, []
        return [*queued, extra] if extra else queued

    def _attempt(self, row: dict[str, Any]) -> dict[str, object]:
        return attempt_body(row, operator=self.operator, workstation=self.workstation, pid=self.pid)

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
        """Commit the sealed *attempt* (with any queued answers) before the request is
        sent; returns the action's id (the attempt's seq)."""
        row = {
            "profile": profile,
            "api_host": api_host,
            "login": login,
            "game_id": game_id,
            "clear_history": clear_history,
            "reason": reason,
            "batch_id": batch_id,
        }
        body = events.canonical_body(self._attempt(row))
        try:
            return self._append(self._taken(), events.ATTEMPT, [body])
        except AuditUnavailable as exc:
            raise AuditUnavailable(f"{_sentence(exc)}{NEXT_STEP}") from None

    def finish(self, row_id: int, result: CloseResult, *, wait: bool = True) -> None:
        """Append the *answer* to attempt ``row_id``; ``wait=False`` queues it for the next
        commit (a batch's next attempt, or ``flush``)."""
        if not wait:
            with self._queue_lock:
                self._queue.append((row_id, result))
            return
        self._answers(self._taken((row_id, result)))

    def flush(self) -> None:
        """Commit the queued answers now; raises :class:`AuditUnavailable` if it fails."""
        self._answers(self._taken())

    def _answers(self, answers: list[tuple[int, CloseResult]]) -> None:
        if not answers:
            return
        try:
            self._append(answers, events.ANSWER, [])
        except AuditUnavailable as exc:
            raise AuditUnavailable(
                f"{_sentence(exc)} The provider's answer could not be recorded; the attempt is on "
                "record and is marked unknown once the store is back."
            ) from None

    def record(self, result: CloseResult, **row: Any) -> int:
        """Record an action that ended before sending as one *refused* event."""
        body = events.canonical_body({**self._attempt(row), **closing_body(result)})
        return self._append(self._taken(), events.REFUSED, [body])

    def record_many(self, entries: list[tuple[str, CloseResult]], **row: Any) -> None:
        """Record many refused actions (a batch's invalid lines) in one transaction."""
        bodies = [
            events.canonical_body({**self._attempt({**row, "login": login}), **closing_body(r)})
            for login, r in entries
        ]
        self._append(self._taken(), events.REFUSED, bodies)

    # --- recovery -----------------------------------------------------------------------

    def _recover(self, link: Link) -> None:
        """Append *unknown* for this desk's attempts left without an answer: by a process
        that died, too old to be in flight, or this process's own answers that could not
        be stored. Never stops the store from opening (an auditor's login may not append):
        what cannot be closed now is closed at the next chance."""
        try:
            found = select(link, _PENDING, (self.workstation,))
        except AuditUnavailable as exc:
            log.warning("recovery in %s did not run: %s", self.where, exc)
            return
        pending = {int(row[0]) for row in found}
        todo = [(seq, UNSTORED) for seq in self._unstored if seq in pending]
        todo += [(int(row[0]), ABANDONED) for row in found if self._abandoned(row)]
        for seq, text in todo:
            try:
                if self._sealed(link, seq):
                    body = events.canonical_body(unknown_body(text))
                    link.store.append(events.UNKNOWN, seq, body)
            except AuditUnavailable as exc:  # e.g. closed meanwhile by another process
                log.warning("recovery in %s left attempt %d: %s", self.where, seq, exc)
                if link.broken:
                    return
            self._unstored.pop(seq, None)

    def _abandoned(self, row: tuple[Any, ...]) -> bool:
        seq, recorded_at, body, now = row
        if int(seq) in self._unstored:
            return False  # closed with its own words
        fields = events.Event(seq, events.ATTEMPT, seq, recorded_at, "", body, b"").fields()
        started = datetime.fromisoformat(str(recorded_at).replace("Z", "+00:00"))
        pid = fields.get("pid")
        dead = isinstance(pid, int) and pid != os.getpid() and not process_alive(pid)
        return dead or (now - started).total_seconds() > STALE_PENDING_S

    def _sealed(self, link: Link, seq: int) -> bool:
        """Whether attempt ``seq`` still matches its seal: only what the server sealed is
        closed, never a row planted past the append function."""
        rows = select(link, _TAIL, (seq,))
        if not rows:
            return False
        seal, before, kind, action, at, origin, body = rows[0]
        previous = bytes(before) if before is not None else events.GENESIS
        tail = events.tail(seq, kind, action, at, origin, body)
        return events.seal_after(previous, tail) == bytes(seal)

    # --- reading ------------------------------------------------------------------------

    def get(self, row_id: int) -> AuditRecord | None:
        return self._pool.use(lambda link: link.store.get(row_id))

    def page(
        self, flt: AuditFilter, before_id: int | None = None, limit: int = 256
    ) -> list[AuditRecord]:
        return self._pool.use(lambda link: link.store.page(flt, before_id, limit))

    def newer(self, flt: AuditFilter, after_id: int, limit: int = 256) -> list[AuditRecord]:
        return self._pool.use(lambda link: link.store.newer(flt, after_id, limit))

    def query(
        self,
        *,
        login: str | None = None,
        profile: str | None = None,
        outcome: str | None = None,
        batch_id: str | None = None,
        text: str = "",
        limit: int | None = None,
    ) -> Iterator[AuditRecord]:
        """Actions newest first, read a page at a time (never all at once)."""
        flt = AuditFilter(text, login, profile, outcome, batch_id)
        left = limit if limit else None
        before: int | None = None
        while left is None or left > 0:
            rows = self.page(flt, before, 1000 if left is None else min(left, 1000))
            yield from rows
            if not rows:
                return
            before = rows[-1].id
            left = None if left is None else left - len(rows)

    # --- verifying ----------------------------------------------------------------------

    def verify(self) -> events.ChainReport:
        """The server's check of every event (docs/audit-trail.md, checks 1-4), on its own
        connection with a long statement timeout, as the embedded file reports it."""
        link = self._pool.connect(VERIFY_TIMEOUT_MS)
        try:
            report = link.store.check_chain()
            at = select(
                link,
                "SELECT recorded_at FROM support_tool.events WHERE seq = %s",
                (report.head_seq,),
            )
        finally:
            link.conn.close()
        if report.ok:
            return events.ChainReport(
                True, report.events, report.head_seal, head_at=str(at[0][0]) if at else ""
            )
        seq, text = report.problems[0]
        return events.ChainReport(False, max(0, seq - 1), report.head_seal, f"{text}.", seq)

    def verify_anchor(self, anchor: events.Anchor) -> events.ChainReport:
        """Verify, then prove the trail still holds ``anchor``'s event, time and seal."""
        report = self.verify()
        if not report.ok:
            return report
        rows = self._pool.use(
            lambda link: select(
                link,
                "SELECT recorded_at, encode(seal, 'hex') FROM support_tool.events WHERE seq = %s",
                (anchor.events,),
            )
        )
        problem = events.anchor_mismatch(
            anchor, (str(rows[0][0]), str(rows[0][1])) if rows else None
        )
        if not problem:
            return report
        return events.ChainReport(False, report.checked, report.head_seal, problem, anchor.events)

    def anchor(self) -> str:
        return self.verify().anchor()


def _sentence(exc: BaseException) -> str:
    """A message as one sentence ending in a full stop, to be followed by the next."""
    text = str(exc).rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."
