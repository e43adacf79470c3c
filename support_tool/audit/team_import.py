"""``support-tool audit import``: a desk's embedded history, appended to the team store once.

The file is verified first (a trail that does not verify is never copied: that would
launder the forgery under the server's seals). Each event is then appended through the
server's append function like any other, with its original body plus an ``imported``
object (docs/audit-trail.md, "Imported events"): the desk it came from, its original seq,
seal and time. Answers and unknowns point at their attempt's *new* seq. Events whose
(desk, seal) is already in the team store are skipped, so importing twice imports nothing
new, and an import cut short is finished by running it again.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support_tool.audit import events
from support_tool.audit.team_pool import Link, select

CHUNK = 500  # events per transaction: an interrupted import keeps what it committed
_IMPORTED = (
    "SELECT seq, body::jsonb -> 'imported' ->> 'desk', body::jsonb -> 'imported' ->> 'seal'"
    " FROM support_tool.events"
    " WHERE strpos(body, '\"imported\":{') > 0 AND (body::jsonb ? 'imported')"
)
_CLOSED = (
    "SELECT action FROM support_tool.events"
    " WHERE kind IN ('answer', 'unknown') AND action = ANY(%s)"
)


@dataclass
class ImportReport:
    """What an import did: events appended by kind, the team seqs they got, and what it
    left out and why."""

    source: Path
    events: int = 0  # events in the file (verified)
    imported: Counter[str] = field(default_factory=Counter)
    first_seq: int = 0
    last_seq: int = 0
    already: int = 0  # imported by an earlier run
    left_out: Counter[str] = field(default_factory=Counter)

    def describe(self, where: str) -> str:
        total = sum(self.imported.values())
        if not total:
            lines = [
                f"Nothing new to import from {self.source}: its {self.events:,} events are "
                f"already in {where}."
            ]
        else:
            kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.imported.items()))
            lines = [
                f"Imported {total:,} events ({kinds}) from {self.source} into {where}: "
                f"team events {self.first_seq:,} to {self.last_seq:,}, each marked imported "
                "with its desk and original seq, seal and time."
            ]
            if self.already:
                lines.append(f"{self.already:,} events were imported before and left as they are.")
        lines += [f"Not imported: {n:,} {why}" for why, n in sorted(self.left_out.items())]
        return "\n".join(lines)


def file_events(path: Path, last: int) -> list[events.Event]:
    """Events 1…``last`` of a verified file, read without writing to it."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT seq, kind, action, recorded_at, origin, body, seal FROM events"
            " WHERE seq <= ? ORDER BY seq",
            (last,),
        ).fetchall()
    finally:
        db.close()
    return [events.Event(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5], bytes(r[6])) for r in rows]


def import_events(link: Link, report: ImportReport, found: list[events.Event]) -> None:
    """Append ``found`` (one file's events, in order) that the team store lacks."""
    done = {(str(d), str(s)): int(q) for q, d, s in select(link, _IMPORTED)}
    desk_of: dict[int, str] = {}
    new_seq: dict[int, int] = {}
    planned: list[tuple[str, int | None, dict[str, Any], tuple[str, str]]] = []
    for event in found:
        fields = event.fields()
        if event.kind == events.MIGRATED:
            report.left_out["marker of the file's older format (migrated)"] += 1
            continue
        own = event.kind in events.OWN_ACTION
        desk = str(fields.get("workstation", "")) if own else desk_of.get(event.action, "")
        desk_of[event.seq] = desk
        key = (desk, event.seal.hex())
        if key in done:
            report.already += 1
            new_seq[event.seq] = done[key]
            continue
        fields["imported"] = {
            "desk": desk,
            "seq": event.seq,
            "seal": event.seal.hex(),
            "recorded_at": event.recorded_at,
        }
        planned.append((event.kind, None if own else event.action, fields, key))
    closed = _already_closed(link, planned, new_seq)
    for start in range(0, len(planned), CHUNK):
        _append_chunk(link, report, planned[start : start + CHUNK], new_seq, closed)


def _already_closed(
    link: Link,
    planned: list[tuple[str, int | None, dict[str, Any], tuple[str, str]]],
    new_seq: dict[int, int],
) -> set[int]:
    """Team seqs of imported attempts that the team store has closed meanwhile (recovery
    marked them unknown): their answer in the file cannot be appended a second time."""
    targets = [new_seq[a] for _, a, _, _ in planned if a is not None and a in new_seq]
    if not targets:
        return set()
    return {int(row[0]) for row in select(link, _CLOSED, (targets,))}


def _append_chunk(
    link: Link,
    report: ImportReport,
    chunk: list[tuple[str, int | None, dict[str, Any], tuple[str, str]]],
    new_seq: dict[int, int],
    closed: set[int],
) -> None:
    """Append one chunk in one transaction (all of it, or none)."""
    appended: list[tuple[str, int, int]] = []  # kind, original seq, team seq
    with link.store.transaction() as appender:
        for kind, action, fields, _ in chunk:
            target = None if action is None else new_seq.get(action)
            if action is not None and (target is None or target in closed):
                why = "answers to attempts the team store had already closed or lacks"
                report.left_out[why] += 1
                continue
            got = appender.append(kind, target, events.canonical_body(fields))
            original = int(fields["imported"]["seq"])
            new_seq[original] = got.seq
            appended.append((kind, original, got.seq))
    for kind, _, seq in appended:
        report.imported[kind] += 1
        report.first_seq = report.first_seq or seq
        report.last_seq = seq
