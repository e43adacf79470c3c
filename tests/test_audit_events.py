"""The trail's format (docs/audit-trail.md), property tests of verify, anchors, and the
conversion of files written by the version before sealed events."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support_tool.audit import events
from support_tool.audit.log import SCHEMA_VERSION, AuditLog
from support_tool.provider.outcome import CloseResult, Outcome

OK = CloseResult(Outcome.SUCCESS, "Success", error_code=0, http_status=200, elapsed_ms=41)
ROW: dict[str, Any] = {
    "profile": "live",
    "api_host": "api.example.com",
    "game_id": None,
    "clear_history": True,
}
V3_FILE = Path(__file__).parent / "data" / "history_v3.sqlite3"  # made by the code of 2a16e20
UNGUARDED = ("DROP TRIGGER events_never_updated", "DROP TRIGGER events_never_deleted")
Row = list[object]


def test_the_seal_is_the_documented_bytes() -> None:
    """Computed here straight from the page, not through the module under test."""
    body = {"login": "terminal-0001", "reason": "caf\u00e9", "pid": 7, "batch_id": None}
    event = events.make_event(events.GENESIS, 1, "attempt", "2026-11-30T14:20:00.123Z", body)
    text = '{"batch_id":null,"login":"terminal-0001","pid":7,"reason":"caf\\u00e9"}'
    assert event.body == text
    expected = hashlib.sha256(
        bytes(32) + f"\n1\nattempt\n1\n2026-11-30T14:20:00.123Z\n\n{text}".encode()
    ).digest()
    assert event.seal == expected
    answer = events.make_event(event.seal, 2, "answer", "2026-11-30T14:20:01.000Z", {}, action=1)
    assert (
        answer.seal
        == hashlib.sha256(expected + b"\n2\nanswer\n1\n2026-11-30T14:20:01.000Z\n\n{}").digest()
    )


def test_sqlite_builds_the_same_tail_as_python(tmp_path: Path) -> None:
    from support_tool.audit import check

    path = filled(tmp_path / "h.sqlite3")
    db = check.connect(f"{path.resolve().as_uri()}?mode=ro")
    for seq, kind, action, at, origin, body, tail in db.execute(
        f"SELECT seq, kind, action, recorded_at, origin, body, {check.TAIL} FROM events"  # noqa: S608
    ):
        assert tail == events.tail(
            seq, kind.decode(), action, at.decode(), origin.decode(), body.decode()
        )
    db.close()


TRICKY = (
    (1, "attempt", 1, "2026-11-30T14:20:00.123Z", "", "{}"),
    (2**63 - 1, "answer", 2**63 - 2, "t\x00hidden", "desk\x00", '{"a":"\x00b"}'),
    (-(2**63), "unknown", 0, "2026-11-30T14:20:00.123Z", "caf\u00e9 \U0001f600", "\u00e9\n\n"),
    (42, "refused", 42, "", "\n", ""),
)


def test_the_read_expression_is_exactly_the_canonical_tail() -> None:
    """What verify (and a single event's read) hashes is byte for byte ``events.tail``,
    with a NUL anywhere, text beyond ASCII, the largest and smallest 64-bit integers and
    line breaks inside the fields (the reader never splits the text, it hashes it)."""
    from support_tool.audit import check

    db = check.connect(":memory:")
    db.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, kind TEXT, action INTEGER,"
        " recorded_at TEXT, origin TEXT, body TEXT)"
    )
    db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", TRICKY)
    read = dict(db.execute(f"SELECT seq, {check.TAIL} FROM events"))  # noqa: S608
    assert read == {row[0]: events.tail(*row) for row in TRICKY}
    assert read[2**63 - 1].endswith(b'"a":"\x00b"}')
    db.close()


def test_anchor_lines_round_trip_and_anything_else_is_refused() -> None:
    anchor = events.Anchor(1042, "2026-11-30T14:20:00.123Z", "3f" * 32)
    assert events.parse_anchor("  " + anchor.line() + "\n") == anchor
    for bad in ("", "support-tool anchor v1 events=0 at=x seal=00", anchor.line()[:-1]):
        with pytest.raises(ValueError, match="not an anchor line"):
            events.parse_anchor(bad)


def filled(path: Path, actions: int = 6) -> Path:
    with AuditLog(path) as store:
        for n in range(actions):
            if n % 2:
                store.record(OK, login=f"terminal-{n:04d}", **ROW)
            else:
                store.finish(store.begin(login=f"terminal-{n:04d}", **ROW), OK)
    return path


def read_events(path: Path) -> list[Row]:
    db = sqlite3.connect(path)
    rows = [list(r) for r in db.execute("SELECT * FROM events ORDER BY seq")]
    db.close()
    return rows


def write_events(path: Path, rows: list[Row], *, reseal: bool = False) -> None:
    """Replace every event (triggers dropped), optionally recomputing every seal and the
    head as someone rewriting the whole chain would."""
    if reseal:
        previous = events.GENESIS
        for row in rows:
            seq, kind, action, at, origin, body = row[:6]
            tail = events.tail(seq, kind, action, at, origin, body)  # type: ignore[arg-type]
            row[6] = previous = events.seal_after(previous, tail)
    db = sqlite3.connect(path)
    with db:
        for statement in UNGUARDED:
            db.execute(statement)
        db.execute("DELETE FROM events")
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        if reseal:
            db.execute("UPDATE events_head SET seq = ?, seal = ?", (rows[-1][0], rows[-1][6]))
    db.close()


def edit_field(rows: list[Row], index: int, column: int) -> None:
    value = rows[index][column]
    if isinstance(value, int):
        rows[index][column] = value + 100 if column == 0 else value + 1
    elif isinstance(value, bytes):
        rows[index][column] = bytes([value[0] ^ 1]) + value[1:]
    else:
        rows[index][column] = str(value) + "x"


def delete(rows: list[Row], index: int) -> None:
    del rows[index]


def insert(rows: list[Row], index: int) -> None:
    copy = list(rows[index])
    copy[0] = max(int(str(r[0])) for r in rows) + 1 + index  # a free number
    rows.insert(index, copy)


def swap(rows: list[Row], index: int) -> None:
    other = (index + 1) % len(rows)
    seq_a, seq_b = rows[index][0], rows[other][0]
    rows[index], rows[other] = rows[other], rows[index]
    rows[index][0], rows[other][0] = seq_a, seq_b


CHANGES: dict[str, Callable[[list[Row], int], None]] = {
    **{
        f"edit {name}": (lambda c: lambda r, i: edit_field(r, i, c))(column)
        for column, name in enumerate(
            ("seq", "kind", "action", "recorded_at", "origin", "body", "seal")
        )
    },
    "delete": delete,
    "insert": insert,
    "swap": swap,
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return filled(tmp_path_factory.mktemp("template") / "h.sqlite3")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(change=st.sampled_from(sorted(CHANGES)), index=st.integers(0, 8))
def test_any_single_event_change_is_caught(template: Path, change: str, index: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.sqlite3"
        shutil.copy(template, path)
        rows = read_events(path)
        assert len(rows) == 9
        CHANGES[change](rows, index)
        write_events(path, rows)
        with AuditLog(path) as store:
            found = store.verify()
        assert not found.ok, (change, index)
        assert found.record_id is not None


def test_an_answer_pointing_at_the_wrong_attempt_is_caught_even_resealed(tmp_path: Path) -> None:
    path = filled(tmp_path / "h.sqlite3")
    rows = read_events(path)
    assert rows[7][1:3] == ["answer", 7]
    rows[7][2] = 4  # attempt 4 now "answered" twice
    write_events(path, rows, reseal=True)
    with AuditLog(path) as store:
        assert not store.verify().ok
    from support_tool.audit import check

    link = check.check_links(f"{path.resolve().as_uri()}?mode=ro")
    assert link == check.Fault(8, "event 8 answers attempt 4 a second time.")


def test_an_answer_pointing_at_an_event_that_is_no_attempt_is_caught_even_resealed(
    tmp_path: Path,
) -> None:
    """The links' merge counts one attempt fewer than closing events, and the first closing
    event at fault is named."""
    path = filled(tmp_path / "h.sqlite3")
    rows = read_events(path)
    assert rows[7][1:3] == ["answer", 7]
    assert rows[2][1] == "refused"
    rows[7][2] = 3  # answers the refused event 3; attempt 7 is left without an answer
    write_events(path, rows, reseal=True)
    with AuditLog(path) as store:
        found = store.verify()
    assert (found.ok, found.record_id) == (False, 8)
    from support_tool.audit import check

    link = check.check_links(f"{path.resolve().as_uri()}?mode=ro")
    assert link == check.Fault(8, "event 8 answers an event that is not its attempt.")


def test_anchor_catches_a_rewrite_of_every_seal(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    path = filled(home / "history.sqlite3")
    anchor = cli("history", "anchor")
    assert anchor.status == 0, anchor.text
    line = anchor.out.strip()
    assert line.startswith("support-tool anchor v1 events=9 at=")
    assert cli("history", "verify", "--anchor", line).status == 0
    with AuditLog(path) as store:  # more events later: the anchored state is still there
        store.record(OK, login="later", **ROW)
    assert cli("history", "verify", "--anchor", line).status == 0
    rows = read_events(path)
    rows[3][5] = str(rows[3][5]).replace("terminal-0002", "terminal-0042")
    write_events(path, rows, reseal=True)  # the whole chain and its head recomputed
    assert cli("history", "verify").status == 0  # the limit: the file alone cannot tell
    assert "terminal-0042" in cli("history", "--login", "terminal-0042").out  # the view follows
    rewritten = cli("history", "verify", "--anchor", line)
    assert rewritten.status == 5
    assert "event 9 no longer has the anchored seal" in rewritten.err
    bad = cli("history", "verify", "--anchor", "events=9")
    assert bad.status == 2
    assert "not an anchor line" in bad.err
    beyond = line.replace("events=9 ", "events=99 ")
    assert cli("history", "verify", "--anchor", beyond).status == 5


def test_a_file_from_the_version_before_is_converted_once_keeping_its_evidence(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(V3_FILE, path)
    with AuditLog(path) as store:
        found = store.verify()
        lines = list(store.query())
    assert found.ok, found.problem
    assert found.checked == 1 + 2 * 3
    assert [(r.id, r.login, r.outcome) for r in lines] == [
        (6, "terminal-0003", "unknown"),  # it was pending: attempt + unknown
        (4, "terminal-0002", "refused"),
        (2, "terminal-0001", "success"),
    ]
    db = sqlite3.connect(path)
    (kind, body), *_ = db.execute("SELECT kind, body FROM events ORDER BY seq").fetchall()
    old_head = db.execute("SELECT seq, seal FROM chain_head_v3").fetchone()
    assert kind == "migrated"
    assert json.loads(body)["old_head_count"] == old_head[0] == 2
    assert json.loads(body)["old_head_seal"] == old_head[1]
    assert db.execute("SELECT COUNT(*) FROM actions_v3").fetchone() == (3,)
    with pytest.raises(sqlite3.IntegrityError, match="kept for the auditor"):
        db.execute("UPDATE actions_v3 SET login = 'x'")
    db.close()
    with AuditLog(path) as store:  # converted once: opening again adds nothing
        assert store.verify().checked == 7


def test_a_broken_file_from_the_version_before_is_never_converted(cli_process, home: Path) -> None:  # type: ignore[no-untyped-def]
    path = home / "history.sqlite3"
    shutil.copy(V3_FILE, path)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE actions SET login = 'someone-else' WHERE id = 1")
    db.close()
    before = path.read_bytes()
    close = cli_process("close", "terminal-0001")
    assert close.status == 4, close.text
    assert "keep the file for the auditor" in close.err.lower()
    assert "Traceback" not in close.err
    verify = cli_process("history", "verify")
    assert verify.status == 5, verify.text
    assert "altered outside support-tool before this version could convert it" in verify.err
    assert path.read_bytes() == before


def test_the_parallel_check_finds_what_the_single_one_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes (spawned, each with its own read-only connection) over seq ranges."""
    from support_tool.audit import check

    path = filled(tmp_path / "h.sqlite3", 40)
    rows = read_events(path)
    edit_field(rows, 33, 5)
    write_events(path, rows)
    with AuditLog(path) as store:
        single = store.verify()
        monkeypatch.setattr(check, "PARALLEL_FROM", 1)
        monkeypatch.setattr(check, "_RANGE", 7)  # several ranges, the fault in a later one
        parallel = store.verify()
    assert not single.ok
    assert parallel == single
    assert parallel.record_id == 34


def test_a_schema_it_does_not_know_ends_in_exit_5_with_a_message(cli_process, home: Path) -> None:  # type: ignore[no-untyped-def]
    path = filled(home / "history.sqlite3", 2)
    db = sqlite3.connect(path)
    with db:
        for statement in UNGUARDED:
            db.execute(statement)
        db.execute("ALTER TABLE events DROP COLUMN origin")
    db.close()
    run = cli_process("history", "verify")
    assert run.status == 5, run.text
    assert "its events table lacks origin" in run.err
    assert "Traceback" not in run.err
    close = cli_process("close", "terminal-0001")
    assert "Traceback" not in close.err
    assert close.status == 4, close.text


def test_an_event_numbered_below_1_is_caught(tmp_path: Path) -> None:
    """seq 0 or less lies outside every seq range the seals are checked in: verify looks
    there too (an extra attempt slipped in before the first event)."""
    path = filled(tmp_path / "h.sqlite3", 3)
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "INSERT INTO events (seq, kind, action, recorded_at, origin, body, seal)"
            " SELECT 0, kind, 0, recorded_at, origin, body, seal FROM events WHERE seq = 1"
        )
    db.close()
    with AuditLog(path) as store:
        report = store.verify()
    assert not report.ok
    assert report.record_id == 0
    assert "event 0 was inserted with a made-up number" in report.problem


V4_FILE = Path(__file__).parent / "data" / "history_v4.sqlite3"  # made by the code of 44317df


def test_a_file_of_sealed_events_with_a_hand_kept_view_is_converted_once(tmp_path: Path) -> None:
    """Schema 4 kept an ``actions`` table beside the events (and updated it when an answer
    came). Converting drops that copy and its search index; the events stay byte for byte
    and the same lines come back, now derived from them."""
    path = tmp_path / "history.sqlite3"
    shutil.copy(V4_FILE, path)
    before = read_events(path)
    with AuditLog(path) as store:
        assert store.verify().ok
        lines = {r.id: (r.login, r.outcome, r.game_id, r.batch_id) for r in store.query()}
        assert store.text_index
        found = [r.id for r in store.page(store_filter(text="Round not"))]
    assert read_events(path)[: len(before)] == before  # the evidence is untouched
    assert lines[1] == ("terminal-0001", "success", "vs20olympgate", None)
    assert lines[3] == ("terminal-0002", "refused", "", None)
    assert lines[5] == ("terminal-0004", "refused", "", "b-20261130")
    assert lines[4][0] == "terminal-0003"  # its process is gone: recovered as unknown
    assert found == [5]
    db = sqlite3.connect(path)
    kinds = dict(db.execute("SELECT name, type FROM sqlite_master WHERE name LIKE 'actions%'"))
    assert kinds["actions"] == "view"
    assert not {"actions_login", "actions_text_insert", "actions_text_update"} & set(kinds)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    with pytest.raises(sqlite3.OperationalError, match="cannot modify actions"):
        db.execute("UPDATE actions SET login = 'x'")
    db.close()
    with AuditLog(path) as store:  # converted once: opening again changes nothing
        assert store.verify().checked == len(read_events(path))


V5_FILE = Path(__file__).parent / "data" / "history_v5.sqlite3"  # made by the code of 363c4bb


def test_a_file_whose_search_index_was_fed_by_triggers_is_converted_once(tmp_path: Path) -> None:
    """Schema 5 fed the search index from triggers on every event. Converting drops the
    triggers and keeps the index (complete up to the head, so its mark is the head); the
    events stay byte for byte, and searches find the old lines and the new ones."""
    path = tmp_path / "history.sqlite3"
    shutil.copy(V5_FILE, path)
    before = read_events(path)
    with AuditLog(path) as store:
        assert store.text_index
        found = [r.id for r in store.page(store_filter(text="Round not"))]
        added = store.record(
            CloseResult(Outcome.REFUSED, "Round not found", error_code=4),
            login="terminal-0009",
            game_id=None,
            clear_history=False,
            profile="live",
            api_host="api.example.com",
        )
        both = [r.id for r in store.page(store_filter(text="Round not"))]
        players = [r.login for r in store.page(store_filter(text="Player not"))]
        assert store.verify().ok
    assert read_events(path)[: len(before)] == before  # the evidence is untouched
    assert found == [4]
    assert both == [added, 4]
    assert players == ["terminal-0003"]
    db = sqlite3.connect(path)
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert not {"actions_text_own", "actions_text_closing"} & names
    assert db.execute("SELECT seq FROM derived_mark").fetchone() == (len(before),)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    with db:
        db.execute("INSERT INTO actions_text (actions_text) VALUES ('integrity-check')")
    db.close()


V6_FILE = Path(__file__).parent / "data" / "history_v6.sqlite3"  # made by the code of 6d4c55f


def test_a_file_whose_filters_were_indexes_on_every_event_is_converted_once(
    tmp_path: Path,
) -> None:
    """Schema 6 kept the filters as indexes on ``events``, written in every commit.
    Converting drops them, fills the filter keys up to the search index's mark (8 of its
    11 events) and keeps that mark: every filter still finds exactly the lines a scan of
    the events finds, including the line answered after the mark and the newer ones,
    before and after the next catch-up, and the events stay byte for byte."""
    path = tmp_path / "history.sqlite3"
    shutil.copy(V6_FILE, path)
    before = read_events(path)
    filters = {
        "login": ({"login": "terminal-0005"}, [8]),
        "pending then refused": ({"outcome": "refused"}, [8, 6, 3]),
        "success": ({"outcome": "success"}, [10, 4, 1]),
        "a batch and its retry": ({"batch_id": "b-20261130"}, [10, 6, 4]),
        "the retry alone": ({"batch_id": "b-20261130.r081512-a3"}, [10]),
        "operator": ({"operator": "bob"}, [10]),
        "profile and outcome": ({"profile": "test", "outcome": "refused"}, [8]),
        "text after the mark": ({"text": "Round not"}, [8]),
    }
    with AuditLog(path) as store:
        found = {
            name: [r.id for r in store.page(store_filter(**f))] for name, (f, _) in filters.items()
        }
        scanned = {name: _scanned(store, store_filter(**f)) for name, (f, _) in filters.items()}
        added = store.record(
            CloseResult(Outcome.REFUSED, "Player not found", error_code=17),
            login="terminal-0099",
            game_id=None,
            clear_history=False,
            profile="live",
            api_host="api.example.com",
        )
        store.flush()  # caught up: the keys now reach the head
        caught_up = {
            name: [r.id for r in store.page(store_filter(**f))] for name, (f, _) in filters.items()
        }
        assert store.verify().ok
    expected = {name: ids for name, (_, ids) in filters.items()}
    assert found == expected
    assert scanned == expected
    assert caught_up == {**expected, "pending then refused": [added, 8, 6, 3]}
    assert read_events(path)[: len(before)] == before  # the evidence is untouched
    db = sqlite3.connect(path)
    names = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master")}
    assert not {"events_login", "events_outcome", "actions_text_mark"} & names
    assert db.execute("SELECT seq FROM derived_mark").fetchone() == (added,)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    db.close()


def _scanned(store: AuditLog, flt: Any) -> list[int]:
    """The lines a plain scan of every action finds for ``flt``: no index involved."""
    return [
        r.id
        for r in store.query(limit=None)
        if all(
            (getattr(r, name) == value if name != "batch_id" else str(r.batch_id).startswith(value))
            for name, value in vars(flt).items()
            if value not in (None, "") and name != "text"
        )
        and (not flt.text or flt.text in r.description)
    ]


def store_filter(**given: Any) -> Any:
    from support_tool.audit.records import AuditFilter

    return AuditFilter(**given)


def test_the_seal_covers_every_byte_even_after_a_nul(tmp_path: Path) -> None:
    """Bytes hidden after a NUL in a field are sealed like any others (the documented
    concatenation keeps them; a printf-style shortcut would stop at the NUL and pass this)."""
    path = filled(tmp_path / "h.sqlite3")
    rows = read_events(path)
    seq, body = rows[-1][0], rows[-1][5]
    rows[-1][5] = f"{body}\x00hidden"  # the seal and the head stay those of the bytes before
    write_events(path, rows)
    with AuditLog(path) as store:
        found = store.verify()
    assert not found.ok
    assert found.record_id == seq
    assert f"event {seq} was changed" in found.problem


STORAGE_CLASSES = {
    "kind as raw bytes": "UPDATE events SET kind = CAST(kind AS BLOB) WHERE seq = 4",
    "time as raw bytes": "UPDATE events SET recorded_at = CAST(recorded_at AS BLOB) WHERE seq = 4",
    "origin as raw bytes": "UPDATE events SET origin = CAST(origin AS BLOB) WHERE seq = 4",
    "body as raw bytes": "UPDATE events SET body = CAST(body AS BLOB) WHERE seq = 4",
    "seal as text": "UPDATE events SET seal = CAST(seal AS TEXT) WHERE seq = 4",
}


@pytest.mark.parametrize("how", list(STORAGE_CLASSES))
def test_a_storage_class_the_seal_does_not_cover_is_caught(tmp_path: Path, how: str) -> None:
    """The same bytes in another storage class seal the same: verify's one pass checks
    the classes by comparison, and names the event as the slow look does."""
    path = filled(tmp_path / "h.sqlite3")
    db = sqlite3.connect(path)
    with db:
        for statement in UNGUARDED:
            db.execute(statement)
        db.execute(STORAGE_CLASSES[how])
    db.close()
    with AuditLog(path) as store:
        found = store.verify()
    assert not found.ok, how
    assert (found.record_id, found.problem) == (
        4,
        "event 4 holds a value support-tool never writes.",
    )


def test_seals_of_the_wrong_length_are_caught_even_where_their_bytes_run_on(
    tmp_path: Path,
) -> None:
    """Seal 4 cut to 31 bytes and seal 5 carrying the rest of digest 4 before its own,
    every later seal and the head recomputed: the stored seals run together equal the
    digests run together, so only a check of each seal on its own catches it."""
    path = filled(tmp_path / "h.sqlite3")
    rows = read_events(path)
    previous, digests = events.GENESIS, []
    for row in rows:
        seq, kind, action, at, origin, body = row[:6]
        tail = events.tail(seq, kind, action, at, origin, body)  # type: ignore[arg-type]
        digests.append(events.seal_after(previous, tail))
        if seq == 4:
            row[6] = digests[-1][:31]
        elif seq == 5:
            row[6] = digests[-2][31:] + digests[-1]
        else:
            row[6] = digests[-1]
        previous = row[6]  # type: ignore[assignment]
    assert b"".join(r[6] for r in rows) == b"".join(digests)  # type: ignore[misc]
    write_events(path, rows)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE events_head SET seq = ?, seal = ?", (rows[-1][0], rows[-1][6]))
    db.close()
    with AuditLog(path) as store:
        found = store.verify()
    assert not found.ok
    assert (found.record_id, found.problem) == (
        4,
        "event 4 holds a value support-tool never writes.",
    )
