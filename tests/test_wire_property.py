"""Property: the provider accepts every request the tool agrees to send, and input the
tool refuses never leaves the machine.

The verifier below is written from the contract's text, independently of
``support_tool.provider.signing``; the requests it checks are the bytes the real sandbox received.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support_tool.errors import InvalidInput
from support_tool.provider.outcome import Outcome
from support_tool.provider.request import CloseRequest, build_signed
from support_tool.provider.transport import Transport
from support_tool.sandbox import SandboxServer
from support_tool.sandbox.server import ReceivedRequest


def independent_verify(received: ReceivedRequest, secret: str) -> dict[str, str]:
    """Check a request exactly as the contract describes it; return its body."""
    assert received.method == "POST"
    assert received.path == "/V4/closesession"
    assert received.headers["Content-Type"] == "application/json"
    body: dict[str, str] = json.loads(received.body.decode("utf-8"))
    assert set(body) <= {"secureLogin", "gameId", "clearHistory", "hash"}
    assert body["clearHistory"] in ("0", "1")
    assert body["secureLogin"]
    assert body.get("gameId", "x")
    pieces = sorted(
        ((k, v) for k, v in body.items() if k != "hash" and v != ""),
        key=lambda kv: kv[0].encode(),
    )
    text = "&".join(f"{k}={v}" for k, v in pieces) + secret
    expected = hashlib.md5(text.encode("utf-8")).hexdigest()
    assert body["hash"] == expected
    query = parse_qs(received.query, keep_blank_values=True, strict_parsing=True)
    assert query == {"MEMB_ID": [body["secureLogin"]], "HASH": [expected]}
    return body


logins = st.one_of(
    st.text(min_size=0, max_size=140),
    st.from_regex(r"[A-Za-z0-9._\-@+&=%]{1,40}", fullmatch=True),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
)
games = st.one_of(
    st.none(), st.text(max_size=30), st.from_regex(r"vs[0-9]{2}[a-z]{3,12}", fullmatch=True)
)
secrets = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40
)


@pytest.fixture(scope="module")
def wire() -> Iterator[tuple[SandboxServer, Transport]]:
    with SandboxServer() as sandbox, Transport(deadline_s=5) as transport:
        yield sandbox, transport


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(login=logins, game=games, clear=st.booleans(), secret=secrets)
def test_every_sent_request_verifies_and_every_refusal_sends_nothing(
    wire: tuple[SandboxServer, Transport], login: str, game: str | None, clear: bool, secret: str
) -> None:
    sandbox, transport = wire
    sandbox.provider.secret = secret
    sandbox.received.clear()
    connections_before = sandbox.connections
    try:
        request = CloseRequest.from_input(login, game, clear)
    except InvalidInput:
        assert sandbox.connections == connections_before
        assert not sandbox.received
        return
    sandbox.provider.add_player(request.login, {"g": False})
    result = transport.send(build_signed(sandbox.url, request, secret))
    assert len(sandbox.received) == 1
    body = independent_verify(sandbox.received[0], secret)
    assert body["secureLogin"] == request.login
    assert body.get("gameId") == request.game_id
    assert body["clearHistory"] == ("1" if clear else "0")
    # The sandbox's own check agrees: the signature is accepted.
    assert result.outcome is Outcome.SUCCESS or result.error_code == 4, result
