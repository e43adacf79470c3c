"""A private, real PostgreSQL server for the team audit store tests.

``initdb`` + ``pg_ctl`` from Debian's ``postgresql`` package (.ci/run installs it) build a
throw-away cluster in a temporary folder. It listens only on a Unix socket in that folder
(no TCP), runs as an unprivileged user when the tests run as root (PostgreSQL refuses to
run as root), and is stopped at the end of the session even after failures.

The superuser ``admin`` signs in without a password over the private socket; every other
role needs its password (scram-sha-256), so the tests exercise real authentication.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SUPERUSER = "admin"
PORT = 5432  # only names the socket file; nothing listens on TCP


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them per version)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, or (as root) the postgres system user, else nobody."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, but there is no 'postgres' or 'nobody' user")


def is_postgres(pid: int) -> bool:
    """True while ``pid`` is still a PostgreSQL process (not a reused process id)."""
    try:
        return b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class PostgresServer:
    """One cluster: ``start()`` then ``stop()`` (``stop`` is safe to call at any point)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="st-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.user = _server_user()
        self._group: int | None = None  # pg_ctl's process group
        self._postmaster: int | None = None
        self._names = itertools.count(1)
        self._durable = False
        self._settings: dict[str, str] = {}
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.root.chmod(0o700)

    # --- running the server's programs as its user -----------------------------------------

    def _as_server_user(self, *argv: str) -> list[str]:
        if self.user is None:
            return list(argv)
        return [
            "setpriv",
            f"--reuid={self.user.pw_uid}",
            f"--regid={self.user.pw_gid}",
            "--init-groups",
            "--",
            *argv,
        ]

    def _run(self, *argv: str) -> None:
        subprocess.run(
            self._as_server_user(*argv),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
            start_new_session=True,
        )

    def start(self, *, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        """Create and start the cluster. Tests skip fsync (they keep nothing); a benchmark
        comparing the team store with SQLite's ``synchronous=FULL`` asks for ``durable``
        commits, as a real server makes, and may add server ``settings``."""
        self._durable = durable
        self._settings = dict(settings or {})
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth-local=scram-sha-256",
            "--auth-host=reject",
            "--no-locale",
            "-E",
            "UTF8",
            "--no-sync",
        )
        # The superuser connects over this private socket without a password; the rest of
        # pg_hba.conf (from initdb) asks every other role for its password.
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"local all {SUPERUSER} trust\n" + hba.read_text())
        self._launch()

    def _launch(self) -> None:
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.root}' -p {PORT}"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        for name, value in self._settings.items():
            options += f" -c {name}={value}"
        starter = subprocess.Popen(
            self._as_server_user(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ),
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # the server stays in this process group: killpg below
        )
        self._group = starter.pid
        out, _ = starter.communicate(timeout=90)
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            self._postmaster = int(pid_file.read_text().split("\n", 1)[0])
        if starter.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{out}\n{log}")

    def halt(self) -> None:
        """Stop the server as an administrator would (``pg_ctl stop``, fast: sessions are
        cut off), keeping its data for :meth:`resume`."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the halted server again on the same data and socket."""
        self._launch()

    def stop(self) -> None:
        """Stop at once (tests keep nothing), then make sure no server process is left."""
        try:
            if (self.data / "postmaster.pid").exists():
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    self._run(
                        str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
                    )
        finally:
            # pg_ctl makes the postmaster a session leader: its group holds every backend.
            for group in (self._postmaster, self._group):
                if group is not None and is_postgres(group):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(group, signal.SIGKILL)
            shutil.rmtree(self.root, ignore_errors=True)

    # --- connecting ------------------------------------------------------------------------

    def conninfo(self, user: str = SUPERUSER, dbname: str = "postgres", **extra: str) -> str:
        """A libpq URL for this server's socket (``host`` is the socket's folder)."""
        from urllib.parse import quote

        query = "&".join(
            f"{k}={quote(v, safe='')}" for k, v in {"host": str(self.root), **extra}.items()
        )
        return f"postgresql://{quote(user, safe='')}@/{quote(dbname, safe='')}?{query}"

    def admin(self, dbname: str = "postgres") -> Any:
        """A superuser connection in autocommit mode."""
        import psycopg

        return psycopg.connect(self.conninfo(SUPERUSER, dbname), autocommit=True)

    def unique(self, prefix: str) -> str:
        """A role or database name no other test in this session uses (roles are global)."""
        return f"{prefix}_{os.getpid()}_{next(self._names)}"


@dataclass(frozen=True)
class TeamDatabase:
    """A fresh database owned by a fresh, non-superuser owner, with its own role names."""

    server: PostgresServer
    name: str
    owner: str
    owner_password: str
    desk_role: str
    auditor_role: str

    @property
    def owner_url(self) -> str:
        """The owner's URL without its password (init-db reads that from standard input)."""
        return self.server.conninfo(self.owner, self.name)

    def admin(self) -> Any:
        return self.server.admin(self.name)

    def login(self, member_of: str, password: str) -> tuple[str, str]:
        """Create a LOGIN role granted ``member_of``: its name and URL (without password)."""
        from psycopg import sql

        name = self.server.unique("login")
        with self.server.admin() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(name), sql.Literal(password), sql.Identifier(member_of)
                )
            )
        return name, self.server.conninfo(name, self.name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole session; skipped where none is installed."""
    pytest.importorskip("psycopg", reason="the 'team' extra (psycopg) is not installed")
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's "
            "'postgresql' package (.ci/run does) to run the team audit store tests"
        )
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def team_database(postgres_server: PostgresServer) -> Iterator[TeamDatabase]:
    """A new database per test, so tests never see each other's events."""
    from psycopg import sql

    server = postgres_server
    database = TeamDatabase(
        server=server,
        name=server.unique("db"),
        owner=server.unique("owner"),
        owner_password="pw-Owner-1!",
        desk_role=server.unique("desk"),
        auditor_role=server.unique("auditor"),
    )
    with server.admin() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                sql.Identifier(database.owner), sql.Literal(database.owner_password)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database.name), sql.Identifier(database.owner)
            )
        )
    yield database
    with server.admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.name))
        )


@contextlib.contextmanager
def private_team_server(desk_login: str, desk_password: str) -> Iterator[PostgresServer]:
    """A team store on a server of its own (database ``audit``, owner ``owner1``, roles
    ``desk`` and ``auditor``, and ``desk_login`` a member of ``desk``), for tests that stop
    and start it; stopped at the end whatever happened."""
    from support_tool.audit import team_admin

    bindir = postgres_bindir()
    assert bindir is not None  # the postgres_server fixture would have skipped
    server = PostgresServer(bindir)
    try:
        server.start()
        with server.admin() as conn:
            conn.execute("CREATE ROLE owner1 LOGIN CREATEROLE PASSWORD 'Owner-pw-1'")
            conn.execute("CREATE DATABASE audit OWNER owner1")
        team_admin.init_db(server.conninfo("owner1", "audit"), "Owner-pw-1", "desk", "auditor")
        with server.admin() as conn:
            conn.execute(f"CREATE ROLE {desk_login} LOGIN PASSWORD '{desk_password}' IN ROLE desk")
        yield server
    finally:
        server.stop()
