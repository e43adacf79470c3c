"""Reading terminal lists and saving groups: forgiving about form, strict about content."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_tool.config.groups import GroupStore, groups_from_toml, make_group
from support_tool.errors import ConfigurationError, InvalidInput
from support_tool.ops.terminals import (
    MAX_LINES,
    MAX_TERMINALS,
    Terminal,
    parse_terminals,
    read_terminal_file,
    terminals_csv,
)


def test_plain_lines_and_a_game_column() -> None:
    parsed = parse_terminals("terminal-0001\nterminal-0002,vs20olympgate\n")
    assert parsed.terminals == [
        Terminal("terminal-0001"),
        Terminal("terminal-0002", "vs20olympgate"),
    ]
    assert not parsed.invalid
    assert not parsed.duplicates
    assert not parsed.notices()


def test_bom_crlf_blank_lines_header_and_comments(tmp_path: Path) -> None:
    data = "\ufefflogin,gameId\r\n\r\n# bank A\r\nterminal-0001\r\n  \r\nterminal-0002,\r\n"
    path = tmp_path / "list.csv"
    path.write_bytes(data.encode("utf-8"))
    parsed = read_terminal_file(path)
    assert parsed.header
    assert parsed.terminals == [Terminal("terminal-0001"), Terminal("terminal-0002")]
    assert not parsed.invalid


def test_excel_encodings_are_read(tmp_path: Path) -> None:
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes("login\tgame\r\nterminal-0001\tvs20olympgate\r\n".encode("utf-16"))
    assert read_terminal_file(utf16).terminals == [Terminal("terminal-0001", "vs20olympgate")]
    cp1252 = tmp_path / "windows.csv"
    cp1252.write_bytes("caf\xe9-01\r\n".encode("cp1252"))
    assert read_terminal_file(cp1252).terminals == [Terminal("caf\xe9-01")]


def test_a_file_that_is_not_text_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x81\x8d\x8f\x90\x9d" * 10)
    with pytest.raises(InvalidInput, match="not a text file"):
        read_terminal_file(path)


def test_missing_file_and_folder_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="There is no file"):
        read_terminal_file(tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="is a folder"):
        read_terminal_file(tmp_path)


def test_spreadsheet_paste_with_tabs_and_semicolon_csv() -> None:
    assert parse_terminals("terminal-0001\tvs20olympgate\n").terminals == [
        Terminal("terminal-0001", "vs20olympgate")
    ]
    assert parse_terminals("terminal-0001;vs20olympgate\n").terminals == [
        Terminal("terminal-0001", "vs20olympgate")
    ]


def test_one_separator_per_list_and_a_stray_one_is_named() -> None:
    """A tab-separated paste with a ``login;game`` line: that line is refused naming the
    semicolon, never sent as the login ``player-006;vs10bbbonanza``."""
    parsed = parse_terminals(
        "login\tgameId\nterminal-0001\tvs20olympgate\nplayer-006;vs10bbbonanza\n"
    )
    assert parsed.separator == "\t"
    assert parsed.terminals == [Terminal("terminal-0001", "vs20olympgate")]
    [bad] = parsed.invalid
    assert bad.line == 3
    assert "contains a semicolon (';') at position 11" in bad.reason
    assert "separated by tabs" in bad.reason


def test_a_tab_in_a_comma_list_is_called_a_tab_and_shown() -> None:
    text = "terminal-0001,vs20olympgate\nterminal-0002,vs20olympgate\nplayer-006\tvs10bbbonanza\n"
    parsed = parse_terminals(text)
    assert parsed.separator == ","
    [bad] = parsed.invalid
    assert "contains a tab ('⇥')" in bad.reason
    assert "space" not in bad.reason
    assert bad.text == "player-006\tvs10bbbonanza"  # as written: import puts it back
    # a list of tab lines with one comma line: tab wins, the comma line is the odd one
    tabs = parse_terminals("a-1\tg1\na-2\tg2\na-3,g3\n")
    assert tabs.separator == "\t"
    assert "comma" in tabs.invalid[0].reason


def test_one_login_repeated_is_kept_once_and_counted() -> None:
    parsed = parse_terminals("player-1\n" * 200_000)
    assert parsed.terminals == [Terminal("player-1")]
    assert parsed.duplicate_count == 199_999
    assert len(parsed.duplicates) <= 20  # examples, not every copy
    assert parsed.notices()[0].startswith("199,999 duplicate lines removed (first on line 2")


def test_lists_over_a_bound_are_refused_with_the_bound(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=f"more than {MAX_LINES:,} lines"):
        parse_terminals("player-1\n" * (MAX_LINES + 1))
    endless = tmp_path / "zeros.bin"
    endless.write_bytes(b"\0" * (2 * 1024 * 1024))  # no line break, ever
    with pytest.raises(InvalidInput, match="longer than 4,096 characters"):
        read_terminal_file(endless)
    many_bad = "".join(f"bad login {n}\n" for n in range(1_001))
    with pytest.raises(InvalidInput, match="more than 1,000 invalid lines"):
        parse_terminals(many_bad)


def test_extra_columns_are_ignored_with_a_notice() -> None:
    parsed = parse_terminals("terminal-0001,vs20olympgate,bank A,row 3\nterminal-0002,,\n")
    assert parsed.terminals == [
        Terminal("terminal-0001", "vs20olympgate"),
        Terminal("terminal-0002"),
    ]
    assert parsed.extra_columns == 1
    assert "more than two columns" in " ".join(parsed.notices())


def test_duplicates_are_removed_with_the_line_they_repeat() -> None:
    parsed = parse_terminals("terminal-0001\nterminal-0002\n terminal-0001 \n")
    assert parsed.terminals == [Terminal("terminal-0001"), Terminal("terminal-0002")]
    assert [(d.line, d.reason) for d in parsed.duplicates] == [(3, "same as line 1")]
    assert "1 duplicate line removed" in parsed.notices()[0]


def test_invalid_lines_are_reported_by_number_and_never_kept() -> None:
    long = "x" * 200
    parsed = parse_terminals(f"terminal-0001\nbad login\n{long}\nterminal-0002,vs 20\n")
    assert parsed.terminals == [Terminal("terminal-0001")]
    assert [line.line for line in parsed.invalid] == [2, 3, 4]
    assert "space" in parsed.invalid[0].reason
    assert "too long" in parsed.invalid[1].reason
    assert "game id" in parsed.invalid[2].reason


def test_default_game_applies_only_to_rows_without_one() -> None:
    parsed = parse_terminals("terminal-0001\nterminal-0002,vs10bbbonanza\n", "vs20olympgate")
    assert parsed.terminals == [
        Terminal("terminal-0001", "vs20olympgate"),
        Terminal("terminal-0002", "vs10bbbonanza"),
    ]


def test_hundred_thousand_lines(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        "login,gameId\r\n" + "".join(f"t-{n:06d},vs20olympgate\r\n" for n in range(100_000))
    )
    parsed = read_terminal_file(path)
    assert len(parsed.terminals) == 100_000 == MAX_TERMINALS
    assert parsed.terminals[-1] == Terminal("t-099999", "vs20olympgate")


def test_more_than_the_limit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="more than 100,000"):
        parse_terminals("".join(f"t-{n}\n" for n in range(MAX_TERMINALS + 1)))


def test_csv_export_reads_back_unchanged_and_is_spreadsheet_safe() -> None:
    terminals = [
        Terminal("terminal-0001"),
        Terminal("=cmd|calc", "vs20olympgate"),
        Terminal("a,b", None),
    ]
    text = terminals_csv(terminals)
    assert "\n=cmd" not in text  # a spreadsheet would run it
    back = parse_terminals(text)
    assert back.header
    assert back.terminals == terminals


def test_a_login_with_a_quoted_comma_survives_a_group(tmp_path: Path) -> None:
    """What a list accepts, a group keeps: the group file holds each terminal's line."""
    parsed = parse_terminals('login,gameId\n"a,b",vs20olympgate\n"q""x"\n')
    assert parsed.terminals == [Terminal("a,b", "vs20olympgate"), Terminal('q"x')]
    store = GroupStore(tmp_path / "groups.toml")
    store.save({"G": make_group("G", parsed.terminals)})
    assert store.load()["G"].terminals == tuple(parsed.terminals)


def test_groups_round_trip_through_the_file(home: Path) -> None:
    store = GroupStore()
    assert store.load() == {}
    group = make_group(
        "Bank A", [Terminal("terminal-0001"), Terminal("terminal-0002", "vs20olympgate")]
    )
    store.save({group.name: group})
    assert GroupStore().load() == {"Bank A": group}
    assert '"terminal-0002,vs20olympgate"' in store.path.read_text()


def test_group_names_and_contents_are_checked() -> None:
    with pytest.raises(InvalidInput, match="Give the group a name"):
        make_group("  ", [Terminal("t")])
    with pytest.raises(InvalidInput, match="at least one"):
        make_group("Empty", [])


def test_a_hand_broken_groups_file_is_reported() -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        groups_from_toml('[groups."A"\n')
    with pytest.raises(ConfigurationError, match="invalid entry"):
        groups_from_toml('[groups."A"]\nterminals = ["bad login"]\n')
    with pytest.raises(ConfigurationError, match="no list of terminals"):
        groups_from_toml('[groups."A"]\nterminals = "terminal-0001"\n')
