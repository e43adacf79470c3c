"""``support-tool batch`` and ``support-tool group``: many terminals from the command line.

Exit status of ``batch``, the first that applies: 130 when cancelled with Ctrl+C (rows in
flight are still recorded); 4 if the audit history could not be written mid-batch; 3 if
any row could not reach the provider, ended unknown or was never sent; 1 if the provider
refused any; 4 when a configuration problem stopped the batch; 2 if the list had invalid
lines or was refused as a whole (over a bound); else 0 (all closed, or nothing to clear).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from support_tool.cli.output import safe
from support_tool.errors import InvalidInput, SupportToolError
from support_tool.exit_status import ExitStatus
from support_tool.provider.outcome import Outcome
from support_tool.provider.validation import (
    CONCURRENCY_RANGE,
    CONCURRENCY_SPAN,
    clean_concurrency,
)

if TYPE_CHECKING:
    from support_tool.audit.records import AuditRecord
    from support_tool.config.groups import GroupSource
    from support_tool.ops.batch import BatchRun
    from support_tool.ops.batch_summary import BatchSummary
    from support_tool.ops.runtime import Runtime
    from support_tool.ops.terminals import Terminal, TerminalList


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    batch = commands.add_parser(
        "batch",
        help="close many sessions: a list file (login[,gameId] per line), '-' or a group",
    )
    batch.add_argument("file", nargs="?", metavar="FILE|-", help="CSV or text list; - is stdin")
    source = batch.add_mutually_exclusive_group()
    source.add_argument("--group", metavar="NAME", help="close every terminal of a saved group")
    source.add_argument(
        "--retry-failed",
        metavar="BATCH_ID",
        help="run again the rows of an earlier batch (and its retries) that may close on a "
        "second try: not sent, transport failures, unknown, provider errors 99/100",
    )
    batch.add_argument(
        "--include-refused",
        action="store_true",
        help="with --retry-failed: also resend rows the provider refused for good (e.g. 17)",
    )
    batch.add_argument("--game", metavar="ID", help="game id for rows that do not name one")
    batch.add_argument(
        "--clear-history", action="store_true", help="also remove each unfinished round"
    )
    batch.add_argument("--reason", default="", metavar="TEXT", help="reason or ticket reference")
    batch.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"requests at a time, {CONCURRENCY_SPAN} (default: the profile's)",
    )
    batch.add_argument(
        "--max-rps", type=float, metavar="R", help="at most R requests started per second"
    )
    batch.add_argument("--profile", metavar="NAME")
    batch.add_argument(
        "--json", action="store_true", help="one JSON object per row, then a summary"
    )
    batch.add_argument("--yes", action="store_true", help="do not ask to confirm (production)")

    group = commands.add_parser("group", help="saved groups of terminals")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="save a group from a list file (or - for stdin)")
    add.add_argument("name")
    add.add_argument("file", metavar="FILE|-")
    add.add_argument("--replace", action="store_true", help="replace a group of the same name")
    actions.add_parser("list", help="list groups")
    show = actions.add_parser("show", help="print a group as CSV (login,gameId)")
    show.add_argument("name")
    remove = actions.add_parser("remove", help="delete a group")
    remove.add_argument("name")


# --- reading lists ---------------------------------------------------------------------


def _read_list(source: str, game: str | None) -> TerminalList:
    """The one reader for ``batch`` and ``group add``: same bounds, same messages. Standard
    input is read as a stream, so an endless pipe is refused at a bound, not buffered."""
    from support_tool.ops.terminals import parse_terminals, read_terminal_file, read_terminal_stream

    if source == "-":
        if hasattr(sys.stdin, "buffer"):
            return read_terminal_stream(sys.stdin.buffer, "Standard input", game)
        return parse_terminals(sys.stdin.read(), game)  # a text stream (embedding, tests)
    return read_terminal_file(Path(source), game)


def _print_list_notes(parsed: TerminalList, lines: int) -> None:
    for notice in parsed.notices():
        print(notice, file=sys.stderr)
    for line in parsed.invalid[1 : lines + 1]:
        print(f"  line {line.line}: {safe(line.reason)}", file=sys.stderr)


def _groups(demo: bool) -> GroupSource:
    from support_tool.config.groups import GroupStore, MemoryGroups, demo_groups

    return MemoryGroups(demo_groups()) if demo else GroupStore()


def _find_group(groups: GroupSource, name: str) -> list[Terminal]:
    from support_tool.ops.terminals import plural

    saved = groups.load()
    found = saved.get(name)
    if found is None:
        known = ", ".join(
            f"{shell_quote(n)} ({plural(len(saved[n].terminals), 'terminal')})"
            for n in sorted(saved, key=str.casefold)
        )
        raise InvalidInput(
            f"There is no group named {shell_quote(name)} (groups: {known or 'none yet'}). "
            "Save one with: support-tool group add NAME FILE"
        )
    return list(found.terminals)


def shell_quote(name: str) -> str:
    """A group name as it is typed after --group: quoted, so spaces and brackets are kept."""
    return "'" + name.replace("'", "'\\''") + "'"


def _record_refused_list(args: argparse.Namespace, batch_id: str, message: str) -> None:
    """A list refused as a whole (over a bound, not text) is refused input like any other:
    one history row says so, tagged with the batch id the run would have had."""
    from support_tool.ops.runtime import open_runtime
    from support_tool.provider.outcome import CloseResult

    source = "(standard input)" if args.file == "-" else args.file
    with open_runtime(demo=args.demo) as runtime:
        try:
            profile = runtime.service.profile(args.profile)
        except SupportToolError:
            profile = None
        runtime.service.history.record(
            CloseResult(Outcome.INVALID_INPUT, f"List not sent: {message}"),
            profile=profile.name if profile else (args.profile or ""),
            api_host=profile.api_host if profile else "",
            login=f"list {source}",
            game_id=args.game,
            clear_history=args.clear_history,
            reason=args.reason,
            batch_id=batch_id,
        )


def _with_game(terminals: list[Terminal], game: str | None) -> list[Terminal]:
    from support_tool.ops.terminals import Terminal
    from support_tool.provider.validation import clean_game_id

    default = clean_game_id(game)
    if default is None:
        return terminals
    return [t if t.game_id else Terminal(t.login, default) for t in terminals]


@dataclass(frozen=True)
class RetrySource:
    """What ``--retry-failed`` sends and how: the rows worth another try, and the profile,
    clear-history choice and reason the batch itself ran with (read from its history
    rows), so a retry never goes somewhere else, or differently, under the batch's id."""

    terminals: list[Terminal]
    profile: str
    clear_history: bool
    reason: str


def _retry_list(demo: bool, batch_id: str, include_refused: bool) -> RetrySource:
    """Rows of an earlier batch whose latest attempt (across the batch and its retries)
    may close on a second try; permanent refusals only with ``include_refused``. Says on
    standard error what is left out and why, counted by reason."""
    from collections import Counter

    from support_tool.audit.open_store import open_store
    from support_tool.ops.batch_summary import left_out_text, retry_verdict
    from support_tool.ops.terminals import Terminal

    latest: dict[Terminal, tuple[bool, str]] = {}
    origin: AuditRecord | None = None
    with contextlib.closing(open_store(demo)) as store:  # the configured store, team or file
        for r in store.query(batch_id=batch_id):  # newest first: the first row is the latest
            terminal = Terminal(r.login, r.game_id or None)
            if terminal not in latest:
                latest[terminal] = retry_verdict(
                    r.outcome, r.error_code, r.clear_history, r.description
                )
            if r.batch_id == batch_id:
                origin = r  # ends as the batch's first row: how the batch itself ran
    if origin is None:
        raise InvalidInput(f"The history has no batch {batch_id!r}.")
    chosen: list[Terminal] = []
    refused: Counter[str] = Counter()
    for terminal, (again, why) in reversed(latest.items()):
        if again or (why and include_refused):
            chosen.append(terminal)
        elif why:
            refused[why] += 1
    if refused:
        print(
            f"Left out, refused by the provider for good (they would fail again): "
            f"{left_out_text(refused)}. Add --include-refused to send them again anyway.",
            file=sys.stderr,
        )
    return RetrySource(chosen, origin.profile, origin.clear_history, origin.reason)


def _as_the_batch_ran(args: argparse.Namespace, source: RetrySource) -> None:
    """A retry takes the batch's profile, clear-history choice and reason; an option that
    says otherwise is refused rather than silently sending elsewhere or differently."""
    batch = args.retry_failed
    if args.profile and source.profile and args.profile != source.profile:
        raise InvalidInput(
            f"Batch {batch} ran on profile {source.profile!r}; its retry goes to the same "
            f"profile. Leave out --profile {args.profile} (or start a new batch from a list)."
        )
    if args.clear_history and not source.clear_history:
        raise InvalidInput(
            f"Batch {batch} ran without clear history; its retry does the same. Leave out "
            "--clear-history (or start a new batch from a list)."
        )
    args.profile = source.profile or args.profile
    args.clear_history = source.clear_history
    args.reason = args.reason or source.reason


# --- batch -----------------------------------------------------------------------------


def _confirm(count: int, profile_name: str, clear: bool, stdin: TextIO, assume_yes: bool) -> None:
    what = f"{count:,} session{'s' if count != 1 else ''} on PRODUCTION profile {profile_name!r}"
    what += ", removing unfinished rounds" if clear else ""
    if assume_yes:
        return
    if not stdin.isatty():
        raise InvalidInput(f"This closes {what}. Add --yes to confirm when not at a terminal.")
    print(f"This closes {what}.", file=sys.stderr)
    answer = input(f"Type the number of sessions ({count}) to go ahead: ").strip()
    if answer.replace(",", "") != str(count):
        raise InvalidInput("Not confirmed; nothing was sent.")


def cmd_batch(args: argparse.Namespace) -> int:
    """Read the list, confirm (production), run it with progress, report: each its own step,
    so that each can be read (and changed) without the others."""
    from support_tool.cli.batch_report import report_batch
    from support_tool.ops.batch_summary import new_batch_id, retry_batch_id
    from support_tool.ops.runtime import open_runtime

    _check_batch_arguments(args)
    batch_id = retry_batch_id(args.retry_failed) if args.retry_failed else new_batch_id()
    parsed = _read_batch_list(args, batch_id)
    _print_list_notes(parsed, 5)
    with open_runtime(demo=args.demo) as runtime:
        _confirm_batch(runtime, args, parsed)
        profile = runtime.service.profile(args.profile)
        outcome = _run_batch(runtime, args, parsed, batch_id)
    if isinstance(outcome, ExitStatus):
        return outcome
    summary, interrupted = outcome
    return report_batch(args, parsed, summary, interrupted, profile)


def _check_batch_arguments(args: argparse.Namespace) -> None:
    sources = [s for s in (args.file, args.group, args.retry_failed) if s]
    if len(sources) != 1:
        raise InvalidInput(
            "Give one list: FILE (or - for standard input), --group NAME, "
            "or --retry-failed BATCH_ID."
        )
    if args.concurrency is not None:
        clean_concurrency(args.concurrency, f"--concurrency must be {CONCURRENCY_RANGE}.")
    if args.include_refused and not args.retry_failed:
        raise InvalidInput("--include-refused goes with --retry-failed BATCH_ID.")


def _read_batch_list(args: argparse.Namespace, batch_id: str) -> TerminalList:
    """The list to send: a file (a refused file is recorded), a group, or a retry."""
    from support_tool.ops.terminals import TerminalList

    if args.file:
        try:
            return _read_list(args.file, args.game)
        except InvalidInput as exc:
            _record_refused_list(args, batch_id, str(exc))
            raise
    if args.group:
        return TerminalList(_with_game(_find_group(_groups(args.demo), args.group), args.game))
    retry = _retry_list(args.demo, args.retry_failed, args.include_refused)
    _as_the_batch_ran(args, retry)
    return TerminalList(retry.terminals)


def _confirm_batch(runtime: Runtime, args: argparse.Namespace, parsed: TerminalList) -> None:
    """A production profile asks first, as the window does."""
    profile = runtime.service.profile(args.profile)
    if parsed.terminals and profile is not None and profile.production:
        _confirm(len(parsed.terminals), profile.name, args.clear_history, sys.stdin, args.yes)


def _run_batch(
    runtime: Runtime, args: argparse.Namespace, parsed: TerminalList, batch_id: str
) -> tuple[BatchSummary, bool] | ExitStatus:
    """Run the list with progress on stderr; Ctrl+C cancels and waits for what is in
    flight. Returns the summary and whether it was interrupted (or the status of an empty
    list, which sends nothing)."""
    from support_tool.cli.batch_report import Reporter
    from support_tool.ops.batch import BatchRun
    from support_tool.ops.batch_summary import BatchOptions

    reporter = Reporter(args.json, batch_id, args.clear_history)
    run = BatchRun(
        runtime.service,
        parsed.terminals,
        BatchOptions(
            profile=args.profile,
            clear_history=args.clear_history,
            reason=args.reason,
            concurrency=args.concurrency,
            max_rps=args.max_rps,
        ),
        batch_id=batch_id,
        on_event=reporter.event,
        skipped=parsed.invalid,
        retry_of=args.retry_failed,
    )
    if not parsed.terminals:
        return _nothing_to_send(run, args, parsed)
    interrupted = False
    run.start()
    while True:
        try:
            summary = run.wait(0.2)
            if summary is not None:
                break
            reporter.progress(run.progress())
        except KeyboardInterrupt:
            interrupted = True
            print("\nCancelling: requests in flight finish and are recorded…", file=sys.stderr)
            run.cancel("Cancelled by the operator.")
    reporter.finish()
    return summary, interrupted


def _nothing_to_send(run: BatchRun, args: argparse.Namespace, parsed: TerminalList) -> ExitStatus:
    """An empty list still records its skipped lines; a script still gets its summary."""
    from support_tool.cli.batch_report import summary_json

    run.start()
    empty = run.wait()
    assert empty is not None
    if args.json:  # a script always gets its summary object, even for nothing sent
        dups = max(parsed.duplicate_count, len(parsed.duplicates))
        print(summary_json(empty, len(parsed.invalid), dups, ExitStatus.USAGE))
    if args.retry_failed:
        print(f"Batch {args.retry_failed}: nothing to retry.", file=sys.stderr)
        return ExitStatus.OK
    raise InvalidInput("The list has no valid terminals; nothing was sent.")


# --- groups ----------------------------------------------------------------------------


def cmd_group(args: argparse.Namespace) -> int:
    from support_tool.config.groups import make_group
    from support_tool.ops.terminals import plural, terminals_csv

    store = _groups(args.demo)
    groups = store.load()
    if args.demo and args.action in ("add", "remove"):
        raise InvalidInput(
            "The demo's groups are built in and cannot be changed; leave out --demo to "
            f"{args.action} your own saved groups."
        )
    if args.action == "list":
        if not groups:
            print("No groups yet. Save one: support-tool group add NAME FILE")
        for name in sorted(groups, key=str.casefold):
            count = len(groups[name].terminals)
            print(f"{shell_quote(name)}  ({plural(count, 'terminal')})")
        return ExitStatus.OK
    if args.action == "show":
        sys.stdout.write(terminals_csv(_find_group(store, args.name)))
        return ExitStatus.OK
    if args.action == "remove":
        _find_group(store, args.name)
        del groups[args.name]
        store.save(groups)
        print(f"Removed group {args.name!r}.")
        return ExitStatus.OK
    parsed = _read_list(args.file, None)
    _print_list_notes(parsed, 10)
    if parsed.invalid:
        raise InvalidInput("The group was not saved: fix the invalid lines and try again.")
    group = make_group(args.name, parsed.terminals)
    if group.name in groups and not args.replace:
        raise InvalidInput(f"A group named {group.name!r} exists. Add --replace to replace it.")
    groups[group.name] = group
    store.save(groups)
    print(f"Saved group {group.name!r} with {plural(len(group.terminals), 'terminal')}.")
    return ExitStatus.OK
