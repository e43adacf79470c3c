"""The one result type every close produces, whatever happened.

The window, the command line, the batch runner and the history store all read the same
:class:`CloseResult`, so an outcome is worded and classified once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Outcome(enum.StrEnum):
    """How a close ended. Values are stable: they are stored in the history."""

    SUCCESS = "success"
    REFUSED = "refused"  # the provider answered with an error code
    TRANSPORT_FAILURE = "transport_failure"  # no valid answer from the provider
    INVALID_INPUT = "invalid_input"  # refused before sending
    CONFIGURATION = "configuration_error"  # profile, secret or keyring problem
    PENDING = "pending"  # sent, answer not yet recorded
    UNKNOWN = "unknown"  # the tool stopped before the answer was recorded

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Outcome.SUCCESS: "Closed",
    Outcome.REFUSED: "Refused by provider",
    Outcome.TRANSPORT_FAILURE: "Could not reach provider",
    Outcome.INVALID_INPUT: "Invalid input",
    Outcome.CONFIGURATION: "Configuration problem",
    Outcome.PENDING: "In progress",
    Outcome.UNKNOWN: "Unknown (tool stopped)",
}

# Exit status of the command line for each outcome (httpie-style: one status per kind).
EXIT_STATUS = {
    Outcome.SUCCESS: 0,
    Outcome.REFUSED: 1,
    Outcome.INVALID_INPUT: 2,
    Outcome.TRANSPORT_FAILURE: 3,
    Outcome.CONFIGURATION: 4,
    Outcome.PENDING: 3,
    Outcome.UNKNOWN: 3,
}


class Failure(enum.StrEnum):
    """Why no valid answer arrived (for transport failures)."""

    DNS = "dns"
    REFUSED_CONNECTION = "connection_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    NO_CONNECTION = "no_connection"
    TLS = "tls"
    DEADLINE = "deadline"
    DISCONNECTED = "disconnected"
    HTTP_STATUS = "http_status"
    NOT_JSON = "not_json"
    WRONG_SHAPE = "wrong_shape"
    TOO_LARGE = "too_large"
    REDIRECT = "redirect"


@dataclass(frozen=True)
class CloseResult:
    """Everything known about one close.

    ``description`` is the provider's text verbatim when the provider answered, else the
    tool's own explanation. ``next_step`` is the plain-language advice for the operator.
    """

    outcome: Outcome
    description: str
    next_step: str = ""
    error_code: int | None = None
    http_status: int | None = None
    elapsed_ms: int = 0
    attempts: int = 0
    failure: Failure | None = None
    raw_response: str = ""
    reached_provider: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCESS

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.outcome]

    @property
    def headline(self) -> str:
        """One line for a status bar or terminal: outcome, code and description."""
        if self.error_code is not None and self.outcome is not Outcome.SUCCESS:
            return f"{self.outcome.label}: error {self.error_code} \u2013 {self.description}"
        return f"{self.outcome.label}: {self.description}"
