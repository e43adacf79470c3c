"""Close, batch, history and verify writing and reading the team store: real child
processes, the real sandbox provider, a real PostgreSQL server, the real keyring.

A desk is pointed at the store the managed way (``SUPPORT_TOOL_AUDIT_URL``) with its
password from libpq's own environment (``PGPASSWORD``), so nothing here reads a file or
the keyring for the database password.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from support_tool.audit import team_admin
from support_tool.config import team_settings
from support_tool.provider import contract
from support_tool.sandbox import SandboxServer
from tests.conftest import CliProcessRunner, cli_command
from tests.postgres_server import PostgresServer, TeamDatabase, private_team_server

pytestmark = [pytest.mark.postgres, pytest.mark.keyring]

DESK_PASSWORD = "desk-Pw-Wire-4!"


@dataclass(frozen=True)
class Desk:
    """A desk login of a team store: its URL (no password) and how a child process uses it."""

    login: str
    url: str
    server: PostgresServer
    dbname: str

    def env(self, operator: str = "anna") -> dict[str, str]:
        return {
            team_settings.URL_ENV: self.url,
            "PGPASSWORD": DESK_PASSWORD,
            "USER": operator,
            "LOGNAME": operator,
        }

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.server.admin(self.dbname) as conn:
            return list(conn.execute(query, params).fetchall())

    def attempted_logins(self) -> list[str]:
        return [
            str(r[0])
            for r in self.rows(
                "SELECT body::jsonb ->> 'login' FROM support_tool.events WHERE kind = 'attempt'"
            )
        ]


def _desk(db: TeamDatabase) -> Desk:
    team_admin.init_db(db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    login, url = db.login(db.desk_role, DESK_PASSWORD)
    return Desk(login, url, db.server, db.name)


@pytest.fixture(name="desk")
def desk_fixture(team_database: TeamDatabase) -> Desk:
    """A team store set up by init-db, and a desk login for it."""
    return _desk(team_database)


@pytest.fixture(name="own_server")
def own_server_fixture(postgres_server: PostgresServer) -> Iterator[Desk]:
    """A team store on a server of its own, which a test may stop and start again."""
    with private_team_server("desk07", DESK_PASSWORD) as server:
        yield Desk("desk07", server.conninfo("desk07", "audit"), server, "audit")


def terminals(folder: Path, first: int, count: int, name: str = "list.csv") -> str:
    path = folder / name
    path.write_text("".join(f"terminal-{n:04d}\n" for n in range(first, first + count)))
    return str(path)


def seen_logins(sandbox: SandboxServer) -> list[str]:
    return [dict(parse_qsl(r.query))[contract.QUERY_LOGIN] for r in sandbox.received]


def start_batch(home: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*cli_command(), "batch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home), **env},
    )


# --- the store in use ----------------------------------------------------------------------


def test_close_batch_history_verify_and_anchor_use_the_team_store(
    cli_process: CliProcessRunner, sandbox_profile: str, desk: Desk, home: Path, tmp_path: Path
) -> None:
    env = desk.env()
    closed = cli_process("close", "terminal-0001", "--profile", sandbox_profile, env=env)
    assert closed.status == 0, closed.text
    batch = cli_process(
        "batch", terminals(tmp_path, 2, 20), "--concurrency", "8", "--json", env=env
    )
    assert batch.status == 0, batch.text

    history = cli_process("history", "--json", env=env)
    assert history.status == 0, history.text
    rows = [json.loads(line) for line in history.out.splitlines()]
    assert sorted(r["login"] for r in rows) == [f"terminal-{n:04d}" for n in range(1, 22)]
    assert {(r["outcome"], r["operator"]) for r in rows} == {("success", "anna")}
    assert not (home / "history.sqlite3").exists()  # the embedded file was never touched
    origins = desk.rows("SELECT DISTINCT origin FROM support_tool.events")
    assert origins == [(desk.login,)]

    verified = cli_process("history", "verify", env=env)
    assert verified.status == 0, verified.text
    assert "42 sealed events verified" in verified.out
    anchor = cli_process("history", "anchor", env=env)
    assert anchor.status == 0, anchor.text
    assert anchor.out.startswith("support-tool anchor v1 events=42 ")
    held = cli_process("history", "verify", "--anchor", anchor.out.strip(), env=env)
    assert held.status == 0, held.text
    as_json = json.loads(cli_process("history", "verify", "--json", env=env).out)
    assert as_json["ok"] is True
    assert as_json["store"].startswith("the team audit store postgresql://")
    assert DESK_PASSWORD not in verified.text + anchor.text + json.dumps(as_json)


def test_the_environment_wins_over_the_setting_file(
    cli_process: CliProcessRunner, sandbox_profile: str, desk: Desk, home: Path
) -> None:
    (home / "audit-store.toml").write_text(
        '[team_store]\nurl = "postgresql://nobody@/none?host=/nonexistent-dir"\n'
        "password_in_keyring = false\n"
    )
    closed = cli_process("close", "terminal-0005", "--profile", sandbox_profile, env=desk.env())
    assert closed.status == 0, closed.text
    assert desk.attempted_logins() == ["terminal-0005"]


def test_an_unreachable_store_at_start_sends_nothing(
    cli_process: CliProcessRunner, sandbox_profile: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    url = "postgresql://desk07@/audit?host=/nonexistent-socket-dir&connect_timeout=2"
    env = {team_settings.URL_ENV: url}
    closed = cli_process("close", "terminal-0001", "--profile", sandbox_profile, env=env)
    batch = cli_process("batch", terminals(tmp_path, 1, 5), env=env)
    for result in (closed, batch):
        assert result.status == 4, result.text
        assert f"Could not connect to the team audit store {url}" in result.err
        assert "Nothing is sent while the audit store cannot record it" in result.err
        assert "support-tool audit status" in result.err
        assert "Traceback" not in result.text
    assert sandbox.request_count == 0


def test_demo_keeps_its_own_file_whatever_store_is_configured(
    cli_process: CliProcessRunner, home: Path
) -> None:
    env = {team_settings.URL_ENV: "postgresql://desk07@/audit?host=/nonexistent-socket-dir"}
    closed = cli_process("--demo", "close", "terminal-0001", env=env)
    assert closed.status == 0, closed.text
    assert (home / "demo-history.sqlite3").exists()
    assert cli_process("--demo", "history", "verify", env=env).status == 0


# --- faults --------------------------------------------------------------------------------


def test_a_server_stopped_mid_batch_stops_the_batch_and_keeps_every_attempt(
    cli_process: CliProcessRunner,
    sandbox_profile: str,
    sandbox: SandboxServer,
    own_server: Desk,
    home: Path,
    tmp_path: Path,
) -> None:
    desk = own_server
    sandbox.latency_s = 0.05
    concurrency = 4
    batch = start_batch(
        home, desk.env(), terminals(tmp_path, 1, 300), "--concurrency", str(concurrency)
    )
    try:
        assert sandbox.wait_for_requests(20, 60)
        desk.server.halt()
        at_halt = sandbox.request_count
        out, err = batch.communicate(timeout=60)
    finally:
        batch.kill()
    assert batch.returncode == 4, out + err
    assert "nothing further was sent" in err
    assert "the team audit store postgresql://desk07@/audit" in err.lower(), err
    assert "Traceback" not in out + err
    # After the stop, only requests whose attempt was already sealed could leave: at most
    # one per worker.
    assert sandbox.request_count <= at_halt + concurrency
    assert sandbox.request_count < 300

    desk.server.resume()
    seen = seen_logins(sandbox)
    attempted = desk.attempted_logins()
    assert set(seen) <= set(attempted)
    assert len(attempted) == len(set(attempted))
    verified = cli_process("history", "verify", env=desk.env())  # recovers the batch's rows
    assert verified.status == 0, verified.text
    pending = desk.rows("SELECT id FROM support_tool.actions WHERE outcome = 'pending'")
    assert pending == []


def test_a_desk_killed_mid_batch_left_an_attempt_for_every_request(
    cli_process: CliProcessRunner,
    sandbox_profile: str,
    sandbox: SandboxServer,
    desk: Desk,
    home: Path,
    tmp_path: Path,
) -> None:
    sandbox.latency_s = 0.05
    batch = start_batch(home, desk.env(), terminals(tmp_path, 1, 400), "--concurrency", "8")
    try:
        assert sandbox.wait_for_requests(30, 60)
        batch.send_signal(signal.SIGKILL)
        batch.communicate(timeout=30)
    finally:
        batch.kill()
    assert batch.returncode == -signal.SIGKILL
    seen = seen_logins(sandbox)
    attempted = desk.attempted_logins()
    assert seen
    assert set(seen) <= set(attempted)

    history = cli_process("history", "--json", "--outcome", "unknown", env=desk.env())
    assert history.status == 0, history.text
    recovered = [json.loads(line) for line in history.out.splitlines()]
    assert recovered  # requests were in flight when the desk died
    assert all("stopped before the provider's answer" in r["description"] for r in recovered)
    assert desk.rows("SELECT id FROM support_tool.actions WHERE outcome = 'pending'") == []
    assert cli_process("history", "verify", env=desk.env()).status == 0


def test_an_answer_the_store_lost_is_reported_then_recorded_unknown(
    cli_process: CliProcessRunner,
    sandbox_profile: str,
    sandbox: SandboxServer,
    desk: Desk,
    home: Path,
) -> None:
    """The desk's connection is cut while its request is at the provider."""
    sandbox.latency_s = 1.0
    close = subprocess.Popen(
        [*cli_command(), "close", "terminal-0009", "--profile", sandbox_profile],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SUPPORT_TOOL_HOME": str(home), **desk.env()},
    )
    try:
        assert sandbox.wait_for_requests(1, 30)
        desk.rows(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
            (desk.login,),
        )
        out, err = close.communicate(timeout=30)
    finally:
        close.kill()
    assert close.returncode == 0, out + err  # the provider closed it: the operator is told
    assert "Closed: session of terminal-0009" in out
    assert "WARNING: The team audit store" in out + err
    assert "answer could not be recorded" in out + err

    later = cli_process("history", "--json", env=desk.env())
    (row,) = [json.loads(line) for line in later.out.splitlines()]
    assert row["outcome"] == "unknown"
    assert cli_process("history", "verify", env=desk.env()).status == 0


# --- many desks ----------------------------------------------------------------------------


def test_three_desks_running_batches_at_once_make_one_valid_chain(
    cli_process: CliProcessRunner,
    sandbox_profile: str,
    team_database: TeamDatabase,
    home: Path,
    tmp_path: Path,
) -> None:
    desk = _desk(team_database)
    others = [team_database.login(team_database.desk_role, DESK_PASSWORD) for _ in range(2)]
    urls = [desk.url, *(url for _, url in others)]
    operators = ["anna", "ben", "chloe"]
    batches = [
        start_batch(
            home,
            {**desk.env(operators[n]), team_settings.URL_ENV: urls[n]},
            terminals(tmp_path, 1 + 100 * n, 60, f"desk{n}.csv"),
            "--concurrency",
            "8",
        )
        for n in range(3)
    ]
    try:
        results = [b.communicate(timeout=120) for b in batches]
    finally:
        for b in batches:
            b.kill()
    assert [b.returncode for b in batches] == [0, 0, 0], results

    verified = cli_process("history", "verify", env=desk.env())
    assert verified.status == 0, verified.text
    assert "360 sealed events verified" in verified.out
    by_operator = desk.rows(
        "SELECT operator, count(*), count(DISTINCT origin) FROM support_tool.actions"
        " WHERE outcome = 'success' GROUP BY operator ORDER BY operator"
    )
    assert by_operator == [("anna", 60, 1), ("ben", 60, 1), ("chloe", 60, 1)]


def test_history_verify_names_an_event_a_superuser_edited(
    cli_process: CliProcessRunner, sandbox_profile: str, desk: Desk
) -> None:
    env = desk.env()
    for login in ("terminal-0001", "terminal-0002"):
        assert cli_process("close", login, "--profile", sandbox_profile, env=env).status == 0
    anchor = cli_process("history", "anchor", env=env).out.strip()
    with desk.server.admin(desk.dbname) as conn:
        conn.execute("SET session_replication_role = replica")  # past the triggers
        conn.execute(
            "UPDATE support_tool.events SET body = replace(body, 'terminal-0002', 'x')"
            " WHERE seq = 3"
        )
    for args in (("history", "verify"), ("history", "verify", "--anchor", anchor)):
        result = cli_process(*args, env=env)
        assert result.status == 5, result.text
        assert "The audit history was altered outside support-tool: event 3" in result.err
        assert "(2 events before it verified.)" in result.err
    as_json = json.loads(cli_process("history", "verify", "--json", env=env).out)
    assert (as_json["ok"], as_json["record_id"]) == (False, 3)


def test_a_desk_set_up_with_audit_use_records_with_its_keyring_password(
    cli_process: CliProcessRunner, sandbox_profile: str, desk: Desk
) -> None:
    from support_tool.config.secret_store import KeyringSecrets

    try:
        used = cli_process("audit", "use", desk.url, stdin=DESK_PASSWORD + "\n")
        assert used.status == 0, used.text
        closed = cli_process("close", "terminal-0003", "--profile", sandbox_profile)
        assert closed.status == 0, closed.text
        assert desk.attempted_logins() == ["terminal-0003"]
        KeyringSecrets().delete(team_settings.KEYRING_USER)
        gone = cli_process("close", "terminal-0004", "--profile", sandbox_profile)
        assert gone.status == 4, gone.text
        assert "password is not in this desk's keyring any more" in gone.err
        assert desk.attempted_logins() == ["terminal-0003"]
    finally:
        KeyringSecrets().delete(team_settings.KEYRING_USER)
