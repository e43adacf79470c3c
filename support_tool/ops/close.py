"""The single path every close takes, for the window, the command line and batches.

validate input -> resolve profile -> read secret -> sign -> commit a *pending* history row
-> send -> complete the row. Whatever fails, the operator gets a :class:`CloseResult`
and the history gets a row; only an unwritable history stops the tool from sending.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from support_tool.config.profiles import Profile, ProfileSet, profile_problem
from support_tool.config.secret_store import SecretSource
from support_tool.errors import AuditUnavailable, ConfigurationError, InvalidInput
from support_tool.provider import contract
from support_tool.provider.outcome import CloseResult, Outcome
from support_tool.provider.request import CloseRequest, SignedRequest, build_signed
from support_tool.provider.validation import clean_reason

if TYPE_CHECKING:
    # The store protocol and its event and record types (~25 ms with hashlib) load
    # with the store, after the window's first paint.
    from support_tool.audit.store import AuditStore

    # requests and urllib3 cost ~100 ms to import; the window paints without them and
    # loads them on a worker thread (see transport_for).
    from support_tool.provider.transport import Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CloseAttempt:
    """One close as it ended, whatever happened (closed, refused, never sent): the result,
    its history row, and what it was about."""

    result: CloseResult
    history_id: int | None
    profile: Profile | None
    request: CloseRequest | None
    history_error: str = ""


@dataclass(frozen=True)
class _Asked:
    """What the operator asked for, as given (the reason cleaned once it passed): what a
    refusal's history row records when no valid request could be made of it."""

    login: str
    game_id: str | None
    clear_history: bool
    reason: str
    profile: str | None
    batch_id: str | None


class CloseService:
    """Closes sessions. Thread-safe; one transport (connection pool) per profile."""

    def __init__(
        self,
        profiles: Callable[[], ProfileSet],
        secrets: SecretSource,
        history: AuditStore,
        pool_size: int = contract.MAX_BATCH_CONCURRENCY,
    ) -> None:
        self._profiles = profiles
        self._secrets = secrets
        self.history = history
        self._pool_size = pool_size
        self._transports: dict[Profile, Transport] = {}
        self._lock = threading.Lock()

    @property
    def secrets(self) -> SecretSource:
        return self._secrets

    def close_all(self) -> None:
        with self._lock:
            for transport in self._transports.values():
                transport.close()
            self._transports.clear()

    def transport_for(self, profile: Profile) -> Transport:
        from support_tool.provider.transport import Transport

        with self._lock:
            transport = self._transports.get(profile)
            if transport is None:
                transport = Transport(
                    profile.timeout, profile.ca_bundle, self._pool_size, proxy=profile.proxy
                )
                self._transports[profile] = transport
            return transport

    def profile(self, name: str | None) -> Profile | None:
        """The profile a batch or confirmation is about, or None if it cannot be told yet
        (the close itself then records why)."""
        return self._profile_or_none(name)

    def _profile_or_none(self, name: str | None) -> Profile | None:
        """The profile a refused action was meant for, if it can be told (for its history row)."""
        try:
            return self._profiles().resolve(name)
        except ConfigurationError:
            return None

    def close(
        self,
        login: str,
        game_id: str | None = None,
        clear_history: bool = False,
        *,
        reason: str = "",
        profile: str | None = None,
        batch_id: str | None = None,
        wait_for_history: bool = True,
        secrets: SecretSource | None = None,
    ) -> CloseAttempt:
        """Close one session; raises only :class:`AuditUnavailable` (nothing is sent then).

        ``wait_for_history=False`` (batches) lets the answer's history update ride with the
        next commit; the caller must ``history.flush()`` when done. ``secrets`` replaces
        the service's secret source for this close (a batch's ``BatchSecrets``).
        """
        asked = _Asked(login, game_id, clear_history, reason, profile, batch_id)
        request: CloseRequest | None = None
        try:
            request = CloseRequest.from_input(login, game_id, clear_history)
            asked = replace(asked, reason=clean_reason(reason))
        except InvalidInput as exc:
            return self._refuse(
                asked,
                None,
                request,
                Outcome.INVALID_INPUT,
                str(exc),
                "Correct the input and try again.",
            )
        resolved = self._resolve(asked, request, secrets)
        if isinstance(resolved, CloseAttempt):
            return resolved
        chosen, signed = resolved
        row_id = self._record_attempt(asked, chosen, request)
        result = self._send(row_id, chosen, request, signed)
        return self._record_answer(row_id, chosen, request, result, wait_for_history)

    def _refuse(
        self,
        asked: _Asked,
        chosen: Profile | None,
        request: CloseRequest | None,
        outcome: Outcome,
        message: str,
        next_step: str,
    ) -> CloseAttempt:
        """Record a close that is not sent (bad input, no usable profile or secret): one
        history row, committed, so the refusal is on record as well."""
        result = CloseResult(outcome=outcome, description=message, next_step=next_step)
        where = chosen or self._profile_or_none(asked.profile)
        row_id = self.history.record(
            result,
            profile=where.name if where else (asked.profile or ""),
            api_host=where.api_host if where else "",
            login=asked.login,
            game_id=asked.game_id,
            clear_history=asked.clear_history,
            reason=asked.reason,
            batch_id=asked.batch_id,
        )
        log.info("close #%d refused before sending: %s", row_id, outcome.value)
        return CloseAttempt(result, row_id, chosen, request)

    def _resolve(
        self, asked: _Asked, request: CloseRequest, secrets: SecretSource | None
    ) -> CloseAttempt | tuple[Profile, SignedRequest]:
        """The profile and the signed request, or the recorded refusal if the profile is
        missing or unusable or its secret cannot be read. The secret lives only here."""
        chosen: Profile | None = None
        try:
            chosen = self._profiles().resolve(asked.profile)
            unusable = profile_problem(chosen)
            if unusable:
                raise ConfigurationError(unusable)
            secret = (secrets or self._secrets).get(chosen.name)
        except ConfigurationError as exc:
            return self._refuse(
                asked,
                chosen,
                request,
                Outcome.CONFIGURATION,
                str(exc),
                "Fix the configuration and try again.",
            )
        signed = build_signed(chosen.url, request, secret)
        del secret
        return chosen, signed

    def _record_attempt(self, asked: _Asked, chosen: Profile, request: CloseRequest) -> int:
        """Commit the pending history row before anything is sent; an unwritable history
        raises :class:`AuditUnavailable` here, so nothing goes out unrecorded."""
        return self.history.begin(
            profile=chosen.name,
            api_host=chosen.api_host,
            login=request.login,
            game_id=request.game_id,
            clear_history=request.clear_history,
            reason=asked.reason,
            batch_id=asked.batch_id,
        )

    def _send(
        self, row_id: int, chosen: Profile, request: CloseRequest, signed: SignedRequest
    ) -> CloseResult:
        """Send the recorded request through the profile's transport."""
        from support_tool.provider.transport import with_request_details

        log.debug(
            "close #%d sending: profile=%s host=%s proxy=%s login=%s game=%s clear=%d",
            row_id,
            chosen.name,
            chosen.api_host,
            chosen.proxy or "none",
            request.login,
            request.game_id or "(all)",
            request.clear_history,
        )
        transport = self.transport_for(chosen)
        return with_request_details(transport.send(signed), signed, chosen.proxy)

    def _record_answer(
        self,
        row_id: int,
        chosen: Profile,
        request: CloseRequest,
        result: CloseResult,
        wait_for_history: bool,
    ) -> CloseAttempt:
        """Complete the history row with the answer. The request has gone, so a history
        that fails now is a warning on the result, not a reason to hide the answer."""
        history_error = ""
        try:
            self.history.finish(row_id, result, wait=wait_for_history)
        except AuditUnavailable as exc:
            history_error = str(exc)
            log.error("close #%d: answer could not be recorded: %s", row_id, exc)
        log.info(
            "close #%d profile=%s login=%s game=%s clear=%d outcome=%s code=%s http=%s "
            "ms=%d attempts=%d",
            row_id,
            chosen.name,
            request.login,
            request.game_id or "",
            request.clear_history,
            result.outcome.value,
            result.error_code,
            result.http_status,
            result.elapsed_ms,
            result.attempts,
        )
        return CloseAttempt(result, row_id, chosen, request, history_error)
