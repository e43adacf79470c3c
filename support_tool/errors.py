"""The tool's own exceptions: each carries a message written for a floor manager.

Every class maps to one exit status of the command line (see ``exit_status.ExitStatus`` and
``outcome.EXIT_STATUS``), so callers never have to parse messages to decide what happened.
"""

from __future__ import annotations


class SupportToolError(Exception):
    """Base class: ``str(error)`` is a complete, plain-language message."""


class InvalidInput(SupportToolError):
    """What the operator typed cannot be sent (empty login, spaces, too long, ...)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class ConfigurationError(SupportToolError):
    """The tool is not set up to send: unknown profile, no secret, bad profile file."""


class KeyringUnavailable(ConfigurationError):
    """No working OS keyring; the message says how to get one. Never falls back to plaintext."""


class AuditUnavailable(ConfigurationError):
    """The audit history cannot be written, so nothing may be sent."""


class AuditDamaged(AuditUnavailable):
    """SQLite reports the audit history file damaged: it is never written to again, and the
    message says how to recover (move it aside, keep it for the auditor)."""


class AuditTooNew(AuditUnavailable):
    """The audit history was written by a newer version: it is neither read nor changed."""
