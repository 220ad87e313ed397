"""Events selected by their time: the one way readers ask for ``since <= ts < until``. Any
reader thread (or the writer's, inside its transaction).

Why: an index on ``events.ts`` written by every insert put each new entry on a random page of
it (timestamps spread over months), one more 4 KB page per event written to the WAL at COMMIT
and again at the checkpoint: the largest part of an insert's cost (bench/insert.py). Since
migration 0021 the time index is the table ``events_time`` (ts, id), kept like the rollups:
``store.fold`` adds the events it folds, sorted by time (a fold of thousands of events writes
each page it touches once), and ``take_out``/``put_back`` move a rewritten row's entry. The
events above the folded id (``meta.rollup_folded_id``) are not in it yet; they are few (a
fold runs every fraction of a second, at most ``FOLD_BACKLOG`` behind) and read by their id
range, which is the end of the table.

``between`` writes both parts as one SELECT (a UNION ALL): one statement is one read
snapshot, so the parts agree on the folded id even while the writer folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Read in the statement itself, so it is the folded id of the statement's own snapshot.
FOLDED_ID = "coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rollup_folded_id'), 0)"

# The folded events joined to their time index, for a read that adds the others itself
# (summaries: ``store.reader``): FROM ``FOLDED_EVENTS`` … WHERE ``FOLDED_ON`` AND a range of
# ``FOLDED_TS``.
FOLDED_EVENTS = "events_time t JOIN events e"
FOLDED_ON = "e.id = t.id"
FOLDED_TS = "t.ts"


def between(
    columns: str,
    where: str = "1",
    args: Sequence[Any] = (),
    since: int | None = None,
    until: int | None = None,
    *,
    ordered: bool = False,
) -> tuple[str, list[Any]]:
    """A SELECT of ``columns`` over the events (alias ``e``) with ``since <= ts < until``
    (epoch ms; None: no bound) that meet ``where`` (its parameters ``args``), and its
    parameters. ``columns`` and ``where`` write the event's time and id as ``{ts}`` and
    ``{id}``: the folded part takes them from ``events_time``, so that
    ``… ORDER BY ts, id`` appended to the result (name them ``{ts} AS ts``) reads that
    table's key in order and stops at a LIMIT. ``columns`` write other event columns as
    ``e.<name>``: with none there and no ``where``, the folded part reads ``events_time``
    alone (a count, a page of ids), not each event's row.

    Wrap it (``SELECT … FROM (…) GROUP BY …``) to aggregate. With no bound and no order
    wanted it is one plain read of ``events``, every event being in it anyway."""
    range_args: list[Any] = []
    bounds: list[str] = []
    if since is not None:
        bounds.append("{ts} >= ?")
        range_args.append(since)
    if until is not None:
        bounds.append("{ts} < ?")
        range_args.append(until)
    cond = " AND ".join([*bounds, f"({where})"])
    if not bounds and not ordered:
        plain = f"SELECT {columns} FROM events e WHERE {cond}"
        return plain.format(ts="e.ts", id="e.id"), list(args)
    rows = " JOIN events e ON e.id = t.id" if "e." in columns or where != "1" else ""
    folded = f"SELECT {columns} FROM events_time t{rows} WHERE {cond}".format(ts="t.ts", id="t.id")
    # NOT INDEXED: the id range only (the end of the table), whatever the planner guesses.
    unfolded = (
        f"SELECT {columns} FROM events e NOT INDEXED WHERE e.id > {FOLDED_ID} AND {cond}"
    ).format(ts="e.ts", id="e.id")
    params = [*range_args, *args]
    return f"{folded} UNION ALL {unfolded}", params + params
