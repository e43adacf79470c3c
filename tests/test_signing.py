"""The hash rule, checked against the contract's own test vectors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support_tool.provider.request import CloseRequest, build_signed
from support_tool.provider.signing import redacted_signed_string, sign, string_to_sign

CONTRACT_PAGE = Path(__file__).resolve().parent.parent / "docs" / "api-contract.md"


def contract_vectors() -> list[tuple[dict[str, str], str, str]]:
    """The test vectors as written in the repository's contract page (docs/api-contract.md).

    Read from the page, not copied here, so that the page and the code cannot drift apart.
    """
    vectors = []
    row = re.compile(r"^\| ((?:\w+=[^,|]*, )*\w+=[^,|]*) \| `([^`]+)` \| `([0-9a-f]{32})` \|$")
    for line in CONTRACT_PAGE.read_text(encoding="utf-8").splitlines():
        match = row.match(line)
        if match:
            pairs = (pair.split("=", 1) for pair in match.group(1).split(", "))
            vectors.append(({name: value for name, value in pairs}, match[2], match[3]))
    return vectors


def test_the_contract_page_holds_both_vectors() -> None:
    assert len(contract_vectors()) == 2


@pytest.mark.parametrize(("params", "hashed", "digest"), contract_vectors())
def test_contract_vectors(params: dict[str, str], hashed: str, digest: str) -> None:
    assert string_to_sign(params) + "s3cret-key" == hashed
    assert sign(params, "s3cret-key") == digest


def test_empty_parameters_are_left_out_of_the_hash() -> None:
    with_blank = {"secureLogin": "player42", "gameId": "", "clearHistory": "0"}
    assert sign(with_blank, "s3cret-key") == "e5acbeb5819aa6e6ddb7aa074c199a28"


def test_signed_request_matches_the_contract_example() -> None:
    request = CloseRequest.from_input("  terminal-07 ", "vs20olympgate", clear_history=True)
    signed = build_signed("https://api.example.com/prefix/", request, "s3cret-key")
    assert signed.url == "https://api.example.com/prefix/V4/closesession"
    assert signed.query == {"MEMB_ID": "terminal-07", "HASH": "3385f8bc041dc933c94a3d88767641d4"}
    assert signed.body == {
        "secureLogin": "terminal-07",
        "gameId": "vs20olympgate",
        "clearHistory": "1",
        "hash": "3385f8bc041dc933c94a3d88767641d4",
    }


def test_blank_game_id_is_absent_from_body_and_hash() -> None:
    signed = build_signed("https://h", CloseRequest.from_input("player42", "   "), "s3cret-key")
    assert "gameId" not in signed.body
    assert signed.body["hash"] == "e5acbeb5819aa6e6ddb7aa074c199a28"


def test_shown_string_masks_the_secret() -> None:
    params = {"secureLogin": "player42", "clearHistory": "0"}
    assert redacted_signed_string(params) == "clearHistory=0&secureLogin=player42•••"
    signed = build_signed("https://h", CloseRequest.from_input("player42"), "s3cret-key")
    assert "s3cret-key" not in repr(signed)
    assert "s3cret-key" not in signed.signed_string_redacted
