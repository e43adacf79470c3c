"""``support-tool history``: the audit trail on screen, as JSON or CSV, and its verification
(``history verify``, ``history anchor``). Printing only: the trail itself is ``audit/``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from support_tool.cli.output import safe as _safe
from support_tool.errors import AuditUnavailable, ConfigurationError, InvalidInput
from support_tool.exit_status import ExitStatus
from support_tool.provider.outcome import Outcome

if TYPE_CHECKING:
    from support_tool.audit.events import Anchor, ChainReport
    from support_tool.audit.records import AuditRecord
    from support_tool.audit.store import AuditStore

MAX_HISTORY_LIMIT = 1_000_000_000


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``history`` command and its ``verify`` and ``anchor`` actions."""
    history = commands.add_parser("history", help="show the audit history, newest first")
    history.add_argument("--login", metavar="L")
    history.add_argument("--batch", metavar="ID", help="only the rows of one batch")
    history.add_argument("--profile", metavar="P")
    outcomes = [o.value for o in Outcome]
    history.add_argument(
        "--outcome",
        metavar="O",
        choices=outcomes,
        help="only rows with this outcome: " + ", ".join(outcomes),
    )
    history.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="at most N rows (default: 50 on screen, all for --json/--csv)",
    )
    fmt = history.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    history_cmds = history.add_subparsers(dest="history_action", metavar="ACTION")
    verify = history_cmds.add_parser(
        "verify", help="check the history's hash chain: exit 5 if anything was altered"
    )
    verify.add_argument("--json", action="store_true", dest="verify_json")
    verify.add_argument(
        "--anchor",
        metavar="LINE",
        help="also prove the history still holds the state of this anchor line "
        "(from 'history anchor'): exit 5 if it was rewritten",
    )
    history_cmds.add_parser(
        "anchor",
        help="print one line (events, time, head seal) to keep elsewhere, e.g. in a ticket",
    )


def _history_rows(args: argparse.Namespace, store: AuditStore) -> Iterator[AuditRecord]:
    limit = args.limit if args.limit is not None else (None if args.json or args.csv else 50)
    return store.query(
        login=args.login,
        profile=args.profile,
        outcome=args.outcome,
        batch_id=args.batch,
        limit=limit,
    )


def cmd_history(args: argparse.Namespace) -> int:
    from support_tool.audit.export import write_history_csv
    from support_tool.audit.open_store import open_store
    from support_tool.ops.batch_summary import outcome_shown

    if args.limit is not None and not 0 <= args.limit <= MAX_HISTORY_LIMIT:
        raise InvalidInput(f"--limit must be between 0 (no limit) and {MAX_HISTORY_LIMIT:,}.")
    if args.history_action in ("verify", "anchor"):
        anchor = getattr(args, "anchor", None)
        return _verify_history(
            args.demo,
            getattr(args, "verify_json", False),
            anchor=anchor,
            print_anchor=args.history_action == "anchor",
        )
    with contextlib.closing(open_store(args.demo)) as store:
        rows = _history_rows(args, store)
        if args.json:
            for record in rows:
                # default=str: a value altered outside the tool (a BLOB) still prints
                print(json.dumps(record.as_dict(), ensure_ascii=False, default=str))
        elif args.csv:
            with contextlib.suppress(AttributeError, ValueError):  # CRLF as written, on Windows too
                sys.stdout.reconfigure(newline="")  # type: ignore[union-attr]
            write_history_csv(rows, sys.stdout)  # spreadsheet-safe, as the window's export
        else:
            shown = 0
            seen: set[tuple[str, str]] = set()  # --batch: a terminal's first row is its latest
            for r in rows:
                shown += 1
                code = "" if r.error_code is None else f" code {r.error_code}"
                game = r.game_id or "all games"
                clear = " +clear" if r.clear_history else ""
                batch = ""
                if args.batch:
                    latest = (r.login, r.game_id) not in seen
                    seen.add((r.login, r.game_id))
                    batch = f"  batch {r.batch_id}{' (latest)' if latest else ''}"
                print(
                    f"#{r.id} {r.started_at}  {_safe(r.login)} ({_safe(game)}{clear})  "
                    f"{outcome_shown(r.outcome, r.error_code, r.clear_history)}{code}: "
                    f"{_safe(r.description)[:120]}  "
                    f"[{_safe(r.profile)}, {r.operator}@{r.workstation}]{batch}"
                )
            if not shown:
                print("No history rows match.")
    return ExitStatus.OK


def _verify_history(
    demo: bool, as_json: bool, *, anchor: str | None = None, print_anchor: bool = False
) -> int:
    """``history verify`` (and ``--anchor``) and ``history anchor``, of the store in use:
    every event checked first; the anchor line is printed only for a trail that verifies."""
    from support_tool.audit import events

    wanted = None
    if anchor is not None:
        try:
            wanted = events.parse_anchor(anchor)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
    where, report = _checked(demo, wanted)
    if as_json:
        fields = {
            "ok": report.ok,
            "checked": report.checked,
            "head_seal": report.head_seal,
            "anchor": report.anchor(),
            "problem": report.problem,
            "record_id": report.record_id,
            "path": str(where) if isinstance(where, Path) else None,
            "store": f"the audit history at {where}" if isinstance(where, Path) else where,
        }
        print(json.dumps(fields))
    elif print_anchor and report.ok:
        if not report.anchor():
            shown = f"The audit history at {where}" if isinstance(where, Path) else where
            raise ConfigurationError(f"{shown[:1].upper()}{shown[1:]} is empty: nothing to anchor.")
        print(report.anchor())
    else:
        print(report.describe(), file=sys.stdout if report.ok else sys.stderr)
        if report.ok and report.anchor():
            print(f"Anchor: {report.anchor()}")
    return ExitStatus.OK if report.ok else ExitStatus.TAMPERED


def _checked(demo: bool, wanted: Anchor | None) -> tuple[Path | str, ChainReport]:
    """Where the trail is (the embedded file's path, or the team store in words) and what
    verifying it found. An embedded file that cannot be opened fails verification (exit
    5); a team store that cannot be reached is a configuration problem (exit 4)."""
    from support_tool.audit import events
    from support_tool.audit.log import AuditLog
    from support_tool.audit.open_store import open_team
    from support_tool.config import paths, team_settings

    setting = None if demo else team_settings.load()
    if setting is not None:
        with contextlib.closing(open_team(setting)) as team:
            return team.where, team.verify() if wanted is None else team.verify_anchor(wanted)
    path = paths.history_file(demo=demo)
    if not path.exists():
        raise ConfigurationError(f"There is no audit history at {path} yet.")
    try:
        with AuditLog(path) as store:
            return path, store.verify() if wanted is None else store.verify_anchor(wanted)
    except AuditUnavailable as exc:  # damaged, newer or unreadable: it cannot be verified
        return path, events.unreadable(str(exc))
