"""Deferred rollup maintenance: folding newly stored events into the rollup tables.

An ingest transaction only inserts event rows. The rollup tables (``rollup``, ``rollup_dim``)
are brought up to date afterwards, in bulk, by ``fold`` — on the writer thread, every fraction
of a second or few thousand events — and the ``meta`` row ``rollup_folded_id`` records the
highest event id they include. Readers add the few events above that id themselves (``delta``),
so a summary is exact at every moment, folded or not. A stored row rewritten in place after it
was folded (a bigger duplicate) is taken out and put back through the same SQL (``take_out``,
``put_back``).

Why: upserting two rollup tables in every ingest transaction cost more than inserting the
event itself (six ``rollup_dim`` rows per key), on the thread that answers HTTP. Folded in
bulk, one upsert covers every event of a key, and the SQL runs without the GIL.

The writer's thread (``fold``, ``take_out``, ``put_back``) or any reader thread
(``folded_through``, ``EVENT_SUMS``).
"""

from __future__ import annotations

import json
import sqlite3

from spendtray.store.db import BUCKET_SECONDS
from spendtray.store.rows import SUM_FIELDS

FOLDED_KEY = "rollup_folded_id"
DAY_SECONDS = 86_400
DIMS = ("project", "model", "provider", "agent", "source", "machine")
_KEY = ("bucket", *DIMS)

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
BUCKET_SQL = f"(ts / 1000) / {BUCKET_SECONDS} * {BUCKET_SECONDS}"
# Rollup rows summed (a range of buckets, or the stage into rollup_dim).
ROLLUP_SUMS = ", ".join(f"sum({f})" for f in SUM_FIELDS)

_ADD = ", ".join(f"{f} = {f} + excluded.{f}" for f in SUM_FIELDS)
_CREATE_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS fold_stage ("
    + ", ".join(f"{name} {'TEXT' if name in DIMS else 'INTEGER'}" for name in _KEY)
    + ", "
    + ", ".join(f"{f} INTEGER" for f in SUM_FIELDS)
    + ")"
)


def _stage(where: str, sign: int) -> str:
    sums = EVENT_SUMS if sign > 0 else ", ".join(f"-{term}" for term in _EVENT_TERMS)
    return (
        f"INSERT INTO temp.fold_stage SELECT {BUCKET_SQL}, {', '.join(DIMS)}, {sums} "
        f"FROM events WHERE {where} GROUP BY {', '.join(str(n) for n in range(1, len(_KEY) + 1))}"
    )


_NEW_EVENTS = "id > ? AND id <= ?"
_SOME_EVENTS = "id IN (SELECT value FROM json_each(?))"
# "WHERE true": an upsert fed by a SELECT needs a WHERE clause for SQLite to parse it.
_TO_ROLLUP = (
    f"INSERT INTO rollup ({', '.join(_KEY)}, {', '.join(SUM_FIELDS)}) "
    f"SELECT * FROM temp.fold_stage WHERE true "
    f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {_ADD}"
)


def _to_dim(dim: str) -> str:
    key = "''" if dim == "total" else dim
    group = "bucket" if dim == "total" else f"bucket, {dim}"
    return (
        f"INSERT INTO rollup_dim (dim, bucket, key, {', '.join(SUM_FIELDS)}) "
        f"SELECT '{dim}', bucket, {key}, {ROLLUP_SUMS} FROM temp.fold_stage WHERE true "
        f"GROUP BY {group} ON CONFLICT (dim, bucket, key) DO UPDATE SET {_ADD}"
    )


def _to_day(dim: str) -> str:
    """The same per-dimension sums by UTC day (``rollup_day``): a summary over months reads
    a few thousand day rows instead of a hundred thousand quarter-hour ones."""
    key = "''" if dim == "total" else dim
    day = f"bucket / {DAY_SECONDS} * {DAY_SECONDS}"
    group = "2" if dim == "total" else f"2, {dim}"
    return (
        f"INSERT INTO rollup_day (dim, day, key, {', '.join(SUM_FIELDS)}) "
        f"SELECT '{dim}', {day}, {key}, {ROLLUP_SUMS} FROM temp.fold_stage WHERE true "
        f"GROUP BY {group} ON CONFLICT (dim, day, key) DO UPDATE SET {_ADD}"
    )


_TO_DIMS = [_to_dim(dim) for dim in (*DIMS, "total")] + [_to_day(d) for d in (*DIMS, "total")]


def folded_through(conn: sqlite3.Connection) -> int:
    """The highest event id the rollup tables include (0 before the first event)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (FOLDED_KEY,)).fetchone()
    return int(row[0]) if row is not None else 0


def _add(conn: sqlite3.Connection, where: str, params: tuple[object, ...], sign: int) -> None:
    """Add (sign 1) or subtract (-1) the events ``where`` selects to both rollup tables."""
    conn.execute(_CREATE_STAGE)
    conn.execute("DELETE FROM temp.fold_stage")
    conn.execute(_stage(where, sign), params)
    conn.execute(_TO_ROLLUP)
    for sql in _TO_DIMS:
        conn.execute(sql)
    conn.execute("DELETE FROM temp.fold_stage")


def fold(conn: sqlite3.Connection, limit: int | None = None) -> int:
    """Add every event above the folded id to the rollups — or the next ``limit`` ids of
    them; returns how many ids that covers.

    Call inside the write transaction (BEGIN IMMEDIATE): the id range must not move while it
    is read, and the rollups and the new folded id must commit together.
    """
    low = folded_through(conn)
    high = int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
    if limit is not None:
        high = min(high, low + limit)
    if high <= low:
        return 0
    _add(conn, _NEW_EVENTS, (low, high), 1)
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


def put_back(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Add the rewritten events back; a row that moved to another bucket or key can leave an
    emptied rollup row behind, which goes."""
    _add(conn, _SOME_EVENTS, (json.dumps(ids),), 1)
    conn.execute("DELETE FROM rollup WHERE calls <= 0")
    conn.execute("DELETE FROM rollup_dim WHERE calls <= 0")
    conn.execute("DELETE FROM rollup_day WHERE calls <= 0")
