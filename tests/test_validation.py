"""Bad input is refused with a message that names the problem, before anything is sent."""

from __future__ import annotations

import pytest

from support_tool.errors import InvalidInput
from support_tool.provider.validation import clean_api_url, clean_game_id, clean_login, clean_reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "Enter the player's"),
        ("   ", "Enter the player's"),
        ("pl ayer", "a space at position 3"),
        ("play\ter", "a space"),
        ("a\x00b", "control character (U+0000"),
        ("zero\u200bwidth", "U+200B"),
        ("x" * 10_000, "too long (10,000 characters; at most 128)"),
        ("a\u2028b", "a space"),
    ],
)
def test_bad_logins_are_refused_with_a_reason(raw: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_login(raw)
    assert expected in str(caught.value)
    assert caught.value.field == "login"


@pytest.mark.parametrize("login", ["terminal-07", "jörg.müller", "игрок_1", "玩家42", "x" * 128])
def test_good_logins_pass_unchanged(login: str) -> None:
    assert clean_login(f"  {login}\n") == login


def test_blank_game_id_means_all_games() -> None:
    assert clean_game_id(None) is None
    assert clean_game_id("   ") is None
    assert clean_game_id(" vs20olympgate ") == "vs20olympgate"
    with pytest.raises(InvalidInput, match="game id contains a space"):
        clean_game_id("vs20 olympgate")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("api.example.com/gs", "must start with https://"),
        ("http://api.example.com", "Plain http:// is only allowed"),
        ("ftp://api.example.com", "https:// address"),
        ("https://user:pw@api.example.com", "user name or password"),
        ("https://api.example.com/x?a=1", "must not contain '?'"),
        ("https://api.example.com:99999", "invalid port"),
        ("https://api.example.com:0", "between 1 and 65535"),
        ("https://api.example.com:x", "invalid port"),
        ("https://[::1", "not a valid address"),
        ("https://[zz]", "not a valid address"),
        ("https://[zz]:443/gs", "complete IPv6 address"),
        (
            "https://api.example.com/gs/V4/closesession",
            "requests would go to https://api.example.com/gs/V4/closesession/V4/closesession. "
            "Give the address without it: https://api.example.com/gs",
        ),
        ("https://api.example.com/V4/CloseSession/", "already ends in /V4/closesession"),
        ("", "Enter the API URL"),
    ],
)
def test_bad_api_urls(url: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_api_url(url)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/gs/",
        "http://127.0.0.1:8765",
        "http://localhost:1",
        "http://[::1]:80",
    ],
)
def test_good_api_urls(url: str) -> None:
    assert clean_api_url(url) == url.rstrip("/")


def test_reason_is_one_bounded_line() -> None:
    assert clean_reason("  TCK-1  \n  frozen ") == "TCK-1 frozen"
    with pytest.raises(InvalidInput, match="too long"):
        clean_reason("x" * 501)


def test_the_ascii_shortcut_agrees_with_the_character_check() -> None:
    """Printable ASCII without a space skips the per-character check (batch rows pay it
    otherwise); for each of the 128 ASCII characters the shortcut must say what the
    check says."""
    from support_tool.provider.validation import _plain_ascii, _unreadable

    for code in range(128):
        ch = chr(code)
        assert _plain_ascii(ch) == (not _unreadable(ch, "a")), repr(ch)
        assert _plain_ascii(ch) == (not _unreadable(ch, "")), repr(ch)


@pytest.mark.parametrize(
    "text",
    [
        "terminal-07",
        "",
        "caf\u00e9",
        "\U0001f600",
        chr(0xDC80) + "abc",  # a byte that was not UTF-8, as Python decodes it
        "a" + chr(0xD83D) + chr(0xDE00),
        chr(0xD800),
        chr(0xDFFF),
    ],
)
def test_undecodable_text_is_told_as_before(text: str) -> None:
    """The C shortcut finds exactly the lone surrogates the character loop found."""
    from support_tool.provider.validation import has_undecodable, is_undecodable

    assert has_undecodable(text) == any(is_undecodable(ch) for ch in text)
