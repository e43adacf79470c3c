"""Build the signed *Close Session* request from validated input.

``SignedRequest`` is everything the transport needs and everything the window's
*Details* panel shows; it holds the hash (needed on the wire) but never the secret.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from support_tool.provider import contract, signing, validation


@dataclass(frozen=True)
class CloseRequest:
    """What the operator asked for, already validated (use :meth:`from_input`)."""

    login: str
    game_id: str | None = None
    clear_history: bool = False

    @classmethod
    def from_input(
        cls, login: str, game_id: str | None = None, clear_history: bool = False
    ) -> CloseRequest:
        """Validate raw input; raises :class:`~support_tool.errors.InvalidInput`."""
        return cls(
            login=validation.clean_login(login),
            game_id=validation.clean_game_id(game_id),
            clear_history=bool(clear_history),
        )

    def params(self) -> dict[str, str]:
        """The request parameters that are signed (every one except ``hash``)."""
        params = {contract.FIELD_LOGIN: self.login}
        if self.game_id:
            params[contract.FIELD_GAME] = self.game_id
        params[contract.FIELD_CLEAR] = "1" if self.clear_history else "0"
        return params


@dataclass(frozen=True)
class SignedRequest:
    """A request ready to send: URL, query, JSON body and the hash shared by both."""

    url: str
    query: dict[str, str]
    body: dict[str, str]
    signed_string_redacted: str
    request: CloseRequest = field(repr=False)

    @functools.cached_property
    def body_bytes(self) -> bytes:
        """The JSON body as sent; encoded once (the transport sends it and *Details* shows
        it, on every row of a batch)."""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")

    @property
    def full_url(self) -> str:
        """URL with the query as the HTTP library will send it (for *Details* only)."""
        return f"{self.url}?{urlencode(self.query)}"


def build_signed(api_url: str, request: CloseRequest, secret: str) -> SignedRequest:
    """Sign ``request`` for ``api_url`` with ``secret``; the secret is not kept."""
    params = request.params()
    digest = signing.sign(params, secret)
    body = {**params, contract.FIELD_HASH: digest}
    return SignedRequest(
        url=api_url.rstrip("/") + contract.ENDPOINT_PATH,
        query={contract.QUERY_LOGIN: request.login, contract.QUERY_HASH: digest},
        body=body,
        signed_string_redacted=signing.redacted_signed_string(params),
        request=request,
    )
