"""Reading the team store's actions as the History view pages and filters them.

Split from ``team_store`` so the query shapes, which the indexes in team_schema.sql are
built for, sit in one place. Every query first finds one page of action ids straight from
``support_tool.events`` (where the filters can use those indexes, and ``ORDER BY seq DESC
LIMIT n`` stops after one page however many actions match), then reads just those rows
through the ``actions`` view, which stays the one definition of what a row holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support_tool.audit.records import COLUMNS, MIN_INDEXED_SEARCH, AuditFilter

if TYPE_CHECKING:
    from psycopg import sql

# Kinds that are one action each (the attempt, or a refusal that never became one) and the
# kinds that end an action, whose body holds the outcome.
_ACTION_KINDS = "a.kind IN ('attempt', 'refused')"
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


def _conditions(flt: AuditFilter) -> tuple[str, list[str], list[Any]]:
    """The FROM items and WHERE clauses over the action's event ``a`` (constants only) and
    their parameters."""
    source = "support_tool.events a"
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
        # The attempts without a closing event, kept by append_event in a table of their
        # own (a handful of rows: no anti-join over every attempt).
        source = "support_tool.open_attempts o JOIN support_tool.events a ON a.seq = o.seq"
    elif flt.outcome is not None:
        # A refusal is its own closing event (its action is its seq), so one index on
        # (outcome, action) over closing and refused events answers both; as a join, that
        # index can also give the order, and a rare outcome is read from it directly.
        source += (
            " JOIN support_tool.events r ON r.action = a.seq"
            f" AND r.kind IN ('answer', 'unknown', 'refused') AND {_field('outcome', 'r')} = %s"
        )
        params.insert(0, flt.outcome)
    text = flt.text.strip()
    if text:
        # Login and game are in the attempt, the description in its closing event: an
        # action matches when any of its events does (search_text has a trigram index).
        # Under three characters there is no trigram to look up, and the index would be
        # read whole: strpos, which it cannot serve, reads actions newest first instead.
        match = (
            "t.search_text LIKE lower(%s)"
            if len(text) >= MIN_INDEXED_SEARCH
            else "strpos(t.search_text, lower(%s)) > 0"
        )
        clauses.append(
            "EXISTS (SELECT 1 FROM support_tool.events t WHERE t.action = a.seq"  # noqa: S608
            f" AND {match})"
        )
        params.append(like_pattern(text) if len(text) >= MIN_INDEXED_SEARCH else text)
    return source, clauses, params


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

    source, clauses, params = _conditions(flt)
    if before_id is not None:
        clauses.append("a.seq < %s")
        params.append(int(before_id))
    if after_id is not None:
        clauses.append("a.seq > %s")
        params.append(int(after_id))
    # Built from constants only; every value is a bound parameter.
    matching = f"SELECT a.seq FROM {source} WHERE " + " AND ".join(clauses)  # noqa: S608
    if flt.batch_id is not None or flt.outcome == "pending":
        # A batch sits somewhere in the trail, and pending attempts are few: the planner,
        # expecting matches spread evenly, would read the trail newest first looking for
        # them (seconds). So the whole matching set comes first, from the batch's index
        # or the open attempts, and only then the page.
        ids = f"SELECT m.seq FROM ({matching} OFFSET 0) m ORDER BY m.seq DESC"  # noqa: S608
    else:
        ids = matching + " ORDER BY a.seq DESC"
    if limit is not None and limit > 0:
        ids += " LIMIT %s"
        params.append(int(limit))
    query = sql.SQL(
        "SELECT {} FROM support_tool.actions v WHERE v.id IN (" + ids + ") ORDER BY v.id DESC"  # noqa: S608
    ).format(sql.SQL(", ").join(sql.Identifier("v", c) for c in columns))
    return query, params
