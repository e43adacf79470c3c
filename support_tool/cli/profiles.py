"""``support-tool profile`` and ``support-tool secret``: what is set up on this desk, the
provider profiles and their secret keys (kept in the OS keyring, never in a file or an
argument)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from support_tool.errors import ConfigurationError, InvalidInput
from support_tool.exit_status import ExitStatus
from support_tool.provider import contract
from support_tool.provider.validation import CONCURRENCY_SPAN

if TYPE_CHECKING:
    from support_tool.config.profiles import ProfileSet, ProfileStore
    from support_tool.config.secret_store import KeyringSecrets


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``profile`` and ``secret`` commands and their actions."""
    _add_profile_parser(commands)
    _add_secret_parser(commands)


def _add_profile_parser(commands: argparse._SubParsersAction[Any]) -> None:
    profile = commands.add_parser("profile", help="add, list or remove provider profiles")
    profile_cmds = profile.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = profile_cmds.add_parser("add", help="add a profile")
    add.add_argument("name")
    add.add_argument("--url", required=True, help="the API URL the provider gave you")
    add.add_argument(
        "--timeout",
        type=float,
        default=contract.DEFAULT_DEADLINE_S,
        help="total deadline for one request, in seconds (default 15)",
    )
    add.add_argument("--ca-bundle", default="", help="PEM file of CAs to trust for this profile")
    add.add_argument(
        "--proxy",
        default="",
        metavar="URL",
        help="http://host:port of a proxy to use for this profile (the environment's "
        "HTTPS_PROXY and the like are ignored)",
    )
    add.add_argument("--production", action="store_true", help="mark as production (live players)")
    add.add_argument(
        "--concurrency",
        type=int,
        default=contract.DEFAULT_BATCH_CONCURRENCY,
        help=f"batch requests at a time, {CONCURRENCY_SPAN} "
        f"(default {contract.DEFAULT_BATCH_CONCURRENCY})",
    )
    add.add_argument("--default", action="store_true", help="make it the default profile")
    listing = profile_cmds.add_parser("list", help="list profiles")
    listing.add_argument("--json", action="store_true")
    remove = profile_cmds.add_parser("remove", help="remove a profile and its secret key")
    remove.add_argument("name")
    default = profile_cmds.add_parser("default", help="make a profile the default")
    default.add_argument("name")


def _add_secret_parser(commands: argparse._SubParsersAction[Any]) -> None:
    secret = commands.add_parser("secret", help="store or delete a profile's secret key")
    secret_cmds = secret.add_subparsers(dest="action", metavar="ACTION", required=True)
    secret_set = secret_cmds.add_parser(
        "set", help="store the secret key, read from standard input (never an argument)"
    )
    secret_set.add_argument("name")
    secret_delete = secret_cmds.add_parser("delete", help="delete the secret key")
    secret_delete.add_argument("name")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _profile_store() -> ProfileStore:
    from support_tool.config.profiles import ProfileStore

    return ProfileStore()


def _keyring() -> KeyringSecrets:
    from support_tool.config.secret_store import KeyringSecrets

    return KeyringSecrets()


def cmd_profile(args: argparse.Namespace) -> int:
    from support_tool.config.profiles import make_profile

    store = _profile_store()
    current = store.load()
    if args.action == "add":
        profile = make_profile(
            args.name,
            args.url,
            args.timeout,
            args.ca_bundle,
            args.production,
            args.concurrency,
            args.proxy,
        )
        if current.get(profile.name):
            raise InvalidInput(
                f"A profile named {profile.name!r} already exists. Remove it first "
                f"(support-tool profile remove {profile.name}) or choose another name."
            )
        store.save(current.with_profile(profile, make_default=args.default))
        print(
            f"Added profile {profile.name!r} ({profile.url}"
            f"{f', via proxy {profile.proxy}' if profile.proxy else ''}"
            f"{', production' if profile.production else ''}"
            f"{', default' if args.default else ''})."
        )
        print(f"Now store its secret key: support-tool secret set {profile.name}")
        return ExitStatus.OK
    if args.action == "list":
        return _list_profiles(current, args.json)
    if args.action == "default":
        found = current.resolve(args.name)
        store.save(current.with_profile(found, make_default=True))
        print(f"{found.name!r} is now the default profile.")
        return ExitStatus.OK
    # remove
    found = current.resolve(args.name)
    store.save(current.without(found.name))
    print(f"Removed profile {found.name!r}.")
    try:
        if _keyring().delete(found.name):
            print("Its secret key was deleted from the keyring.")
    except ConfigurationError as exc:
        _err(f"Its secret key could not be deleted from the keyring: {exc}")
    return ExitStatus.OK


def _list_profiles(current: ProfileSet, as_json: bool) -> int:
    from support_tool.provider.environment import environment_notices

    secrets = _keyring()
    keyring_problem = ""

    def secret_state(name: str) -> str:
        nonlocal keyring_problem
        if keyring_problem:
            return "unavailable"
        try:
            return "stored" if secrets.has(name) else "missing"
        except ConfigurationError as exc:
            keyring_problem = str(exc)
            return "unavailable"

    rows = [
        {
            "name": p.name,
            "url": p.url,
            "timeout": p.timeout,
            "ca_bundle": p.ca_bundle,
            "proxy": p.proxy,
            "production": p.production,
            "concurrency": p.concurrency,
            "default": p.name == current.default,
            "secret": secret_state(p.name),
        }
        for p in current.profiles
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        print("No profiles yet. Add one: support-tool profile add NAME --url URL")
    else:
        for row in rows:
            flags = [
                f
                for f, on in (("default", row["default"]), ("PRODUCTION", row["production"]))
                if on
            ]
            print(
                f"{row['name']}  {row['url']}  timeout {row['timeout']:g}s  secret {row['secret']}"
                + (f"  proxy {row['proxy']}" if row["proxy"] else "")
                + (f"  [{', '.join(flags)}]" if flags else "")
            )
    if keyring_problem:
        _err(keyring_problem)
    for notice in environment_notices():
        _err(notice)
    return ExitStatus.OK


def _read_secret(name: str, stdin: TextIO) -> str:
    if stdin.isatty():
        first = getpass.getpass(f"Secret key for profile {name!r} (not shown): ")
        second = getpass.getpass("Type it again to confirm: ")
        if first != second:
            raise InvalidInput("The two entries differ; nothing was stored.")
        return first.strip()
    return stdin.read().strip()


def cmd_secret(args: argparse.Namespace) -> int:
    profile = _profile_store().load().resolve(args.name)
    secrets = _keyring()
    if args.action == "set":
        secrets.backend()  # fail before asking for the secret
        secret = _read_secret(profile.name, sys.stdin)
        if not secret:
            raise InvalidInput("No secret key was given on standard input; nothing was stored.")
        secrets.set(profile.name, secret)
        print(f"Secret key for profile {profile.name!r} stored in the keyring.")
        return ExitStatus.OK
    if secrets.delete(profile.name):
        print(f"Secret key for profile {profile.name!r} deleted from the keyring.")
    else:
        print(f"There was no secret key stored for profile {profile.name!r}.")
    return ExitStatus.OK
