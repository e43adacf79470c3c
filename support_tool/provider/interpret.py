"""Turn what came back over HTTP into a :class:`CloseResult` (contract, *Response*).

Pure functions over bytes and numbers, with no I/O, so that they can be fuzzed: whatever
the provider sends, the result is a clean outcome and never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from support_tool.provider import contract
from support_tool.provider.outcome import CloseResult, Failure, Outcome

_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")


def plain_snippet(body: bytes, limit: int = contract.BODY_SNIPPET_CHARS) -> str:
    """At most ``limit`` characters of a body as plain text: tags removed, spaces folded."""
    import html  # only for a body that is not the contract's JSON (an HTML error page)

    text = body[: limit * 16].decode("utf-8", errors="replace")
    text = html.unescape(_TAGS.sub(" ", text))
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def bounded(text: str, limit: int = contract.MAX_PROVIDER_TEXT_CHARS) -> str:
    """At most ``limit`` characters of provider text, saying so when it was cut.

    Applied here, where the answer is read, so that the window, the command line, the
    history (and its search index) and exports all hold the same bounded text: a
    provider's 900 KB description must not cost 900 KB per history row.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text):,} characters in all]"


def _raw(body: bytes) -> str:
    """The raw response kept for the *Details* panel (bounded, decoded leniently)."""
    limit = contract.MAX_PROVIDER_TEXT_CHARS
    text = body[: limit * 4].decode("utf-8", errors="replace")
    if len(text) <= limit and len(body) <= limit * 4:
        return text
    return f"{text[:limit]}… [cut: {len(body):,} bytes in all]"


class DuplicateKey(ValueError):
    """An answer object names the same key twice: which one counts is anyone's guess."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``json`` hook: refuse duplicate keys rather than let the last one win silently
    (``{"error": 17, ..., "error": 0}`` must not read as *Closed*)."""
    document: dict[str, object] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKey(key)
        document[key] = value
    return document


def interpret_http(
    status: int,
    body: bytes,
    *,
    truncated: bool = False,
    location: str | None = None,
    elapsed_ms: int = 0,
    attempts: int = 1,
) -> CloseResult:
    """Classify one HTTP exchange that completed (status line and body received)."""
    base = CloseResult(
        outcome=Outcome.TRANSPORT_FAILURE,
        description="",
        http_status=status,
        elapsed_ms=elapsed_ms,
        attempts=attempts,
        raw_response=_raw(body),
        reached_provider=True,
    )
    problem = _exchange_problem(base, status, body, truncated=truncated, location=location)
    if problem is not None:
        return problem
    document = _parse_document(base, body)
    if isinstance(document, CloseResult):
        return document
    return _provider_answer(base, document, body)


def _exchange_problem(
    base: CloseResult, status: int, body: bytes, *, truncated: bool, location: str | None
) -> CloseResult | None:
    """A failure seen before the body is read as JSON (a redirect, an answer cut short, a
    status other than 2xx), or None: these come first, so no body of theirs is trusted."""
    if 300 <= status < 400:
        target = f" to {location}" if location else ""
        return replace(
            base,
            failure=Failure.REDIRECT,
            description=(
                f"The provider answered with a redirect (HTTP {status}){target}. It was not "
                "followed: the request is signed for one address."
            ),
            next_step="Check the profile's API URL with the provider.",
        )
    if truncated:
        return replace(
            base,
            failure=Failure.TOO_LARGE,
            description=(
                f"The provider's answer (HTTP {status}) was larger than "
                f"{contract.MAX_RESPONSE_BYTES // 1024 // 1024} MiB; reading stopped."
            ),
            next_step="Check the API URL; escalate to the provider if it persists.",
        )
    if not 200 <= status < 300:
        snippet = plain_snippet(body)
        return replace(
            base,
            failure=Failure.HTTP_STATUS,
            description=f"The provider answered HTTP {status}"
            + (f": {snippet}" if snippet else " with an empty body."),
            next_step=(
                "Check the profile's API URL."
                if status in (404, 405)
                else "Retry later; escalate to the provider if it persists."
            ),
        )
    return None


def _parse_document(base: CloseResult, body: bytes) -> object:
    """The body as JSON, or the failure that says why it cannot be read (a CloseResult):
    a key named twice is refused, since which of its values counts would be a guess."""
    try:
        return json.loads(body.decode("utf-8"), object_pairs_hook=_unique_keys)
    except DuplicateKey as exc:
        return replace(
            base,
            failure=Failure.WRONG_SHAPE,
            description=(
                f"The provider's answer names the key {plain_snippet(exc.key.encode(), 40)!r} "
                "more than once, so it cannot be read safely: "
                f"{plain_snippet(body)}"
            ),
            next_step="Escalate to the provider: the session may or may not be closed.",
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        snippet = plain_snippet(body)
        return replace(
            base,
            failure=Failure.NOT_JSON,
            description="The provider's answer was not the expected JSON"
            + (f": {snippet}" if snippet else " (empty body)."),
            next_step="Retry later; escalate to the provider if it persists.",
        )


def _provider_answer(base: CloseResult, document: object, body: bytes) -> CloseResult:
    """What the provider said in a well-formed JSON answer: success, a refusal with its code,
    or an answer of the wrong shape (the session may or may not be closed)."""
    code = document.get("error") if isinstance(document, dict) else None
    description = document.get("description") if isinstance(document, dict) else None
    if type(code) is not int or not isinstance(description, str):
        return replace(
            base,
            failure=Failure.WRONG_SHAPE,
            description=(
                "The provider's answer did not have the expected shape (an integer "
                f"'error' and a text 'description'): {plain_snippet(body)}"
            ),
            next_step="Escalate to the provider: the session may or may not be closed.",
        )
    description = bounded(description)
    if code == contract.SUCCESS_CODE:
        return replace(base, outcome=Outcome.SUCCESS, error_code=code, description=description)
    return replace(
        base,
        outcome=Outcome.REFUSED,
        error_code=code,
        description=description,
        next_step=contract.next_step_for_code(code),
    )
