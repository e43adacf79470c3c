"""``support-tool audit``: where the audit trail is kept, and setting up a team store.

* ``audit init-db URL`` (IT, as the database's owner) creates the team store on PostgreSQL;
* ``audit use URL`` points this desk at it (the password goes to the keyring), and
  ``audit use --embedded`` returns to the embedded file;
* ``audit status`` says which store is in use and whether a team store can be reached;
* ``audit verify`` recomputes every seal of the team store on this machine (as ``history
  verify`` does), with the server's own check of its chain as a second opinion;
* ``audit import [FILE]`` verifies a desk's embedded history and appends its events to the
  team store, marked imported, once.

Exit status: 0 ok; 2 invalid input; 4 configuration (store unreachable, not set up, the
``team`` extra missing); 5 the team trail failed verification. Module-level imports stay
light: a desk without a team store never loads the database driver.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from support_tool.errors import ConfigurationError, InvalidInput
from support_tool.exit_status import ExitStatus

if TYPE_CHECKING:
    from support_tool.audit.team_store import ChainReport
    from support_tool.audit.team_verify import Recomputed
    from support_tool.config.team_settings import TeamStoreSetting

EXIT_OK, EXIT_CONFIG, EXIT_TAMPERED = ExitStatus.OK, ExitStatus.CONFIG, ExitStatus.TAMPERED


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    audit = commands.add_parser(
        "audit", help="where the audit trail is kept: this desk's file or a team store"
    )
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init-db",
        help="IT: create the team audit store in a PostgreSQL database (as its owner)",
    )
    init.add_argument("url", metavar="URL", help="libpq URL, without a password")
    init.add_argument(
        "--desk-role",
        default=None,
        metavar="NAME",
        help="group role for desks: append and read (default support_tool_desk)",
    )
    init.add_argument(
        "--auditor-role",
        default=None,
        metavar="NAME",
        help="group role for auditors: read only (default support_tool_auditor)",
    )
    use = actions.add_parser(
        "use",
        help="keep this desk's audit trail in a team store (password from standard input)",
    )
    target = use.add_mutually_exclusive_group(required=True)
    target.add_argument("url", nargs="?", metavar="URL", help="libpq URL, or 'none'")
    target.add_argument(
        "--embedded", action="store_true", help="return to the embedded file on this desk"
    )
    actions.add_parser("status", help="which audit store is in use, and can it be reached")
    verify = actions.add_parser(
        "verify",
        help="check the team store's chain of seals here and on the server: exit 5 if "
        "anything was altered",
    )
    verify.add_argument("--json", action="store_true")
    imported = actions.add_parser(
        "import",
        help="verify a desk's own history file, then append its events to the team store "
        "(once: running it again imports nothing new)",
    )
    imported.add_argument(
        "file", nargs="?", metavar="FILE", help="history file (default: this desk's own)"
    )


def cmd_audit(args: argparse.Namespace) -> int:
    if args.demo and args.action != "status":
        raise InvalidInput(f"--demo does not apply to 'audit {args.action}'.")
    if args.action == "init-db":
        return _init_db(args)
    if args.action == "use":
        if args.embedded or args.url.strip().lower() == "none":
            return _use_embedded()
        return _use_team(args.url, sys.stdin)
    if args.action == "verify":
        return _verify(args.json)
    if args.action == "import":
        return _import(args.file)
    return _status(args.demo)


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _read_password(prompt: str, stdin: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass(prompt)
    return stdin.read().strip()


def _init_db(args: argparse.Namespace) -> int:
    from support_tool.audit import team_admin
    from support_tool.audit.team_store import PasswordNeeded, driver
    from support_tool.config.team_settings import clean_url

    url = clean_url(args.url)
    desk = team_admin.clean_role(args.desk_role or team_admin.DEFAULT_DESK_ROLE, "--desk-role")
    auditor = team_admin.clean_role(
        args.auditor_role or team_admin.DEFAULT_AUDITOR_ROLE, "--auditor-role"
    )
    driver()  # say how to install the extra before anything else
    try:
        report = team_admin.init_db(url, None, desk, auditor, what=url)
    except PasswordNeeded:
        password = _read_password("Password of the database owner (not shown): ", sys.stdin)
        if not password:
            raise InvalidInput("The server asks for a password and none was given.") from None
        report = team_admin.init_db(url, password, desk, auditor, what=url)
    print(team_admin.describe(report, desk, auditor))
    return EXIT_OK


def _keyring() -> Any:
    from support_tool.config.secret_store import KeyringSecrets

    return KeyringSecrets()


def _use_team(raw_url: str, stdin: TextIO) -> int:
    from support_tool.audit.team_store import driver
    from support_tool.config import team_settings

    url = team_settings.clean_url(raw_url)
    driver()
    before = _file_setting()
    password = _read_password(
        "Password of the database user (not shown; Enter if it needs none): ", stdin
    )
    if password:
        _keyring().set(team_settings.KEYRING_USER, password)  # no keyring: nothing is saved
    elif before is not None and before.password_in_keyring:
        _forget_password()
    path = team_settings.save(url, password_in_keyring=bool(password))
    where = "in the keyring" if password else "none stored"
    print(f"This desk now keeps its audit trail in the team store {url} (password: {where}).")
    print(f"Setting saved in {path}.")
    if os.environ.get(team_settings.URL_ENV, "").strip():
        _err(f"Note: {team_settings.URL_ENV} is set in the environment and takes precedence.")
    return _status(demo=False)


def _file_setting() -> TeamStoreSetting | None:
    """The setting kept in this desk's file; None also when that file is damaged."""
    from support_tool.config import team_settings

    try:
        return team_settings.load_file()
    except ConfigurationError:
        return None


def _forget_password() -> None:
    from support_tool.config.team_settings import KEYRING_USER

    try:
        _keyring().delete(KEYRING_USER)
    except ConfigurationError as exc:
        _err(f"The team store's old password could not be removed from the keyring: {exc}")


def _use_embedded() -> int:
    from support_tool.config import paths, team_settings

    before = _file_setting()
    had = team_settings.forget()
    if before is not None and before.password_in_keyring:
        _forget_password()
    where = paths.history_file()
    print(
        f"This desk keeps its audit trail in the embedded file {where}."
        if had
        else f"This desk already kept its audit trail in the embedded file {where}."
    )
    if team_settings.load() is not None:
        _err(
            f"But {team_settings.URL_ENV} is set in the environment and takes precedence: "
            "unset it to use the embedded file."
        )
        return EXIT_CONFIG
    return EXIT_OK


def _status(demo: bool) -> int:
    from support_tool.config import paths, team_settings

    setting = team_settings.load()
    if setting is None or demo:
        print(f"Audit trail: embedded file {paths.history_file(demo=demo)} (this desk only).")
        return EXIT_OK
    stored = "password in the keyring" if setting.password_in_keyring else "no password stored"
    print(f"Audit trail: team store {setting.display_url} ({stored}; set by {setting.source}).")
    from support_tool.audit.team_store import driver

    driver()  # without the 'team' extra: say how to install it
    problem = _check_team(setting)
    if problem:
        _err(problem)
        return EXIT_CONFIG
    return EXIT_OK


def _password(setting: TeamStoreSetting) -> str | None:
    from support_tool.audit.open_store import team_password

    return team_password(setting)


def _verify(as_json: bool) -> int:
    """Every seal, the numbering, the links and the head recomputed on this machine (the
    same code as ``history verify``, trusting no server code), then the server's own check
    (``chain_problems()``) as a second opinion: exit 5 if either finds anything."""
    from support_tool.audit.team_store import TeamStore
    from support_tool.config import team_settings

    setting = team_settings.load()
    if setting is None:
        raise ConfigurationError(
            "This desk keeps its audit trail in the embedded file: check it with "
            "support-tool history verify."
        )
    with TeamStore.open(setting.url, _password(setting), setting.display_url) as store:
        desk = store.recompute_chain()
        server = store.check_chain()
    ok = desk.problem is None and server.ok
    if as_json:
        _print_verified_json(setting.display_url, desk, server)
    elif ok:
        print(
            f"The team audit trail {setting.display_url} holds: {desk.events} events, "
            f"head event {server.head_seq}, seal {desk.head_seal}. Every seal was recomputed "
            "on this machine, and the server's own check agrees."
        )
    else:
        _describe_altered(setting.display_url, desk, server)
    return EXIT_OK if ok else EXIT_TAMPERED


def _print_verified_json(store: str, desk: Recomputed, server: ChainReport) -> None:
    import json

    print(
        json.dumps(
            {
                "ok": desk.problem is None and server.ok,
                "store": store,
                "events": desk.events if desk.problem else server.events,
                "head_seq": server.head_seq,
                "head_seal": server.head_seal,
                "desk": {
                    "ok": desk.problem is None,
                    "events": desk.events,
                    "problem": None
                    if desk.problem is None
                    else {"seq": desk.problem[0], "problem": desk.problem[1]},
                },
                "problems": [{"seq": seq, "problem": text} for seq, text in server.problems],
            }
        )
    )


def _describe_altered(store: str, desk: Recomputed, server: ChainReport) -> None:
    """What each check found, the desk's first: it is the one no server code can sway."""
    _err(f"The team audit trail {store} was altered outside support-tool:")
    if desk.problem is not None:
        _err(
            f"  recomputed on this machine: {desk.problem[1]} "
            f"({desk.events:,} events before it hold)"
        )
    else:
        _err(
            "  recomputed on this machine: every seal and link holds, yet the server's check "
            "below disagrees (its functions may have been changed)"
        )
    if server.ok:
        _err(
            "  the server's own check says it holds: its check or seal functions were "
            "probably replaced, which only a database superuser can do"
        )
    for _, text in server.problems[:20]:
        _err(f"  {text}")
    if len(server.problems) > 20:
        _err(f"  ... and {len(server.problems) - 20} more problems")
    _err("Keep the database as it is (do not repair it) as evidence and tell your supervisor.")


def _check_team(setting: TeamStoreSetting) -> str:
    """Print what the server says about this login; the problem in words, or ''."""
    from support_tool.audit.team_store import connect, readiness

    try:
        password = _password(setting)
    except ConfigurationError as exc:
        return str(exc)
    try:
        with connect(setting.url, password, what=setting.display_url) as conn:
            ready = readiness(conn)
    except ConfigurationError as exc:
        return f"Reachable: no. {exc} Until this is fixed, this desk cannot record actions there."
    print(f"Reachable: yes (PostgreSQL {ready.server_version}, signed in as {ready.user!r}).")
    if not ready.initialised:
        return (
            "Initialised: no. IT must first run, as the database's owner: "
            "support-tool audit init-db URL"
        )
    if ready.can_append:
        rights = "may record actions"
    elif ready.can_read:
        rights = "may only read the trail (an auditor): it cannot record actions"
    else:
        rights = "may neither record nor read: grant it the desk role"
    print(
        f"Initialised: yes ({ready.events if ready.events is not None else '?'} events); "
        f"this login {rights}."
    )
    return ""


def _import(file: str | None) -> int:
    """``audit import``: verify the file (exit 5, nothing imported, if it does not), then
    append what the team store lacks and say what was imported."""
    import contextlib
    from pathlib import Path

    from support_tool.audit import events, team_import
    from support_tool.audit.log import AuditLog
    from support_tool.audit.open_store import open_team
    from support_tool.config import paths, team_settings

    setting = team_settings.load()
    if setting is None:
        raise ConfigurationError(
            "This desk keeps its audit trail in the embedded file: there is no team store to "
            "import into. Point the desk at one first: support-tool audit use URL"
        )
    path = Path(file) if file else paths.history_file()
    if not path.is_file():
        message = f"There is no audit history at {path}."
        if file:
            raise InvalidInput(message)
        raise ConfigurationError(message + " Nothing to import.")
    try:
        with AuditLog(path) as local:
            verified = local.verify()
    except ConfigurationError as exc:  # damaged, newer or unreadable
        verified = events.unreadable(str(exc))
    if not verified.ok:
        _err(verified.describe())
        _err("Nothing was imported: a history that does not verify is never copied.")
        return ExitStatus.TAMPERED
    report = team_import.ImportReport(path, verified.checked)
    found = team_import.file_events(path, verified.checked)
    with contextlib.closing(open_team(setting)) as team:
        team.run(lambda link: team_import.import_events(link, report, found))
        print(report.describe(team.where))
    return ExitStatus.OK
