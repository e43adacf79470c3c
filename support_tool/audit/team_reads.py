"""Reading the team store's actions as the History view pages and filters them.

Split from ``team_store`` so the query shapes, which the indexes in team_schema.sql are
built for, sit in one place. Every query first finds one page of action ids straight from
``support_tool.events`` (where the filters can use those indexes, and ``ORDER BY seq DESC
LIMIT n`` stops after one page however many actions match), then reads just those rows
through the ``actions`` view, which stays the one definition of what a row holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support_tool.audit.records import COLUMNS, AuditFilter

if TYPE_CHECKING:
    from psycopg import sql

# Kinds that are one action each (the attempt, or a refusal that never became one) and the
# kinds that end an action, whose body holds the outcome.
_ACTION_KINDS = "a.kind IN ('attempt', 'refused')"
_CLOSING = "r.kind IN ('answer', 'unknown')"
# Filters on the attempt's own fields, as (AuditFilter field, body key). Each key has an
# index on (its value, seq), so an exact filter reads one page of that index backwards.
_ATTEMPT_KEYS = (
    ("login", "login"),
    ("profile", "profile"),
    ("operator", "operator"),
    ("workstation", "workstation"),
)


def _field(key: str, alias: str = "a") -> str:
    """The body value exactly as team_schema.sql's indexes spell it (or they go unused)."""
    return f"(({alias}.body)::jsonb ->> '{key}')"


def like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, with its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(flt: AuditFilter) -> tuple[list[str], list[Any]]:
    """WHERE clauses over the action's event ``a`` (constants only) and their parameters."""
    clauses = [_ACTION_KINDS]
    params: list[Any] = []
    for name, key in _ATTEMPT_KEYS:
        value = getattr(flt, name)
        if value is None:
            continue
        # The view shows a missing key as "", so "" must find those rows too.
        clauses.append(f"coalesce({_field(key)}, '') = %s" if not value else f"{_field(key)} = %s")
        params.append(value)
    if flt.batch_id is not None:
        # The batch and its retries, whose ids extend it ("<id>.r081512-a3"), as a range
        # on the indexed value rather than a LIKE scan (same as the embedded store).
        batch = _field("batch_id")
        clauses.append(f"({batch} = %s OR ({batch} > %s AND {batch} < %s))")
        params += [flt.batch_id, flt.batch_id + ".r", flt.batch_id + ".s"]
    if flt.outcome == "pending":
        clauses.append(
            "a.kind = 'attempt' AND NOT EXISTS (SELECT 1 FROM support_tool.events r"  # noqa: S608
            f" WHERE r.action = a.seq AND {_CLOSING})"
        )
    elif flt.outcome is not None:
        # A refusal is its own closing event (its action is its seq), so one index on
        # (outcome, action) over closing and refused events answers both.
        outcome = _field("outcome", "r")
        clauses.append(
            "EXISTS (SELECT 1 FROM support_tool.events r WHERE r.action = a.seq"  # noqa: S608
            f" AND r.kind IN ('answer', 'unknown', 'refused') AND {outcome} = %s)"
        )
        params.append(flt.outcome)
    text = flt.text.strip()
    if text:
        # Login and game are in the attempt, the description in its closing event: an
        # action matches when any of its events does (event_text has a trigram index).
        clauses.append(
            "EXISTS (SELECT 1 FROM support_tool.events t WHERE t.action = a.seq"
            " AND support_tool.event_text(t.body) LIKE lower(%s))"
        )
        params.append(like_pattern(text))
    return clauses, params


def action_query(
    flt: AuditFilter,
    columns: tuple[str, ...] = COLUMNS,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> tuple[sql.Composed, list[Any]]:
    """The rows of ``actions`` matching ``flt``, newest first, ids in (after_id, before_id),
    at most ``limit`` of them: the statement and its parameters."""
    from psycopg import sql

    clauses, params = _conditions(flt)
    if before_id is not None:
        clauses.append("a.seq < %s")
        params.append(int(before_id))
    if after_id is not None:
        clauses.append("a.seq > %s")
        params.append(int(after_id))
    # Built from constants only; every value is a bound parameter.
    ids = "SELECT a.seq FROM support_tool.events a WHERE " + " AND ".join(clauses)  # noqa: S608
    ids += " ORDER BY a.seq DESC"
    if limit is not None and limit > 0:
        ids += " LIMIT %s"
        params.append(int(limit))
    query = sql.SQL(
        "SELECT {} FROM support_tool.actions v WHERE v.id IN (" + ids + ") ORDER BY v.id DESC"  # noqa: S608
    ).format(sql.SQL(", ").join(sql.Identifier("v", c) for c in columns))
    return query, params
