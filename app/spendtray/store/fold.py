"""Deferred rollup maintenance: folding newly stored events into the rollup tables.

An ingest transaction only inserts event rows. The rollup tables are brought up to date
afterwards, in bulk, by ``fold`` — on the writer thread, every fraction of a second or few
thousand events — and the ``meta`` row ``rollup_folded_id`` records the highest event id they
include. Readers add the few events above that id themselves, so a summary is exact at every
moment, folded or not. A stored row rewritten in place after it was folded (a bigger
duplicate) is taken out and put back through the same SQL (``take_out``, ``put_back``).

The layout (migrations 0017–0020): sums per UTC quarter-hour and per UTC day by full key
(``rollup_key_quarter``, ``rollup_key_day``: project, model, provider, agent, source,
machine), per UTC day for each dimension on its own (``rollup_day``: one row per dimension,
key and day, ``total`` too), per quarter-hour for the total (``rollup_quarter``), and each
project's quarter-hours of the last two days (``rollup_recent``). Readers take whole days from
the day tables, the quarter-hours between them and a range's ends from the quarter-hour
tables, and the minutes at the very ends from the events (``store.reader``). Every real zone's
offset is a whole number of quarter-hours, so its hours, days, weeks and months are too.

Why: with timestamps spread over months nearly every event of a fold lands in a period and
key of its own, and each table a fold writes costs about a microsecond per event, however
small the table, plus a page to write where folds are small. Quarter-hour rows for seven
dimensions plus a full-key quarter-hour table made ~16 such writes per event (~45 µs at a
million events); this layout makes 10, most of them into small tables.

The time index ``events_time`` (migration 0021) is kept the same way: ``fold`` adds the folded
events' (ts, id), sorted by time, and ``take_out``/``put_back`` move a rewritten row's entry
(its time may change). An index on ``events.ts`` written by every insert cost one random page
per event (timestamps spread over months); a fold of thousands of events writes each page of
``events_time`` it touches once. Readers select by time through ``store.timed``.

The writer's thread (``fold``, ``take_out``, ``put_back``) or any reader thread
(``folded_through``, ``EVENT_SUMS``).
"""

from __future__ import annotations

import json
import sqlite3
import time

from spendtray.store.rows import SUM_FIELDS

FOLDED_KEY = "rollup_folded_id"
QUARTER_SECONDS = 900
HOUR_SECONDS = 3_600
DAY_SECONDS = 86_400
DIMS = ("project", "model", "provider", "agent", "source", "machine")
KEY_COLUMNS = ", ".join(DIMS)

# Events summed into SUM_FIELDS, as SQL over the events table.
_EVENT_TERMS = (
    "count(*)",
    "sum(input_tokens)",
    "sum(output_tokens)",
    "sum(cache_read_tokens)",
    "sum(cache_write_tokens)",
    "sum(reasoning_tokens)",
    "sum(coalesce(cost_nanos, 0))",
    "sum(1 - priced)",
)
EVENT_SUMS = ", ".join(_EVENT_TERMS)
QUARTER_SQL = f"ts / 1000 / {QUARTER_SECONDS} * {QUARTER_SECONDS}"
# ``rollup_recent``: each project's calls and cost per quarter-hour since ``RECENT_FROM_KEY``
# (epoch seconds in ``meta``), about ``RECENT_SECONDS`` before now — the runaway alarm's
# trailing day (``Reader.cost_per_bucket``), which read from the events took ~0.4 s per
# project with a million events. Older rows are dropped as the mark moves on.
RECENT_FROM_KEY = "rollup_recent_from"
RECENT_SECONDS = 2 * 86_400
# Rollup rows summed.
ROLLUP_SUMS = ", ".join(f"sum({f})" for f in SUM_FIELDS)
_FIELDS = ", ".join(SUM_FIELDS)
_ADD = ", ".join(f"{f} = {f} + excluded.{f}" for f in SUM_FIELDS)
TABLES = ("rollup_quarter", "rollup_day", "rollup_key_quarter", "rollup_key_day", "rollup_recent")


# The dimensions with quarter-hour rows of their own (``rollup_quarter``): the total, for
# summaries by hour, day, week and month. Every other dimension's quarter-hours come from
# ``rollup_key_quarter``, keyed by project first so one project's are a range of it (budgets,
# the dashboard's project filter): a fold writes one quarter-hour row per event, not one per
# dimension — with small folds each of those is a page of its own to write.
QUARTER_DIMS = ("total",)
_GROUP_KEY = ", ".join(str(n) for n in range(1, len(DIMS) + 2))
_CREATE_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS fold_stage (bucket INTEGER, "
    + ", ".join(f"{d} TEXT" for d in DIMS)
    + ", "
    + ", ".join(f"{f} INTEGER" for f in SUM_FIELDS)
    + ")"
)


def _stage(where: str, sign: int) -> str:
    sums = EVENT_SUMS if sign > 0 else ", ".join(f"-{term}" for term in _EVENT_TERMS)
    return (
        f"INSERT INTO temp.fold_stage SELECT {QUARTER_SQL}, {KEY_COLUMNS}, {sums} "
        f"FROM events WHERE {where} GROUP BY {_GROUP_KEY}"
    )


# A fold of at least KEYED_FOLD_IDS new events (a first import's, folded when its writer
# stops) sums them into the stage through a table keyed by quarter-hour and key, an upsert
# per event, instead of GROUP BY, which sorts every event first: the 38k events of a 313 MB
# first import (3,233 groups) in 39 vs 58 ms, 20k in 19 vs 28 ms, 10k in 8.8 vs 10.8 ms
# (thread CPU, best of 7). Smaller folds (the app's, every quarter second) keep GROUP BY:
# with their events nearly one per group the keyed table was no faster (bench/fold.py).
KEYED_FOLD_IDS = 10_000
_CREATE_SUMS = (
    "CREATE TEMP TABLE IF NOT EXISTS fold_sums (bucket INTEGER, "
    + ", ".join(f"{d} TEXT" for d in DIMS)
    + ", "
    + ", ".join(f"{f} INTEGER" for f in SUM_FIELDS)
    + f", PRIMARY KEY (bucket, {KEY_COLUMNS}))"
)
# Each event's share of SUM_FIELDS: _EVENT_TERMS for one event.
_EVENT_SHARES = ", ".join(
    ("1", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
     "reasoning_tokens", "coalesce(cost_nanos, 0)", "1 - priced")
)  # fmt: skip


def _sum_keyed(where: str) -> str:
    return (
        f"INSERT INTO temp.fold_sums SELECT {QUARTER_SQL}, {KEY_COLUMNS}, {_EVENT_SHARES} "
        f"FROM events WHERE {where} ON CONFLICT DO UPDATE SET {_ADD}"
    )


# Measured at a million events (bench/fold.py): an upsert per stage row beats a GROUP BY
# first wherever the groups are nearly as many as the rows (a key or project per hour, every
# key per day: events spread over months rarely share one), and loses where they are few.
# "WHERE true": an upsert fed by a SELECT needs a WHERE clause for SQLite to parse it.
_DAY = f"bucket / {DAY_SECONDS} * {DAY_SECONDS}"


def _to_keys(table: str) -> str:
    # The conflict target in the primary key's order (rollup_key_quarter: project first).
    if table == "rollup_key_quarter":
        period, start, key = "bucket", "bucket", f"project, bucket, {', '.join(DIMS[1:])}"
    else:
        period, start, key = "day", _DAY, f"day, {KEY_COLUMNS}"
    return (
        f"INSERT INTO {table} ({period}, {KEY_COLUMNS}, {_FIELDS}) "
        f"SELECT {start}, {KEY_COLUMNS}, {_FIELDS} FROM temp.fold_stage WHERE true "
        f"ON CONFLICT ({key}) DO UPDATE SET {_ADD}"
    )


def _to_dim(table: str, dim: str, group: bool) -> str:
    period, start = ("bucket", "bucket") if table == "rollup_quarter" else ("day", _DAY)
    key = "''" if dim == "total" else dim
    if group:
        by = "2" if dim == "total" else f"2, {dim}"
        select = f"{ROLLUP_SUMS} FROM temp.fold_stage WHERE true GROUP BY {by}"
    else:
        select = f"{_FIELDS} FROM temp.fold_stage WHERE true"
    return (
        f"INSERT INTO {table} (dim, {period}, key, {_FIELDS}) "
        f"SELECT '{dim}', {start}, {key}, {select} "
        f"ON CONFLICT (dim, {period}, key) DO UPDATE SET {_ADD}"
    )


_TO_TABLES = [
    _to_keys("rollup_key_quarter"),
    _to_keys("rollup_key_day"),
    _to_dim("rollup_quarter", "total", group=True),
    *(_to_dim("rollup_day", dim, group=True) for dim in (*DIMS, "total")),
]
_TO_RECENT = (
    "INSERT INTO rollup_recent (bucket, project, calls, cost_nanos) "
    "SELECT bucket, project, calls, cost_nanos FROM temp.fold_stage WHERE bucket >= ? "
    "ON CONFLICT (bucket, project) DO UPDATE SET calls = calls + excluded.calls, "
    "cost_nanos = cost_nanos + excluded.cost_nanos"
)


def folded_through(conn: sqlite3.Connection) -> int:
    """The highest event id the rollup tables include (0 before the first event)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (FOLDED_KEY,)).fetchone()
    return int(row[0]) if row is not None else 0


def recent_from(conn: sqlite3.Connection) -> int | None:
    """Where ``rollup_recent`` starts (epoch seconds), None before migration 0017 set it."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (RECENT_FROM_KEY,)).fetchone()
    return int(row[0]) if row is not None else None


def recent_start(now: float) -> int:
    """The quarter-hour ``rollup_recent`` should start at, ``now`` (epoch seconds)."""
    return int(now - RECENT_SECONDS) // QUARTER_SECONDS * QUARTER_SECONDS


def _add(
    conn: sqlite3.Connection, where: str, params: tuple[object, ...], sign: int, keyed: bool = False
) -> None:
    """Add (sign 1) or subtract (-1) the events ``where`` selects to every rollup table;
    ``keyed`` (to add many): summed through ``fold_sums`` (``KEYED_FOLD_IDS``)."""
    conn.execute(_CREATE_STAGE)
    conn.execute("DELETE FROM temp.fold_stage")
    if keyed:
        assert sign > 0, "fold_sums adds new events"
        conn.execute(_CREATE_SUMS)
        conn.execute("DELETE FROM temp.fold_sums")
        conn.execute(_sum_keyed(where), params)
        conn.execute("INSERT INTO temp.fold_stage SELECT * FROM temp.fold_sums")
        conn.execute("DELETE FROM temp.fold_sums")
    else:
        conn.execute(_stage(where, sign), params)
    for sql in _TO_TABLES:
        conn.execute(sql)
    since = recent_from(conn)
    if since is not None:
        conn.execute(_TO_RECENT, (since,))
    conn.execute("DELETE FROM temp.fold_stage")


def _move_recent(conn: sqlite3.Connection, now: float) -> None:
    """Drop ``rollup_recent`` rows older than it keeps, an hour at a time."""
    start = recent_start(now)
    old = recent_from(conn)
    if old is not None and start - old < HOUR_SECONDS:
        return
    conn.execute("DELETE FROM rollup_recent WHERE bucket < ?", (start,))
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (RECENT_FROM_KEY, str(start)),
    )


_NEW_EVENTS = "id > ? AND id <= ?"
_SOME_EVENTS = "id IN (SELECT value FROM json_each(?))"
# The time index of the folded events (``store.timed``), kept with the rollups.
_TO_TIME = "INSERT INTO events_time (ts, id) SELECT ts, id FROM events WHERE "


def fold(conn: sqlite3.Connection, limit: int | None = None, now: float | None = None) -> int:
    """Add every event above the folded id to the rollups — or the next ``limit`` ids of
    them; returns how many ids that covers. ``now`` (epoch seconds, the clock by default)
    moves ``rollup_recent`` on.

    Call inside the write transaction (BEGIN IMMEDIATE): the id range must not move while it
    is read, and the rollups and the new folded id must commit together.
    """
    _move_recent(conn, time.time() if now is None else now)
    low = folded_through(conn)
    high = int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
    if limit is not None:
        high = min(high, low + limit)
    if high <= low:
        return 0
    _add(conn, _NEW_EVENTS, (low, high), 1, keyed=high - low >= KEYED_FOLD_IDS)
    conn.execute(_TO_TIME + _NEW_EVENTS + " ORDER BY ts, id", (low, high))
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (FOLDED_KEY, str(high)),
    )
    return high - low


def take_out(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Subtract stored events from the rollups before they are rewritten in place (inside the
    write transaction, with ``put_back`` after the rewrite)."""
    _add(conn, _SOME_EVENTS, (json.dumps(ids),), -1)
    # Their time may change: the entries go, and put_back adds them at the new one.
    conn.execute(
        "DELETE FROM events_time WHERE (ts, id) IN "
        f"(SELECT ts, id FROM events WHERE {_SOME_EVENTS})",
        (json.dumps(ids),),
    )


def put_back(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Add the rewritten events back; a row that moved to another period or key can leave an
    emptied rollup row behind, which goes."""
    _add(conn, _SOME_EVENTS, (json.dumps(ids),), 1)
    conn.execute(_TO_TIME + _SOME_EVENTS, (json.dumps(ids),))
    for table in TABLES:
        conn.execute(f"DELETE FROM {table} WHERE calls <= 0")
