"""Deferred rollup maintenance: folding newly stored events into the rollup tables.

An ingest transaction only inserts event rows. The rollup tables (``rollup``, ``rollup_dim``)
are brought up to date afterwards, in bulk, by ``fold`` — on the writer thread, every fraction
of a second or few thousand events — and the ``meta`` row ``rollup_folded_id`` records the
highest event id they include. Readers add the few events above that id themselves (``delta``),
so a summary is exact at every moment, folded or not.

Why: upserting two rollup tables in every ingest transaction cost more than inserting the
event itself (six ``rollup_dim`` rows per key), on the thread that answers HTTP. Folded in
bulk, one upsert covers every event of a key, and the SQL runs without the GIL.

The writer's thread (``fold``) or any reader thread (``folded_through``, ``delta``).
"""

from __future__ import annotations

import sqlite3

from spendtray.store.db import BUCKET_SECONDS
from spendtray.store.rows import SUM_FIELDS

FOLDED_KEY = "rollup_folded_id"
DIMS = ("project", "model", "provider", "agent", "source")
_KEY = ("bucket", *DIMS)

# One event's contribution to SUM_FIELDS, as SQL over the events table.
EVENT_SUMS = (
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
    "sum(cache_write_tokens), sum(reasoning_tokens), sum(coalesce(cost_nanos, 0)), "
    "sum(1 - priced)"
)
BUCKET_SQL = f"(ts / 1000) / {BUCKET_SECONDS} * {BUCKET_SECONDS}"

_SUMS = ", ".join(f"sum({f})" for f in SUM_FIELDS)
_ADD = ", ".join(f"{f} = {f} + excluded.{f}" for f in SUM_FIELDS)
_STAGE = f"""
    INSERT INTO temp.fold_stage
    SELECT {BUCKET_SQL}, {", ".join(DIMS)}, {EVENT_SUMS}
    FROM events WHERE id > ? AND id <= ?
    GROUP BY 1, 2, 3, 4, 5, 6
"""
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
        f"SELECT '{dim}', bucket, {key}, {_SUMS} FROM temp.fold_stage WHERE true "
        f"GROUP BY {group} ON CONFLICT (dim, bucket, key) DO UPDATE SET {_ADD}"
    )


_TO_DIMS = [_to_dim(dim) for dim in (*DIMS, "total")]


def folded_through(conn: sqlite3.Connection) -> int:
    """The highest event id the rollup tables include (0 before the first event)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (FOLDED_KEY,)).fetchone()
    return int(row[0]) if row is not None else 0


def fold(conn: sqlite3.Connection) -> int:
    """Add every event above the folded id to the rollups; returns how many ids that covers.

    Call inside the write transaction (BEGIN IMMEDIATE): the id range must not move while it
    is read, and the rollups and the new folded id must commit together.
    """
    low = folded_through(conn)
    high = int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
    if high <= low:
        return 0
    columns = ", ".join(f"{name} {'TEXT' if name in DIMS else 'INTEGER'}" for name in _KEY)
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS fold_stage ({columns}, "
        f"{', '.join(f'{f} INTEGER' for f in SUM_FIELDS)})"
    )
    conn.execute("DELETE FROM temp.fold_stage")
    conn.execute(_STAGE, (low, high))
    conn.execute(_TO_ROLLUP)
    for sql in _TO_DIMS:
        conn.execute(sql)
    conn.execute("DELETE FROM temp.fold_stage")
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (FOLDED_KEY, str(high)),
    )
    return high - low
