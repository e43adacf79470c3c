"""``support-tool audit init-db``: set up (or check) a team audit store, as its owner.

Everything is created idempotently in the schema ``support_tool`` (see team_schema.sql),
in one transaction: a failure leaves the database as it was. Two group roles carry the
rights, so IT grants people a role instead of table rights:

* the desk role may append through ``support_tool.append_event`` and read the trail;
* the auditor role may only read the trail and run the chain check.

Neither may INSERT, UPDATE, DELETE or TRUNCATE any table. The report says what was created
and what was already there, so running it again is a check.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from support_tool.audit.team_store import connect, driver, server_message
from support_tool.errors import ConfigurationError, InvalidInput

if TYPE_CHECKING:
    import psycopg

DEFAULT_DESK_ROLE = "support_tool_desk"
DEFAULT_AUDITOR_ROLE = "support_tool_auditor"
MAX_ROLE_CHARS = 63  # PostgreSQL's identifier limit
# Bounded, but long enough to add a column or build an index over millions of events
# when init-db brings an existing store up to date.
INIT_STATEMENT_TIMEOUT_MS = 30 * 60_000

# Every object init-db owns, as (kind and name, fingerprint of its definition).
_INVENTORY = """
SELECT 'extension pg_trgm', extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trgm'
UNION ALL
SELECT 'schema support_tool', '' FROM pg_catalog.pg_namespace WHERE nspname = 'support_tool'
UNION ALL
SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'v' THEN 'view ' ELSE 'index ' END
       || 'support_tool.' || c.relname,
       CASE c.relkind WHEN 'v' THEN pg_catalog.pg_get_viewdef(c.oid)
                      WHEN 'i' THEN pg_catalog.pg_get_indexdef(c.oid) ELSE '' END
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'support_tool' AND c.relkind IN ('r', 'v', 'i')
UNION ALL
SELECT 'function support_tool.' || p.proname
       || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
       pg_catalog.pg_get_functiondef(p.oid)
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'support_tool'
UNION ALL
SELECT 'statistics support_tool.' || s.stxname, pg_catalog.pg_get_statisticsobjdef(s.oid)
  FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
 WHERE n.nspname = 'support_tool'
UNION ALL
SELECT 'trigger ' || t.tgname || ' on support_tool.' || c.relname,
       pg_catalog.pg_get_triggerdef(t.oid)
  FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'support_tool' AND NOT t.tgisinternal
"""
# Who may do what, to tell "granted now" from "already granted".
_RIGHTS = """
SELECT coalesce(n.nspacl::text, '')
       || (SELECT coalesce(string_agg(c.relacl::text, ';' ORDER BY c.relname), '')
             FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid)
       || (SELECT coalesce(string_agg(p.proacl::text, ';' ORDER BY p.proname), '')
             FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid)
  FROM pg_catalog.pg_namespace n WHERE n.nspname = 'support_tool'
"""
_TABLES = ("events", "head", "open_attempts", "actions")


@dataclass
class InitReport:
    """What init-db did, in the order it did it."""

    database: str = ""
    owner: str = ""
    owner_is_superuser: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    roles_created: list[str] = field(default_factory=list)
    rights_changed: bool = False

    @property
    def anything_new(self) -> bool:
        return bool(self.created or self.updated or self.roles_created or self.rights_changed)


def clean_role(raw: str, option: str) -> str:
    name = raw.strip()
    if not name or len(name) > MAX_ROLE_CHARS or any(not ch.isprintable() for ch in name):
        raise InvalidInput(
            f"{option} takes a role name of 1-{MAX_ROLE_CHARS} printable characters."
        )
    return name


def schema_steps() -> list[tuple[str, str]]:
    """team_schema.sql as (step name, SQL) pairs, in order."""
    text = resources.files("support_tool.audit").joinpath("team_schema.sql").read_text("utf-8")
    steps: list[tuple[str, str]] = []
    for chunk in text.split("\n-- step: ")[1:]:
        name, _, body = chunk.partition("\n")
        steps.append((name.strip(), body))
    return steps


def _inventory(conn: psycopg.Connection[tuple[Any, ...]]) -> dict[str, str]:
    return {
        str(name): hashlib.sha256(str(definition).encode()).hexdigest()
        for name, definition in conn.execute(_INVENTORY).fetchall()
    }


def _rights(conn: psycopg.Connection[tuple[Any, ...]]) -> str:
    row = conn.execute(_RIGHTS).fetchone()
    return str(row[0]) if row else ""


def _role_exists(conn: psycopg.Connection[tuple[Any, ...]], role: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)).fetchone()
        is not None
    )


def _create_extension(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    pg = driver()
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except pg.errors.InsufficientPrivilege as exc:
        raise ConfigurationError(
            "This user may not create the pg_trgm extension, which the History view's text "
            f"search needs ({server_message(exc)}). Ask a database superuser to run "
            "CREATE EXTENSION pg_trgm; in this database, then run init-db again. "
            "Nothing was changed."
        ) from None


def _create_roles(
    conn: psycopg.Connection[tuple[Any, ...]], roles: tuple[str, ...], report: InitReport
) -> None:
    from psycopg import sql

    pg = driver()
    missing = [role for role in roles if not _role_exists(conn, role)]
    try:
        with conn.transaction():
            for role in missing:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    except pg.errors.InsufficientPrivilege:
        commands = " ".join(f"CREATE ROLE {_quoted(role)} NOLOGIN;" for role in missing)
        raise ConfigurationError(
            f"The role(s) {', '.join(missing)} do not exist and this user may not create "
            f"roles. Ask IT (a superuser or a user with CREATEROLE) to run: {commands} "
            "then run init-db again. Nothing was changed."
        ) from None
    report.roles_created.extend(missing)


def _grant(conn: psycopg.Connection[tuple[Any, ...]], desk: str, auditor: str) -> None:
    """Exactly the rights each role needs, whatever was granted before."""
    from psycopg import sql

    roles = sql.SQL(", ").join([sql.Identifier(desk), sql.Identifier(auditor)])
    tables = sql.SQL(", ").join(sql.Identifier("support_tool", t) for t in _TABLES)
    append = sql.SQL("support_tool.append_event(text, bigint, text)")
    check = sql.SQL("support_tool.chain_problems()")
    for statement in (
        sql.SQL("GRANT USAGE ON SCHEMA support_tool TO {}").format(roles),
        sql.SQL("REVOKE ALL ON {} FROM {}").format(tables, roles),
        sql.SQL("GRANT SELECT ON {} TO {}").format(tables, roles),
        sql.SQL("REVOKE ALL ON FUNCTION {} FROM {}").format(append, roles),
        sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(append, sql.Identifier(desk)),
        sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(check, roles),
    ):
        conn.execute(statement)


def init_db(
    conninfo: str, password: str | None, desk_role: str, auditor_role: str, what: str = ""
) -> InitReport:
    """Create or check the team store; raise ConfigurationError with the next step if not.
    ``what`` names the store in messages (the URL, never with a password)."""
    desk = clean_role(desk_role, "--desk-role")
    auditor = clean_role(auditor_role, "--auditor-role")
    if desk == auditor:
        raise InvalidInput("The desk role and the auditor role must be different roles.")
    pg = driver()
    report = InitReport()
    with connect(
        conninfo, password, what=what, statement_timeout_ms=INIT_STATEMENT_TIMEOUT_MS
    ) as conn:
        try:
            with conn.transaction():
                report.database, report.owner, report.owner_is_superuser = conn.execute(
                    "SELECT current_database(), current_user,"
                    " (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)"
                ).fetchone() or ("", "", False)
                before, rights_before = _inventory(conn), _rights(conn)
                _create_extension(conn)
                for name, statement in schema_steps():
                    _run_step(conn, name, statement)
                _create_roles(conn, (desk, auditor), report)
                _grant(conn, desk, auditor)
                after, rights_after = _inventory(conn), _rights(conn)
        except pg.Error as exc:
            raise ConfigurationError(
                f"The team store could not be set up: {server_message(exc)}. Nothing was changed."
            ) from None
    for name in sorted(after, key=_display_order):
        if name not in before:
            report.created.append(name)
        elif before[name] != after[name]:
            report.updated.append(name)
        else:
            report.unchanged.append(name)
    report.rights_changed = rights_before != rights_after
    return report


def _run_step(conn: psycopg.Connection[tuple[Any, ...]], name: str, statement: str) -> None:
    pg = driver()
    try:
        with conn.transaction():
            conn.execute(statement.encode())  # several statements: the simple query protocol
    except pg.errors.InsufficientPrivilege as exc:
        raise ConfigurationError(
            f"init-db must run as the database's owner (step '{name}': "
            f"{server_message(exc)}). Connect as the owner, or ask IT to make this user the "
            "owner. Nothing was changed."
        ) from None
    except pg.Error as exc:
        raise ConfigurationError(
            f"The team store could not be set up (step '{name}': {server_message(exc)}). "
            "Nothing was changed."
        ) from None


_ORDER = ("extension", "schema", "table", "view", "index", "statistics", "function", "trigger")


def _display_order(name: str) -> tuple[int, str]:
    kind = name.split(" ", 1)[0]
    return (_ORDER.index(kind) if kind in _ORDER else len(_ORDER), name)


def describe(report: InitReport, desk: str, auditor: str) -> str:
    """The report IT reads: what exists now, who may do what, and the next commands."""
    lines = [
        f"Team audit store in database {report.database!r}, schema support_tool, "
        f"owner {report.owner!r}:"
    ]
    lines += [f"  created        {name}" for name in report.created]
    lines += [f"  updated        {name}" for name in report.updated]
    lines += [f"  already there  {name}" for name in report.unchanged]
    lines.append("Roles (group roles, NOLOGIN; people sign in as their own login users):")
    for role, rights in (
        (desk, "append events through support_tool.append_event; read the trail"),
        (auditor, "read the trail and run support_tool.chain_problems(); never append"),
    ):
        state = "created" if role in report.roles_created else "already there"
        lines.append(f"  {state:<13}  {role}: may {rights}")
    lines.append(
        "  neither may INSERT, UPDATE, DELETE or TRUNCATE any table; triggers refuse "
        "UPDATE, DELETE and TRUNCATE even to the owner"
    )
    lines.append("Rights: granted now." if report.rights_changed else "Rights: already granted.")
    if not report.anything_new:
        lines.append("Nothing new: the team store was already set up.")
    if report.owner_is_superuser:
        lines.append(
            f"Note: {report.owner!r} is a superuser, so the trail's owner is one too. Prefer a "
            "dedicated owner role with no other duties (create the database OWNER it, and run "
            "init-db as it): triggers cannot stop a superuser."
        )
    lines.append("Next, as a user allowed to create roles, add one login per desk and per auditor:")
    lines.append(f"  CREATE ROLE desk_07 LOGIN PASSWORD '...';  GRANT {_quoted(desk)} TO desk_07;")
    lines.append(
        "  CREATE ROLE auditor_anna LOGIN PASSWORD '...';  "
        f"GRANT {_quoted(auditor)} TO auditor_anna;"
    )
    lines.append(
        "Then on each desk: support-tool audit use postgresql://desk_07@HOST/"
        f"{report.database}  (the password is read from standard input into the keyring)"
    )
    return "\n".join(lines)


def _quoted(role: str) -> str:
    """A role name as SQL needs it (quoted only when it must be)."""
    plain = (
        role.isascii()
        and role.replace("_", "a").isalnum()
        and role == role.lower()
        and not role[0].isdigit()
    )
    return role if plain else '"' + role.replace('"', '""') + '"'
