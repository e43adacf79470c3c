"""Checks on what the operator typed, applied before anything is signed or sent.

The same rules serve the command line, the window (validation as you type) and the
batch runner, so a value accepted in one place is accepted everywhere.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from support_tool.errors import InvalidInput
from support_tool.provider import contract

# Unicode categories never allowed in a login or game id: control, format (invisible
# characters such as zero-width spaces), surrogates (bytes that were not UTF-8), private use,
# unassigned, all separators (spaces of every kind, line and paragraph separators), and
# "other symbols" (emoji, braille patterns): a login is text a person can read back.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "So"})
_MARKS = frozenset({"Mn", "Mc", "Me"})

# Characters that render as nothing although their category looks harmless (letters or
# marks): Unicode's Default_Ignorable_Code_Point set, plus the blank braille pattern. A
# login made of them looks empty on screen and cannot be read back over the phone.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def is_invisible(ch: str) -> bool:
    """True for a character that shows as blank although it is not a space."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def is_undecodable(ch: str) -> bool:
    """True for a lone surrogate: what Python makes of bytes that were not UTF-8 (an
    argument typed in another encoding); such text cannot be stored, logged or sent."""
    return 0xD800 <= ord(ch) <= 0xDFFF


def has_undecodable(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate. Strict UTF-8 encoding refuses exactly
    those code points, and does so in C: this runs on every field of every history row,
    where a Python loop over the characters cost a batch ~0.1 ms a row."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def storable(text: str) -> str:
    """``text`` with bytes that were not UTF-8 written as ``\\xNN`` (lone surrogates as
    ``\\uNNNN``), so that it can be stored in the history, logged and printed as evidence."""
    if not has_undecodable(text):
        return text
    return "".join(
        (f"\\x{ord(ch) - 0xDC00:02x}" if 0xDC80 <= ord(ch) <= 0xDCFF else f"\\u{ord(ch):04x}")
        if is_undecodable(ch)
        else ch
        for ch in text
    )


def _category(ch: str) -> str:
    """``unicodedata.category``, the module imported at the first check that needs it: the
    window imports this module before its first paint, where nothing is checked yet."""
    import unicodedata

    return unicodedata.category(ch)


def _name(ch: str) -> str:
    import unicodedata

    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}{' ' + name if name else ''}"


def _describe(ch: str) -> str:
    """What is wrong with ``ch``, in words an operator can act on."""
    if is_undecodable(ch):
        shown = f"0x{ord(ch) - 0xDC00:02X}" if 0xDC80 <= ord(ch) <= 0xDCFF else _name(ch)
        return f"a byte that is not UTF-8 text ({shown}; check the terminal's encoding)"
    if ch.isspace() or _category(ch).startswith("Z"):
        return "a space"
    if is_invisible(ch):
        return f"an invisible character {_name(ch)}"
    category = _category(ch)
    if category == "So":
        return f"an emoji or symbol ({_name(ch)})"
    if category in _MARKS:
        return f"an accent or mark with no letter before it ({_name(ch)})"
    return f"an invisible or control character ({_name(ch)})"


def _unreadable(ch: str, previous: str) -> bool:
    """True if ``ch`` cannot be part of a login a person reads back; a combining mark is
    fine only on a letter or digit (``e`` + U+0301 is é), not alone or after a space."""
    category = _category(ch)
    if ch.isspace() or category in _FORBIDDEN_CATEGORIES or is_invisible(ch):
        return True
    if category in _MARKS:
        return not previous or _category(previous)[0] not in "LNM"
    return False


def _plain_ascii(value: str) -> bool:
    """Printable ASCII with no space: every such character is a letter, digit,
    punctuation or a maths or currency sign, none of which :func:`_unreadable` refuses
    (``tests/test_validation.py`` checks all 128), so the per-character check is skipped
    for the logins nearly every close and batch row carries."""
    return value.isascii() and value.isprintable() and " " not in value


def _check_chars(value: str, label: str, field: str) -> None:
    if len(value) > contract.MAX_FIELD_CHARS:
        raise InvalidInput(
            f"The {label} is too long ({len(value):,} characters; at most "
            f"{contract.MAX_FIELD_CHARS}). Check that you pasted only the {label}.",
            field,
        )
    if _plain_ascii(value):
        return
    previous = ""
    for position, ch in enumerate(value, start=1):
        if _unreadable(ch, previous):
            raise InvalidInput(
                f"The {label} contains {_describe(ch)} at position {position}. "
                f"A {label} is one word: remove it and try again.",
                field,
            )
        previous = ch


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


def _split_address(value: str, what: str, field: str) -> tuple[SplitResult, str]:
    """The parts and host of an address, or :class:`InvalidInput` in plain words.

    ``urlsplit`` raises ``ValueError`` for a bracket left open (``https://[::1``), a
    bracketed host that is not an IPv6 address (``https://[zz]``) and a port out of range;
    those must be messages, never a traceback.
    """
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError as exc:
        raise InvalidInput(
            f"The {what} {value!r} is not a valid address ({exc}). A host in square "
            "brackets must be a complete IPv6 address, such as https://[2001:db8::1]:8443.",
            field,
        ) from exc
    try:
        port = parts.port
    except ValueError:
        port = -1  # not a number, or beyond 65535
    if port is not None and not 1 <= port <= 65535:
        raise InvalidInput(
            f"The {what} has an invalid port: {value!r}. A port is a number between 1 "
            "and 65535 (or left out for the scheme's usual port).",
            field,
        )
    return parts, host


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
    parts, host = _split_address(value, "API URL", "url")
    scheme = parts.scheme.lower()
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
    if any(ch.isspace() or _category(ch) == "Cc" for ch in value):
        raise InvalidInput("The API URL must not contain spaces or control characters.", "url")
    cleaned = value.rstrip("/")
    if cleaned.lower().endswith(contract.ENDPOINT_PATH.lower()):
        base = cleaned[: -len(contract.ENDPOINT_PATH)]
        raise InvalidInput(
            f"The API URL already ends in {contract.ENDPOINT_PATH}, which the tool adds "
            f"itself: requests would go to {cleaned}{contract.ENDPOINT_PATH}. "
            f"Give the address without it: {base or 'the base address'}",
            "url",
        )
    return cleaned


PROXY_SCHEMES = ("http", "https")


def clean_proxy_url(raw: str, api_url: str = "") -> str:
    """Validate a profile's proxy (``http://host:port`` or ``https://host:port``), or "".

    The proxy is part of the profile, never taken from the environment, because it
    decides where a signed request goes. No user name or password: the profile file is
    plain text. A plain-http API URL (the sandbox on this computer) may only go through a
    proxy on this computer too, or the signed request would cross the network in clear.
    """
    value = raw.strip()
    if not value:
        return ""
    if "://" not in value:
        raise InvalidInput(
            f"The proxy must be written as http://host:port (got {value!r}).", "proxy"
        )
    parts, host = _split_address(value, "proxy", "proxy")
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise InvalidInput(
            f"The proxy scheme {parts.scheme}:// is not supported; use http:// or https:// "
            "(the request itself stays encrypted end to end through the proxy).",
            "proxy",
        )
    if not host:
        raise InvalidInput(f"The proxy {value!r} has no host name.", "proxy")
    if parts.username or parts.password:
        raise InvalidInput(
            "The proxy must not contain a user name or password: the profile file is "
            "plain text. Ask for a proxy that lets this computer through without them.",
            "proxy",
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise InvalidInput(
            f"The proxy is only a scheme, host and port, such as http://proxy:3128 "
            f"(got {value!r}).",
            "proxy",
        )
    if any(ch.isspace() or _category(ch) == "Cc" for ch in value):
        raise InvalidInput("The proxy must not contain spaces or control characters.", "proxy")
    if api_url.lower().startswith("http://") and not is_loopback_host(host):
        raise InvalidInput(
            f"The API URL is plain http://, so its requests may only go through a proxy on "
            f"this computer; {host} would see the signed request in clear.",
            "proxy",
        )
    return value.rstrip("/")


MAX_REASON_CHARS = 500


CONCURRENCY_RANGE = f"between {contract.MIN_BATCH_CONCURRENCY} and {contract.MAX_BATCH_CONCURRENCY}"
CONCURRENCY_SPAN = f"{contract.MIN_BATCH_CONCURRENCY}-{contract.MAX_BATCH_CONCURRENCY}"  # for help


def clean_concurrency(
    value: int,
    message: str = f"Batch concurrency must be {CONCURRENCY_RANGE} requests at a time.",
) -> int:
    """The one range check for requests in flight at once (a profile's setting, a batch's
    option, ``--concurrency``); each caller words the refusal for where it was typed."""
    low, high = contract.MIN_BATCH_CONCURRENCY, contract.MAX_BATCH_CONCURRENCY
    if isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(message, "concurrency")
    return int(value)


def clean_reason(raw: str | None) -> str:
    """Optional reason or ticket reference, one line, at most 500 characters."""
    value = " ".join((raw or "").split())
    if len(value) > MAX_REASON_CHARS:
        raise InvalidInput(
            f"The reason is too long ({len(value):,} characters; at most {MAX_REASON_CHARS}).",
            "reason",
        )
    if has_undecodable(value):
        raise InvalidInput(
            "The reason contains bytes that are not UTF-8 text; check the terminal's encoding "
            "and type it again.",
            "reason",
        )
    if any(_category(ch) in {"Cc", "Cf"} for ch in value):
        raise InvalidInput("The reason contains control characters.", "reason")
    return value
