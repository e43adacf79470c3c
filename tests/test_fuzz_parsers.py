"""Hypothesis drives the two parsers that read what comes from outside: the provider's
answer and the operator's list. Whatever arrives, the result is the tool's own clean
result or message, never another exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support_tool.errors import InvalidInput
from support_tool.ops.terminals import MAX_TERMINALS, decode_list, parse_terminals
from support_tool.provider.interpret import bounded, interpret_http
from support_tool.provider.outcome import Failure, Outcome
from support_tool.provider.validation import clean_game_id, clean_login

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
answers = st.fixed_dictionaries(
    {},
    optional={
        "error": st.integers() | st.text() | st.floats() | st.none() | st.booleans(),
        "description": st.text() | st.integers() | st.none(),
    },
).flatmap(lambda d: st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(d.__or__))


def _check(result_outcome: Outcome, failure: Failure | None, description: str) -> None:
    assert result_outcome in (Outcome.SUCCESS, Outcome.REFUSED, Outcome.TRANSPORT_FAILURE)
    assert isinstance(description, str)
    assert (failure is None) == (result_outcome is not Outcome.TRANSPORT_FAILURE)


@FUZZ
@given(status=st.integers(100, 599), body=st.binary(max_size=2048), truncated=st.booleans())
def test_any_bytes_become_a_clean_result(status: int, body: bytes, truncated: bool) -> None:
    result = interpret_http(status, body, truncated=truncated, location=None)
    _check(result.outcome, result.failure, result.description)
    if result.outcome is Outcome.SUCCESS:
        assert 200 <= status < 300
        assert json.loads(body)["error"] == 0


@FUZZ
@given(status=st.sampled_from([200, 201, 204, 299]), document=answers | json_values)
def test_any_json_becomes_a_clean_result(status: int, document: object) -> None:
    body = json.dumps(document).encode()
    result = interpret_http(status, body)
    _check(result.outcome, result.failure, result.description)
    is_answer = (
        isinstance(document, dict)
        and type(document.get("error")) is int
        and isinstance(document.get("description"), str)
    )
    if is_answer:
        assert isinstance(document, dict)
        expected = Outcome.SUCCESS if document["error"] == 0 else Outcome.REFUSED
        assert result.outcome is expected
        assert result.error_code == document["error"]
        assert result.description == bounded(document["description"])  # verbatim, bounded
    else:
        assert result.outcome is Outcome.TRANSPORT_FAILURE


@FUZZ
@given(
    code=st.integers(-5, 200),
    description=st.text(max_size=40),
    repeated=st.sampled_from(["error", "description"]),
    again=json_values,
    nested=st.booleans(),
)
def test_a_key_named_twice_is_never_read_as_an_answer(
    code: int, description: str, repeated: str, again: object, nested: bool
) -> None:
    """Whichever value a reader would keep, an object naming a key twice (at the top or
    deeper down) is a malformed answer, never a success or a refusal."""
    pairs = [f'"error": {code}', f'"description": {json.dumps(description)}']
    if nested:
        pairs.append(f'"detail": {{"{repeated}": 1, "{repeated}": {json.dumps(again)}}}')
    else:
        pairs.append(f'"{repeated}": {json.dumps(again)}')
    result = interpret_http(200, ("{" + ", ".join(pairs) + "}").encode())
    assert result.outcome is Outcome.TRANSPORT_FAILURE
    assert result.failure is Failure.WRONG_SHAPE
    assert "more than once" in result.description


def test_the_forged_success_after_a_refusal_is_not_closed() -> None:
    result = interpret_http(200, b'{"error": 17, "description": "Player not found", "error": 0}')
    assert result.outcome is Outcome.TRANSPORT_FAILURE
    assert "names the key 'error' more than once" in result.description
    assert "may or may not" in result.next_step


@FUZZ
@given(length=st.integers(0, 10_000), ascii_only=st.booleans())
def test_provider_text_is_bounded_and_says_it_was_cut(length: int, ascii_only: bool) -> None:
    text = ("x" if ascii_only else "é") * length
    body = json.dumps({"error": 100, "description": text}, ensure_ascii=False).encode()
    result = interpret_http(200, body)
    assert len(result.description) <= 2100
    assert len(result.raw_response) <= 2100
    if length <= 2000:
        assert result.description == text
    else:
        assert result.description.endswith(f"[cut: {length:,} characters in all]")
        assert result.raw_response.endswith(f"[cut: {len(body):,} bytes in all]")


@FUZZ
@given(text=st.text(max_size=600), game=st.none() | st.text(max_size=20))
def test_any_pasted_text_gives_terminals_or_line_reasons(text: str, game: str | None) -> None:
    try:
        parsed = parse_terminals(text, game)
    except InvalidInput:
        return  # the default game id itself is invalid: a message, nothing else
    lines = text.removeprefix("\ufeff").splitlines()
    assert len(parsed.terminals) <= MAX_TERMINALS
    for terminal in parsed.terminals:
        assert clean_login(terminal.login) == terminal.login  # would pass a single close
        assert clean_game_id(terminal.game_id) == terminal.game_id
    assert len(set(parsed.terminals)) == len(parsed.terminals)  # no duplicates sent
    for skipped in (*parsed.invalid, *parsed.duplicates):
        assert 1 <= skipped.line <= len(lines)
        assert skipped.reason


@FUZZ
@given(data=st.binary(max_size=600))
def test_any_file_bytes_decode_or_give_a_message(data: bytes) -> None:
    try:
        text = decode_list(data, "The file")
    except InvalidInput as exc:
        message = str(exc)
    else:
        parse_terminals(text)
        return
    assert "not a text file" in message


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=12), max_size=4), max_size=20))
def test_csv_shaped_text_gives_only_what_it_holds(rows: list[list[str]]) -> None:
    text = "\r\n".join(",".join(cells) for cells in rows)
    parsed = parse_terminals(text)  # any quoting, commas and empties: never an exception
    # A cell may itself hold a line break ('0\r1' is two lines), so the bound is the lines
    # the text holds, not the rows that built it.
    assert len(parsed.terminals) <= len(text.splitlines())
    for terminal in parsed.terminals:  # nothing invented: every value came from the text
        assert terminal.login in text
        assert terminal.game_id is None or terminal.game_id in text
