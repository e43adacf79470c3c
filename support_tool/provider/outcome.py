"""The one result type every close produces, whatever happened.

The window, the command line, the batch runner and the history store all read the same
:class:`CloseResult`, so an outcome is worded and classified once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from support_tool.exit_status import ExitStatus


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
        """The outcome's name in tables, exports and lists ("Closed")."""
        return _LABELS[self]

    @property
    def headline(self) -> str:
        """The window's answer headline for one close ("Session closed")."""
        return _HEADLINES.get(self, self.label)

    @property
    def sentence(self) -> str:
        """How the command line opens its line about one close ("Closed: ...")."""
        return _SENTENCES.get(self, self.label)


# Every word shown for an outcome lives here, side by side. The three tables word some
# outcomes differently on purpose: a label names a kind of row, a headline is said about the
# close just made ("Not sent: ..."), and the command line's sentence reads on into ": why".
_LABELS = {
    Outcome.SUCCESS: "Closed",
    Outcome.REFUSED: "Refused by provider",
    Outcome.TRANSPORT_FAILURE: "Could not reach provider",
    Outcome.INVALID_INPUT: "Invalid input",
    Outcome.CONFIGURATION: "Configuration problem",
    Outcome.PENDING: "In progress",
    Outcome.UNKNOWN: "Unknown (tool stopped)",
}

_HEADLINES = {
    Outcome.SUCCESS: "Session closed",
    Outcome.REFUSED: "Refused by the provider",
    Outcome.TRANSPORT_FAILURE: "Could not reach the provider",
    Outcome.INVALID_INPUT: "Not sent: invalid input",
    Outcome.CONFIGURATION: "Not sent: configuration problem",
}

_SENTENCES = {
    Outcome.SUCCESS: "Closed",
    Outcome.REFUSED: "Refused by the provider",
    Outcome.TRANSPORT_FAILURE: "Could not reach the provider",
}

# Exit status of the command line for each outcome (httpie-style: one status per kind).
EXIT_STATUS = {
    Outcome.SUCCESS: ExitStatus.OK,
    Outcome.REFUSED: ExitStatus.REFUSED,
    Outcome.INVALID_INPUT: ExitStatus.USAGE,
    Outcome.TRANSPORT_FAILURE: ExitStatus.TRANSPORT,
    Outcome.CONFIGURATION: ExitStatus.CONFIG,
    Outcome.PENDING: ExitStatus.TRANSPORT,
    Outcome.UNKNOWN: ExitStatus.TRANSPORT,
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
    request_as_sent: dict[str, str] = field(default_factory=dict)  # never the secret

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCESS

    @property
    def exit_status(self) -> ExitStatus:
        return EXIT_STATUS[self.outcome]

    @property
    def headline(self) -> str:
        """One line for a status bar or terminal: outcome, code and description."""
        if self.error_code is not None and self.outcome is not Outcome.SUCCESS:
            return f"{self.outcome.label}: error {self.error_code} \u2013 {self.description}"
        return f"{self.outcome.label}: {self.description}"
