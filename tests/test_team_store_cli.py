"""``support-tool audit init-db / use / status`` as IT and desks run them: real child
processes, a real PostgreSQL server, the real keyring."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from support_tool.audit import team_admin
from support_tool.config import team_settings
from support_tool.config.profiles import MAX_NAME_CHARS
from support_tool.config.secret_store import KeyringSecrets
from tests.conftest import CliProcessRunner, CliRunner
from tests.postgres_server import PostgresServer, TeamDatabase, private_team_server

DESK_PASSWORD = "desk-Pw-Zq8!"


def _initialised(db: TeamDatabase) -> tuple[str, str]:
    """Run init-db and add a desk login: (login name, its URL without password)."""
    team_admin.init_db(db.owner_url, db.owner_password, db.desk_role, db.auditor_role)
    return db.login(db.desk_role, DESK_PASSWORD)


@pytest.fixture
def forget_keyring_password():  # type: ignore[no-untyped-def]
    yield
    KeyringSecrets().delete(team_settings.KEYRING_USER)


# --- init-db -------------------------------------------------------------------------------


@pytest.mark.postgres
def test_init_db_from_the_command_line_reads_the_owner_password_from_stdin(
    cli_process: CliProcessRunner, team_database: TeamDatabase
) -> None:
    db = team_database
    roles = ("--desk-role", db.desk_role, "--auditor-role", db.auditor_role)
    args = ("audit", "init-db", db.owner_url, *roles)
    first = cli_process(*args, stdin=db.owner_password + "\n")
    assert first.status == 0, first.text
    assert "created        table support_tool.events" in first.out
    assert f"GRANT {db.desk_role} TO desk_07;" in first.out
    assert db.owner_password not in first.text

    second = cli_process(*args, stdin=db.owner_password + "\n")
    assert second.status == 0, second.text
    assert "created " not in second.out
    assert "Nothing new: the team store was already set up." in second.out


@pytest.mark.postgres
def test_init_db_with_a_wrong_password_says_so_without_a_traceback(
    cli_process: CliProcessRunner, team_database: TeamDatabase
) -> None:
    result = cli_process("audit", "init-db", team_database.owner_url, stdin="wrong\n")
    assert result.status == 4
    assert "Could not connect to the team audit store" in result.err
    assert "password authentication failed" in result.err
    assert "Traceback" not in result.text


# --- use and status ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.keyring
@pytest.mark.usefixtures("forget_keyring_password")
def test_a_desk_uses_the_team_store_with_its_password_in_the_keyring(
    cli_process: CliProcessRunner, home: Path, team_database: TeamDatabase
) -> None:
    login, url = _initialised(team_database)
    used = cli_process("audit", "use", url, stdin=DESK_PASSWORD + "\n")
    assert used.status == 0, used.text
    assert "Reachable: yes" in used.out
    assert f"signed in as {login!r}" in used.out
    assert "Initialised: yes (0 events); this login may record actions." in used.out

    setting = home / "audit-store.toml"
    assert stat.S_IMODE(setting.stat().st_mode) == 0o600
    assert DESK_PASSWORD not in setting.read_text()
    assert KeyringSecrets().get(team_settings.KEYRING_USER) == DESK_PASSWORD

    status = cli_process("audit", "status")
    assert status.status == 0, status.text
    assert f"Audit trail: team store {url} (password in the keyring" in status.out
    assert DESK_PASSWORD not in status.text

    back = cli_process("audit", "use", "--embedded")
    assert back.status == 0, back.text
    assert not setting.exists()
    assert not KeyringSecrets().has(team_settings.KEYRING_USER)
    embedded = cli_process("audit", "status")
    assert embedded.status == 0
    assert f"embedded file {home / 'history.sqlite3'}" in embedded.out


@pytest.mark.postgres
@pytest.mark.keyring
@pytest.mark.usefixtures("forget_keyring_password")
def test_status_says_when_the_team_store_cannot_be_reached(
    cli_process: CliProcessRunner, postgres_server: PostgresServer
) -> None:
    """Its own server, so stopping it leaves the session's server alone."""
    with private_team_server("desk07", DESK_PASSWORD) as server:
        url = server.conninfo("desk07", "audit")
        assert cli_process("audit", "use", url, stdin=DESK_PASSWORD).status == 0
        assert cli_process("audit", "status").status == 0
    down = cli_process("audit", "status")
    assert down.status == 4
    assert f"Audit trail: team store {url}" in down.out
    assert f"Reachable: no. Could not connect to the team audit store {url}" in down.err
    assert "this desk cannot record actions there" in down.err
    assert "Traceback" not in down.text


@pytest.mark.postgres
@pytest.mark.keyring
@pytest.mark.usefixtures("forget_keyring_password")
def test_status_says_when_the_database_was_never_initialised(
    cli_process: CliProcessRunner, team_database: TeamDatabase
) -> None:
    login, url = team_database.login("pg_read_all_data", DESK_PASSWORD)
    assert login
    result = cli_process("audit", "use", url, stdin=DESK_PASSWORD)
    assert result.status == 4
    assert "Reachable: yes" in result.out
    assert "Initialised: no. IT must first run, as the database's owner" in result.err


@pytest.mark.postgres
@pytest.mark.keyring
@pytest.mark.usefixtures("forget_keyring_password")
def test_an_auditor_verifies_the_team_trail_and_sees_a_superuser_edit(
    cli_process: CliProcessRunner, team_database: TeamDatabase
) -> None:
    import json

    from support_tool.audit.team_store import TeamStore

    db = team_database
    desk, desk_url = _initialised(db)
    with TeamStore.open(desk_url, DESK_PASSWORD, "desk") as store:
        attempt = store.append("attempt", None, '{"login":"terminal-0007","reason":"TCK-1"}')
        store.append("answer", attempt.seq, '{"outcome":"success"}')
    auditor, auditor_url = db.login(db.auditor_role, "auditor-Pw-9!")
    assert cli_process("audit", "use", auditor_url, stdin="auditor-Pw-9!").status == 0

    holds = cli_process("audit", "verify")
    assert holds.status == 0, holds.text
    assert f"The team audit trail {auditor_url} holds: 2 events, head event 2" in holds.out

    with db.admin() as conn:  # a superuser gets past the triggers
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE support_tool.events SET body = replace(body, 'TCK-1', 'TCK-2')")
    altered = cli_process("audit", "verify")
    assert altered.status == 5
    assert "was altered outside support-tool" in altered.err
    assert "event 1 does not match its seal" in altered.err
    report = json.loads(cli_process("audit", "verify", "--json").out)
    assert report["ok"] is False
    assert report["problems"][0]["seq"] == 1
    assert desk
    assert auditor


@pytest.mark.postgres
@pytest.mark.keyring
@pytest.mark.usefixtures("forget_keyring_password")
def test_history_verify_recomputes_the_seals_when_the_server_check_is_replaced(
    cli_process: CliProcessRunner, team_database: TeamDatabase
) -> None:
    """A superuser who makes the server's own check always say "fine" and then edits an
    event is still caught: the desk recomputes every seal itself."""
    from support_tool.audit.team_store import TeamStore

    db = team_database
    _, desk_url = _initialised(db)
    with TeamStore.open(desk_url, DESK_PASSWORD, "desk") as store:
        for login in ("terminal-0007", "terminal-0008"):
            attempt = store.append("attempt", None, f'{{"login":"{login}","reason":"TCK-1"}}')
            store.append("answer", attempt.seq, '{"outcome":"success"}')
    assert cli_process("audit", "use", desk_url, stdin=DESK_PASSWORD).status == 0
    assert cli_process("history", "verify").status == 0
    with db.admin() as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION support_tool.chain_problems()"
            " RETURNS TABLE (seq bigint, problem text) LANGUAGE sql STABLE"
            " AS $$ SELECT 1::bigint, 'x'::text WHERE false $$"
        )
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE support_tool.events SET body = replace(body, 'TCK-1', 'TCK-2') WHERE seq = 3"
        )
    with TeamStore.open(desk_url, DESK_PASSWORD, "desk") as store:
        assert store.check_chain().ok  # the server's (replaced) check sees nothing wrong
    altered = cli_process("history", "verify")
    assert altered.status == 5, altered.text
    assert "event 3 does not match its seal" in altered.text


@pytest.mark.postgres
@pytest.mark.keyring
@pytest.mark.usefixtures("forget_keyring_password")
def test_audit_verify_recomputes_every_seal_here_and_asks_the_server_too(
    cli_process: CliProcessRunner, postgres_server: PostgresServer
) -> None:
    """IT's command recomputes the trail on its own machine as history verify does: a
    superuser who makes the server's check always say "fine" and then edits an event is
    caught (exit 5), the server's check stays as a second opinion, and a store that
    cannot be reached is exit 4."""
    import json

    from support_tool.audit.team_store import TeamStore

    with private_team_server("desk07", DESK_PASSWORD) as server:
        url = server.conninfo("desk07", "audit")
        with TeamStore.open(url, DESK_PASSWORD, "desk") as store:
            for login in ("terminal-0007", "terminal-0008"):
                attempt = store.append("attempt", None, f'{{"login":"{login}","reason":"TCK-1"}}')
                store.append("answer", attempt.seq, '{"outcome":"success"}')
        assert cli_process("audit", "use", url, stdin=DESK_PASSWORD).status == 0
        holds = cli_process("audit", "verify")
        assert holds.status == 0, holds.text
        assert "holds: 4 events, head event 4" in holds.out
        assert "Every seal was recomputed on this machine" in holds.out

        with server.admin("audit") as conn:
            conn.execute(
                "CREATE OR REPLACE FUNCTION support_tool.chain_problems()"
                " RETURNS TABLE (seq bigint, problem text) LANGUAGE sql STABLE"
                " AS $$ SELECT 1::bigint, 'x'::text WHERE false $$"
            )
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                "UPDATE support_tool.events SET body = replace(body, 'TCK-1', 'TCK-2')"
                " WHERE seq = 3"
            )
        altered = cli_process("audit", "verify")
        assert altered.status == 5, altered.text
        assert "recomputed on this machine: event 3 does not match its seal" in altered.err
        assert "the server's own check says it holds" in altered.err
        report = json.loads(cli_process("audit", "verify", "--json").out)
        assert report["ok"] is False
        assert report["desk"]["problem"]["seq"] == 3
        assert report["problems"] == []
        assert "Traceback" not in altered.text
    down = cli_process("audit", "verify")
    assert down.status == 4, down.text
    assert f"Could not connect to the team audit store {url}" in down.err
    assert "Traceback" not in down.text


def test_demo_does_not_change_the_real_audit_store(cli: CliRunner, home: Path) -> None:
    result = cli("--demo", "audit", "use", "postgresql://desk07@db.example/audit")
    assert result.status == 2
    assert "--demo does not apply to 'audit use'" in result.err
    assert not (home / "audit-store.toml").exists()


def test_verify_on_the_embedded_store_points_at_history_verify(cli: CliRunner) -> None:
    result = cli("audit", "verify")
    assert result.status == 4
    assert "support-tool history verify" in result.err


def test_a_password_in_the_url_is_refused_and_nothing_is_stored(
    cli_process: CliProcessRunner, home: Path
) -> None:
    for url in (
        "postgresql://desk07:Hunter-2-Secret@db.example/audit",
        "postgresql://desk07@db.example/audit?password=Hunter-2-Secret",
        "host=db.example user=desk07 password=Hunter-2-Secret dbname=audit",
    ):
        result = cli_process("audit", "use", url)
        assert result.status == 2, result.text
        assert "contains a password" in result.err
        assert "give the password on standard input" in result.err
        assert "Hunter-2-Secret" not in result.err  # the message never repeats it
        assert not (home / "audit-store.toml").exists()


def test_the_environment_wins_and_its_password_is_masked(
    cli_process: CliProcessRunner, home: Path
) -> None:
    team_settings_text = (
        '[team_store]\nurl = "postgresql://other@/x"\npassword_in_keyring = false\n'
    )
    (home / "audit-store.toml").write_text(team_settings_text)
    url = "postgresql://svc:Hunter-2-Secret@/nowhere?host=/nonexistent-socket-dir&connect_timeout=1"
    result = cli_process("audit", "status", env={team_settings.URL_ENV: url})
    assert result.status == 4
    assert "postgresql://svc:***@/nowhere" in result.out
    assert f"set by {team_settings.URL_ENV}" in result.out
    assert "Hunter-2-Secret" not in result.text
    assert "Could not connect to the team audit store" in result.err


def test_without_the_team_extra_audit_says_how_to_install_it(home: Path) -> None:
    """A desk installed without 'support-tool[team]' (psycopg made unimportable)."""
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from support_tool.cli.commands import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    for args in (["audit", "status"], ["audit", "use", "postgresql://desk07@db.example/a"]):
        result = subprocess.run(
            [sys.executable, "-c", script, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={
                **os.environ,
                "SUPPORT_TOOL_HOME": str(home),
                team_settings.URL_ENV: "postgresql://desk07@db.example/a",
            },
        )
        assert result.returncode == 4, result.stderr
        assert "pip install 'support-tool[team]'" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_command_line_starts_without_the_database_driver() -> None:
    probe = (
        "import sys\n"
        "from support_tool.cli.commands import build_parser, main\n"
        "build_parser()\n"
        "wanted = ('psycopg', 'support_tool.audit.team')\n"
        "loaded = [m for m in sys.modules if m.startswith(wanted)]\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_embedded_is_the_default_and_needs_no_driver(cli: CliRunner, home: Path) -> None:
    result = cli("audit", "status")
    assert result.status == 0
    assert result.out.strip() == (
        f"Audit trail: embedded file {home / 'history.sqlite3'} (this desk only)."
    )


# --- the setting itself --------------------------------------------------------------------


def test_the_keyring_entry_cannot_clash_with_a_provider_profile() -> None:
    assert len(team_settings.KEYRING_USER) > MAX_NAME_CHARS


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://desk07@db/audit", "postgresql://desk07@db/audit"),
        ("postgresql://desk07:s3cret@db:5432/audit", "postgresql://desk07:***@db:5432/audit"),
        (
            "postgres://d@db/a?sslmode=verify-full&password=s3cret",
            "postgres://d@db/a?sslmode=verify-full&password=***",
        ),
        ("host=db user=d password='s3 cret' dbname=a", "host=db user=d password=*** dbname=a"),
        ("host=db user=d password = s3cret", "host=db user=d password=***"),
    ],
)
def test_passwords_are_masked_wherever_they_sit(url: str, shown: str) -> None:
    assert team_settings.mask_password(url) == shown
    assert team_settings.has_password(url) == ("s3" in url)


def test_a_damaged_setting_says_how_to_fix_it(cli: CliRunner, home: Path) -> None:
    (home / "audit-store.toml").write_text("[team_store\nurl = 3")
    result = cli("audit", "status")
    assert result.status == 4
    assert "audit-store.toml cannot be read" in result.err
    assert "support-tool audit use --embedded" in result.err
