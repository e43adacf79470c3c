"""Checks on what the operator typed, applied before anything is signed or sent.

The same rules serve the command line, the window (validation as you type) and the
batch runner, so a value accepted in one place is accepted everywhere.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from urllib.parse import urlsplit

from support_tool.errors import InvalidInput
from support_tool.provider import contract

# Unicode categories never allowed in a login or game id: control, format (invisible
# characters such as zero-width spaces), surrogates, private use, unassigned, and all
# separators (spaces of every kind, line and paragraph separators).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _describe(ch: str) -> str:
    if ch.isspace() or unicodedata.category(ch).startswith("Z"):
        return "a space"
    name = unicodedata.name(ch, "")
    return f"an invisible or control character (U+{ord(ch):04X}{' ' + name if name else ''})"


def _check_chars(value: str, label: str, field: str) -> None:
    if len(value) > contract.MAX_FIELD_CHARS:
        raise InvalidInput(
            f"The {label} is too long ({len(value):,} characters; at most "
            f"{contract.MAX_FIELD_CHARS}). Check that you pasted only the {label}.",
            field,
        )
    for position, ch in enumerate(value, start=1):
        if ch.isspace() or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            raise InvalidInput(
                f"The {label} contains {_describe(ch)} at position {position}. "
                f"A {label} is one word: remove it and try again.",
                field,
            )


def clean_login(raw: str) -> str:
    """Return the login with surrounding whitespace removed, or raise :class:`InvalidInput`."""
    value = raw.strip()
    if not value:
        raise InvalidInput("Enter the player's or terminal's login.", "login")
    _check_chars(value, "login", "login")
    return value


def clean_game_id(raw: str | None) -> str | None:
    """Return the game id, or ``None`` for blank (which means: every game of the player)."""
    if raw is None:
        return None
    value = raw.strip()
    if not value:
        return None
    _check_chars(value, "game id", "game")
    return value


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses, the only places plain HTTP may go."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_api_url(raw: str) -> str:
    """Validate a profile's API URL and return it without a trailing slash.

    HTTPS is required because the request carries a login and a signature that must not
    travel in clear; plain HTTP is accepted only to this machine (the sandbox provider).
    """
    value = raw.strip()
    if not value:
        raise InvalidInput("Enter the API URL the provider gave you.", "url")
    if "://" not in value:
        raise InvalidInput(
            f"The API URL must start with https:// (got {value!r}). "
            "Copy the full address the provider gave you.",
            "url",
        )
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise InvalidInput(f"The API URL has an invalid port: {value!r}.", "url") from exc
    if scheme not in {"https", "http"} or not host:
        raise InvalidInput(
            f"The API URL must be an https:// address with a host name (got {value!r}).", "url"
        )
    if scheme == "http" and not is_loopback_host(host):
        raise InvalidInput(
            f"Plain http:// is only allowed to this computer (localhost); {host} needs "
            "https:// so that the login and signature are not sent in clear.",
            "url",
        )
    if parts.username or parts.password:
        raise InvalidInput("The API URL must not contain a user name or password.", "url")
    if parts.query or parts.fragment:
        raise InvalidInput(
            "The API URL must not contain '?' or '#': give only the base address; "
            f"the tool adds {contract.ENDPOINT_PATH} itself.",
            "url",
        )
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput("The API URL must not contain spaces or control characters.", "url")
    return value.rstrip("/")


MAX_REASON_CHARS = 500


def clean_reason(raw: str | None) -> str:
    """Optional reason or ticket reference, one line, at most 500 characters."""
    value = " ".join((raw or "").split())
    if len(value) > MAX_REASON_CHARS:
        raise InvalidInput(
            f"The reason is too long ({len(value):,} characters; at most {MAX_REASON_CHARS}).",
            "reason",
        )
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise InvalidInput("The reason contains control characters.", "reason")
    return value
