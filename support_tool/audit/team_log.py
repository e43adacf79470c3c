"""The team audit store as an :class:`~support_tool.audit.store.AuditStore`.

Close, batches, the history commands and the window write and read the team store
through this class exactly as they do the embedded file: the same bodies
(``audit.bodies``), the same rules. The server assigns seq, time and origin and seals
(``team_store``); this side decides *when*:

* an attempt is committed before ``begin`` returns, so nothing is sent unrecorded; if the
  store cannot be reached or refuses it, ``begin`` raises :class:`AuditUnavailable`
  (fail closed) with the store, the reason and the next step;
* events are group-committed: whatever batch workers queued meanwhile (attempts, and
  answers queued by ``finish(wait=False)``) goes in one transaction, one flush on the
  server, which holds the head's lock until the flush is done;
* reads run on connections of their own (a small pool), so History never waits behind a
  batch's appends;
* an answer that cannot be stored is reported to the operator by the close; its attempt
  gets an *unknown* event when the store is back (on reconnect, or at the next start, as
  the embedded file recovers an attempt whose process died).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

STALE_PENDING_S = 3600  # as audit.log: an attempt older than any deadline is abandoned
NEXT_STEP = (
    " Nothing was sent: every action is recorded before it is sent. Try again once the "
    "store is back (support-tool audit status says whether it is)."
)
# This workstation's attempts without a closing event, from the few rows append_event keeps
# for them (what is closed next is still checked against its seal: see _sealed).
_PENDING = (
    "SELECT a.seq, a.recorded_at, a.body, now() FROM support_tool.open_attempts o"
    " JOIN support_tool.events a ON a.seq = o.seq"
    " WHERE a.kind = 'attempt' AND (a.body::jsonb ->> 'workstation') = %s"
)
_MAY_APPEND = (
    "SELECT has_function_privilege('support_tool.append_event(text,bigint,text)', 'EXECUTE'),"
    " session_user"
)
_TAIL = (
    "SELECT e.seal, p.seal, e.kind, e.action, e.recorded_at, e.origin, e.body"
    " FROM support_tool.events e LEFT JOIN support_tool.events p ON p.seq = e.seq - 1"
    " WHERE e.seq = %s"
)


@dataclass
class _Write:
    """One event waiting for a group commit, and what became of it (``kind`` "" is a
    flush: it appends nothing but waits for everything queued before it)."""

    kind: str
    body: str = ""
    action: int | None = None  # an answer's attempt
    done: bool = False
    seq: int = 0
    error: AuditUnavailable | None = None


class TeamLog:
    """This desk's view of the team store: append attempts and answers, read actions."""

    def __init__(
        self,
        conninfo: str,
        password: str | None,
        what: str,
        *,
        connections: int = contract.MAX_BATCH_CONCURRENCY,
        may_be_down: bool = False,
    ) -> None:
        """Connect and recover now; an unreachable store raises :class:`AuditUnavailable`,
        unless ``may_be_down`` (the window: it opens anyway, and :meth:`problem` says why
        nothing can be sent until the store is back)."""
        self._what = what
        self.operator = operator_name()
        self.workstation = workstation_name()
        self.pid = os.getpid()
        # Connections for the writer, readers and the window's checks, opened as needed;
        # the store, back after a loss, first closes what the loss left open.
        self._pool = Pool(conninfo, password, what, connections + 1, on_back=self._recover)
        self._writer = threading.Lock()  # one group commit at a time
        self._queue: list[_Write] = []
        self._queue_lock = threading.Lock()
        self._deferred: AuditUnavailable | None = None  # a queued answer's failure, for flush
        self._unstored: dict[int, str] = {}  # attempts whose answer could not be stored
        try:
            self._pool.use(self._recover)
        except AuditUnavailable:
            if not may_be_down:
                raise  # the lost store is recovered when it is back (Pool.on_back)

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
                rows = self._pool.use(lambda link: select(link, _MAY_APPEND))
            except AuditUnavailable as exc:
                reason = _sentence(exc)
                continue
            if rows and rows[0][0]:
                return None
            return (
                f"The team audit store {self._what} does not let this login ({rows[0][1]}) "
                "record actions: it may only read the trail. Nothing can be sent from this "
                "desk until IT grants the login the desk role."
            )
        return f"{reason} Reconnecting: nothing can be sent until the store is back."

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> TeamLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- writing ------------------------------------------------------------------------

    def _write(self, writes: list[_Write], *, wait: bool = True) -> None:
        """Queue ``writes``; unless ``wait`` is False, return once they are committed (or
        have failed: see each one's ``error``).

        Group commit, as the embedded file does: whichever thread next holds the writer
        lock commits everything queued in one transaction. The server holds the head's
        lock until a commit is flushed to disk, so one flush per group instead of one per
        event is what lets eight batch workers keep up.
        """
        with self._queue_lock:
            self._queue.extend(writes)
        if not wait:
            return
        with self._writer:
            if not all(w.done for w in writes):
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)

    def _commit(self, group: list[_Write]) -> None:
        writes = [w for w in group if w.kind]

        def work(link: Link) -> None:
            with link.store.transaction() as appender:
                items = [(w.kind, w.action, w.body) for w in writes]
                for w, appended in zip(writes, appender.append_all(items), strict=True):
                    w.seq = appended.seq

        try:
            self._pool.use(work)
        except AuditUnavailable as exc:
            for w in group:
                w.error = exc
                if w.kind == events.ANSWER and w.action is not None:
                    self._unstored[w.action] = str(exc)  # recovery closes it as unknown
                    self._deferred = exc
        finally:
            for w in group:
                w.done = True

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
        mine = _Write(events.ATTEMPT, events.canonical_body(self._attempt(row)))
        self._write([mine])
        if mine.error is not None:
            raise AuditUnavailable(f"{_sentence(mine.error)}{NEXT_STEP}") from None
        return mine.seq

    def finish(self, row_id: int, result: CloseResult, *, wait: bool = True) -> None:
        """Append the *answer* to attempt ``row_id``; ``wait=False`` queues it for the next
        commit (a batch's next attempt, or ``flush``)."""
        mine = _Write(events.ANSWER, events.canonical_body(closing_body(result)), row_id)
        self._write([mine], wait=wait)
        if wait and mine.error is not None:
            self._raise_unrecorded(mine.error)

    def flush(self) -> None:
        """Commit the queued answers now; raises :class:`AuditUnavailable` if any queued
        answer could not be recorded."""
        with self._queue_lock:
            queued = bool(self._queue)
        if queued:
            self._write([_Write("")])
        self._raise_unrecorded(None)

    def _raise_unrecorded(self, error: AuditUnavailable | None) -> None:
        """Say that an answer (this one, or else a queued one) could not be recorded."""
        error = error or self._deferred
        self._deferred = None
        if error is not None:
            raise AuditUnavailable(
                f"{_sentence(error)} The provider's answer could not be recorded; the attempt "
                "is on record and is marked unknown once the store is back."
            ) from None

    def record(self, result: CloseResult, **row: Any) -> int:
        """Record an action that ended before sending as one *refused* event."""
        body = events.canonical_body({**self._attempt(row), **closing_body(result)})
        return self._refused([body])

    def record_many(self, entries: list[tuple[str, CloseResult]], **row: Any) -> None:
        """Record many refused actions (a batch's invalid lines) in one transaction."""
        self._refused(
            [
                events.canonical_body({**self._attempt({**row, "login": login}), **closing_body(r)})
                for login, r in entries
            ]
        )

    def _refused(self, bodies: list[str]) -> int:
        writes = [_Write(events.REFUSED, body) for body in bodies]
        self._write(writes)
        for w in writes:
            if w.error is not None:
                raise w.error
        return writes[-1].seq if writes else 0

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
        todo = [(seq, UNSTORED) for seq in list(self._unstored) if seq in pending]
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
        """Every event checked here, not by the server (docs/audit-trail.md, checks 1-4):
        the desk streams the stored rows in one snapshot and recomputes each seal with the
        format's own code (audit/team_verify.py), so a superuser who replaced the server's
        seal or check functions is still caught. Reported as the embedded file reports it."""
        found = self._pool.use(lambda link: link.store.recompute_chain())
        if found.problem is None:
            return events.ChainReport(True, found.events, found.head_seal, head_at=found.head_at)
        seq, text = found.problem
        return events.ChainReport(False, found.events, found.head_seal, f"{text}.", seq)

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
