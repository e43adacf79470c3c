"""The ``support-tool`` command line: a thin layer over the core, for people and scripts.

Exit status (httpie-style, one per kind of problem): 0 success, 1 provider refusal,
2 invalid input or usage, 3 transport failure, 4 configuration (profile, secret, keyring,
an unreadable configuration file or history), 5 the audit history failed verification
(altered, damaged or unreadable), 70 a defect in support-tool itself (a short message on
stderr; the traceback goes to a report file, never to the terminal). Qt is never imported
here: ``support-tool`` with no command hands over to ``support_tool.gui`` only when the
window is wanted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from support_tool import __version__
from support_tool.cli import window
from support_tool.errors import (
    ConfigurationError,
    InvalidInput,
    SupportToolError,
)
from support_tool.exit_status import ExitStatus
from support_tool.provider.validation import has_undecodable, storable

if TYPE_CHECKING:
    from support_tool.ops.close import CloseAttempt
    from support_tool.ops.runtime import Runtime


log = logging.getLogger("support_tool")


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a short hint (its default, made explicit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(ExitStatus.USAGE, f"{self.prog}: {message}\n")


# Each command's module (under ``support_tool.cli``), in the order ``--help`` lists them;
# ``close`` lives here. A command imports only its own module (see build_parser).
COMMAND_MODULES: dict[str, str] = {
    "profile": "profiles",
    "secret": "profiles",
    "close": "",
    "batch": "batch",
    "group": "batch",
    "audit": "audit",
    "history": "history",
    "sandbox": "sandbox",
}


def _cli_module(name: str) -> Any:
    """One command's module, imported by name rather than from a string, so that the
    standalone app's import analysis (PyInstaller) sees and ships every one of them."""
    if name == "profiles":
        from support_tool.cli import profiles as module
    elif name == "batch":
        from support_tool.cli import batch as module  # type: ignore[no-redef]
    elif name == "audit":
        from support_tool.cli import audit as module  # type: ignore[no-redef]
    elif name == "history":
        from support_tool.cli import history as module  # type: ignore[no-redef]
    elif name == "sandbox":
        from support_tool.cli import sandbox as module  # type: ignore[no-redef]
    else:
        raise ValueError(f"no command module {name!r}")
    return module


def command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs when that is plain to see without argparse: ``""`` for
    none (the window), the command's name when only ``--demo`` comes before it; None
    otherwise (``--help``, an abbreviated option, a mistyped command), which takes the
    whole parser, so that help and error messages list every command."""
    for arg in argv:
        if arg == "--demo":
            continue
        return arg if arg in COMMAND_MODULES else None
    return ""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or, given the command about to run (see
    :func:`command_named`), for that one alone: building all of them costs ~20 ms and
    imports every command's module, a third of what a ``close`` spends before its
    request. ``--version``'s module (and the ``json`` it reads build facts with) is imported
    here: a plain start of the window builds no parser."""
    from support_tool.version import VersionAction

    parser = _Parser(
        prog="support-tool",
        description="Close stuck player game sessions through the provider's Close Session API. "
        "With no command, opens the window.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use an embedded sandbox provider (no credentials needed; separate demo history)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if command is None:
        modules = list(dict.fromkeys(COMMAND_MODULES.values()))
    else:
        modules = [COMMAND_MODULES[command]] if command else []
    for module in modules:
        if module:
            _cli_module(module).add_parsers(commands)
        else:
            _add_close_parser(commands)
    return parser


def _add_close_parser(commands: argparse._SubParsersAction[Any]) -> None:
    close = commands.add_parser("close", help="close a player's or terminal's session")
    close.add_argument("login")
    close.add_argument("--game", default=None, metavar="ID", help="close only this game's session")
    close.add_argument(
        "--clear-history",
        action="store_true",
        help="also remove the unfinished round so nobody can complete it",
    )
    close.add_argument("--reason", default="", metavar="TEXT", help="reason or ticket reference")
    close.add_argument("--profile", default=None, metavar="NAME")
    close.add_argument("--json", action="store_true", help="print one JSON object")
    close.add_argument(
        "--yes",
        action="store_true",
        help="do not ask to confirm clearing history on a production profile (scripts)",
    )


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _refuse_close(runtime: Runtime, args: argparse.Namespace, message: str) -> CloseAttempt:
    """Record a close refused by the command line itself (before the service is asked), as
    every refused input is recorded, and return it for printing."""
    from support_tool.ops.close import CloseAttempt
    from support_tool.provider.outcome import CloseResult, Outcome

    result = CloseResult(Outcome.INVALID_INPUT, message, "Nothing was sent.")
    profile = runtime.service.profile(args.profile)
    row_id = runtime.service.history.record(
        result,
        profile=profile.name if profile else (args.profile or ""),
        api_host=profile.api_host if profile else "",
        login=args.login,
        game_id=args.game,
        clear_history=args.clear_history,
        reason=args.reason,
    )
    return CloseAttempt(result, row_id, profile, None)


def _production_clear_refusal(runtime: Runtime, args: argparse.Namespace) -> str:
    """Why clearing history on a production profile is not confirmed ('' when it is, or when
    it does not apply). As in the window, the operator types the login; Enter cancels."""
    from support_tool.cli.output import safe
    from support_tool.provider.request import CloseRequest
    from support_tool.provider.validation import clean_reason

    profile = runtime.service.profile(args.profile)
    if not args.clear_history or args.yes or profile is None or not profile.production:
        return ""
    try:
        request = CloseRequest.from_input(args.login, args.game, True)
        clean_reason(args.reason)
    except InvalidInput:
        return ""  # the close refuses it anyway, with the reason; no point asking first
    what = f"the session of {safe(request.login)}"
    what += f" in game {safe(request.game_id)}" if request.game_id else " (all games)"
    what += f" on PRODUCTION profile {profile.name!r}, removing the unfinished round"
    if not sys.stdin.isatty():
        return (
            f"This would close {what}. Not confirmed: at a terminal you are asked to type the "
            "login; a script must add --yes."
        )
    print(f"This closes {what}.", file=sys.stderr)
    print("Type the login to go ahead (Enter cancels): ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip() != request.login:
        return "Not confirmed: the login typed did not match."
    return ""


def cmd_close(args: argparse.Namespace) -> int:
    """``support-tool close``. Its output's modules (``json``, ``cli.output``) are imported
    here: the window, started through this module, has no use for them before its first
    paint."""
    import json

    from support_tool.cli.output import close_fields, close_subject, describe_close
    from support_tool.ops.runtime import open_runtime

    with open_runtime(demo=args.demo) as runtime:
        if args.profile is not None and has_undecodable(args.profile):
            closed = _refuse_close(
                runtime,
                args,
                "The profile name is not valid UTF-8 text; check the terminal's encoding.",
            )
        elif refusal := _production_clear_refusal(runtime, args):
            closed = _refuse_close(runtime, args, refusal)
        else:
            closed = runtime.service.close(
                args.login, args.game, args.clear_history, reason=args.reason, profile=args.profile
            )
    result = closed.result
    if args.json:
        fields = {**close_subject(closed, args), **close_fields(closed)}
        print(json.dumps(fields, ensure_ascii=False))
    else:
        print(describe_close(closed, args), file=sys.stdout if result.ok else sys.stderr)
    return result.exit_status


# Qt's standard command-line options (QGuiApplication/QApplication): the window passes
# them to Qt, as any Qt program does, instead of refusing them as unknown.
QT_OPTIONS_WITH_VALUE = frozenset(
    {
        "-style",
        "-stylesheet",
        "-platform",
        "-platformpluginpath",
        "-platformtheme",
        "-plugin",
        "-qwindowgeometry",
        "-qwindowtitle",
        "-qwindowicon",
        "-display",
        "-geometry",
        "-session",
        "-name",
        "-title",
        "-visual",
    }
)
QT_FLAGS = frozenset({"-reverse", "-widgetcount", "-nograb", "-dograb", "-sync"})


def split_qt_arguments(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(our arguments, Qt's arguments): Qt's single-dash options, with their value."""
    ours: list[str] = []
    qt: list[str] = []
    items = iter(argv)
    for arg in items:
        name = arg.split("=", 1)[0]
        if name in QT_FLAGS or (name in QT_OPTIONS_WITH_VALUE and "=" in arg):
            qt.append(arg)
        elif name in QT_OPTIONS_WITH_VALUE:
            qt.append(arg)
            value = next(items, None)
            if value is not None:
                qt.append(value)
        else:
            ours.append(arg)
    return ours, qt


def _handler(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command's function, its module imported when the command runs (not at start)."""

    def run(args: argparse.Namespace) -> int:
        result: int = getattr(_cli_module(module), name)(args)
        return result

    return run


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "profile": _handler("profiles", "cmd_profile"),
    "batch": _handler("batch", "cmd_batch"),
    "group": _handler("batch", "cmd_group"),
    "secret": _handler("profiles", "cmd_secret"),
    "close": cmd_close,
    "history": _handler("history", "cmd_history"),
    "sandbox": _handler("sandbox", "cmd_sandbox"),
    "audit": _handler("audit", "cmd_audit"),
}


def _undecodable_argument(args: argparse.Namespace) -> InvalidInput | None:
    """The first argument that is not UTF-8 text (bytes typed in another encoding), as an
    error to give; ``close`` checks its own, so that the refusal is recorded in the history."""
    if args.command == "close":
        return None
    for name, value in vars(args).items():
        if isinstance(value, str) and has_undecodable(value):
            option = "argument" if name in {"name", "file"} else f"--{name.replace('_', '-')}"
            return InvalidInput(
                f"The {option} ({storable(value)[:80]}) is not valid UTF-8 text; check the "
                "terminal's encoding and type it again."
            )
    return None


def _tolerant_output() -> None:
    """Never fail on printing: text that is not UTF-8 (an echoed argument, a value altered in
    the history) is written as escapes instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a closed stream: leave it
                reconfigure(errors="backslashreplace")


def _redacted(argv: Sequence[str]) -> list[str]:
    """The command line for a report: the sandbox's --secret value left out."""
    shown: list[str] = []
    hide = False
    for arg in argv:
        shown.append("***" if hide else storable(arg)[:200])
        hide = arg == "--secret"
        if arg.startswith("--secret="):
            shown[-1] = "--secret=***"
    return shown


def _report_bug(error: BaseException, argv: Sequence[str]) -> int:
    """A defect: log the traceback and write it to a report file; tell the operator briefly,
    without a traceback, where the report is. Exit status 70."""
    import platform
    from datetime import UTC, datetime

    from support_tool.config import paths
    from support_tool.config.logsetup import configure_logging

    configure_logging()  # already, unless the defect came first (then: now, not stderr)

    report = (
        f"support-tool {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"command: support-tool {' '.join(_redacted(argv))}\n\n"
        + "".join(traceback.format_exception(error))
    )
    log.error("unexpected error (a defect in support-tool)\n%s", report)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = paths.log_dir() / f"crash-{stamp}-{os.getpid()}.txt"
    try:
        paths.private_file(path).write_text(storable(report), encoding="utf-8")
        where = f"A report was written to {path}"
    except OSError as exc:
        where = f"No report could be written to {path} ({exc.strerror}); see {paths.log_file()}"
    _err(
        f"support-tool stopped on an unexpected problem ({type(error).__name__}): a defect in "
        "support-tool, not something you did. Anything already recorded stays in the audit "
        f"history. {where}: send it to whoever maintains support-tool."
    )
    return ExitStatus.BUG


def _log_thread_errors() -> None:
    """A defect on a worker thread (a batch's) is logged with its traceback and said in one
    line, instead of Python printing the traceback to the terminal."""

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        report = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        log.error("unexpected error on a worker thread (a defect in support-tool)\n%s", report)
        _err(
            f"support-tool hit an unexpected problem on a worker thread "
            f"({args.exc_type.__name__}); the details are in the log."
        )

    if threading.excepthook is threading.__excepthook__:  # leave a test runner's hook alone
        threading.excepthook = hook


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_output()
    _log_thread_errors()
    arguments = list(sys.argv[1:] if argv is None else argv)
    ours, qt_arguments = split_qt_arguments(arguments)
    try:
        args = window.arguments(ours) or build_parser(command_named(ours)).parse_args(ours)
        if args.command is not None and qt_arguments:
            # Qt's options only open a window
            args = build_parser(command_named(arguments)).parse_args(arguments)
        bad_argument = _undecodable_argument(args)
        if bad_argument is not None:
            raise bad_argument
        if args.command is None:
            return window.open_window(args.demo, qt_arguments)  # its log: after its first paint
        from support_tool.config.logsetup import configure_logging

        configure_logging()
        if args.demo and args.command in ("profile", "secret", "sandbox"):
            raise InvalidInput(f"--demo does not apply to '{args.command}'.")
        return COMMANDS[args.command](args)
    except InvalidInput as exc:
        _err(f"Invalid input: {exc}")
        return ExitStatus.USAGE
    except ConfigurationError as exc:
        _err(str(exc))
        return ExitStatus.CONFIG
    except SupportToolError as exc:  # pragma: no cover - every subclass is handled above
        _err(str(exc))
        return ExitStatus.TRANSPORT
    except KeyboardInterrupt:
        _err("Interrupted.")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``support-tool history | head``): stop quietly, as cat does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitStatus.OK
    except Exception as exc:  # noqa: BLE001 - the last line: a defect, reported, never a traceback
        return _report_bug(exc, arguments)
