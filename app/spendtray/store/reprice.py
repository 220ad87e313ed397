"""The SQL of `spendtray reprice`: reading the stored calls of a selection with their prices,
and rewriting chosen calls' prices while keeping the old ones in ``reprices`` (migration 0011).

The caller's thread (the CLI's main thread), on its own connections: a read connection for the
selection, one short write transaction for the rewrite. A rewritten event that is already
folded into the rollups is taken out of them first and put back after (``store.fold``), so
every summary stays exact.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from spendtray.store.fold import folded_through, put_back, take_out
from spendtray.store.reader import Filters
from spendtray.store.rows import PRICE_FIELDS, PriceFields
from spendtray.store.timed import between
from spendtray.store.writer import _price_id

_COLUMNS = (
    "id",
    "ts",
    "model",
    "provider",
    "service_tier",
    "batch",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "tags",
    "cost_nanos",
    "priced",
    "unpriced_reason",
    "price_id",
)


@dataclass(frozen=True)
class StoredCall:
    """One stored event as reprice needs it: what prices it, and the price it has."""

    id: int
    ts_ms: int
    model: str
    provider: str
    service_tier: str | None
    batch: bool
    counts: tuple[int, int, int, int, int, int, int]  # TokenCounts' fields, in order
    tags: dict[str, Any] | None
    cost_nanos: int | None
    priced: bool
    unpriced_reason: str | None
    price_id: int | None
    price_fields: PriceFields | None


@dataclass(frozen=True)
class NewPrice:
    """What reprice stores for one event."""

    event_id: int
    provider: str
    cost_nanos: int | None
    unpriced_reason: str | None
    price_fields: PriceFields | None


def selection(
    conn: sqlite3.Connection, filters: Filters, unpriced_only: bool = False
) -> Iterator[StoredCall]:
    """The stored calls ``filters`` select (oldest first), with their prices."""
    where, args = filters.dimension_sql()
    if unpriced_only:
        where += " AND priced = 0"
    since = None if filters.since is None else int(filters.since.timestamp() * 1000)
    until = None if filters.until is None else int(filters.until.timestamp() * 1000)
    # The selected ids in time order through the time index (store.timed), then their rows.
    selected, params = between("{ts} AS ts, {id} AS id", where, args, since, until, ordered=True)
    sql = (
        f"SELECT {', '.join(f'e.{c}' for c in _COLUMNS)}, "
        f"{', '.join(f'p.{name}' for name in PRICE_FIELDS)} "
        f"FROM ({selected} ORDER BY ts, id) k JOIN events e ON e.id = k.id "
        "LEFT JOIN prices_used p ON p.id = e.price_id ORDER BY k.ts, k.id"
    )
    for row in conn.execute(sql, params):
        tags = json.loads(row[13]) if row[13] else None
        fields = tuple(row[len(_COLUMNS) :])
        yield StoredCall(
            id=row[0],
            ts_ms=row[1],
            model=row[2],
            provider=row[3],
            service_tier=row[4],
            batch=bool(row[5]),
            counts=tuple(row[6:13]),  # type: ignore[arg-type]
            tags=tags if isinstance(tags, dict) else None,
            cost_nanos=row[14],
            priced=bool(row[15]),
            unpriced_reason=row[16],
            price_id=row[17],
            price_fields=fields if fields[0] is not None else None,  # type: ignore[arg-type]
        )


def apply(
    conn: sqlite3.Connection, changes: Sequence[NewPrice], olds: dict[int, StoredCall], now_ms: int
) -> int:
    """Store the new prices and keep the old ones in ``reprices``, in one transaction.

    ``olds`` are the calls as they were read; a call whose price changed since (another
    reprice, a duplicate rewrite) is left alone. Returns how many events were rewritten."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        folded = folded_through(conn)
        current = {
            row[0]: (row[1], row[2], row[3], row[4])
            for row in conn.execute(
                "SELECT id, cost_nanos, priced, unpriced_reason, price_id FROM events "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([c.event_id for c in changes]),),
            )
        }
        todo = []
        for change in changes:
            old = olds[change.event_id]
            as_read = (old.cost_nanos, int(old.priced), old.unpriced_reason, old.price_id)
            if current.get(change.event_id) == as_read:
                todo.append((change, old))
        ids = [change.event_id for change, _ in todo if change.event_id <= folded]
        if ids:
            take_out(conn, ids)
        for change, old in todo:
            price_id = _price_id(conn, change.price_fields) if change.price_fields else None
            priced = 1 if change.cost_nanos is not None else 0
            conn.execute(
                "INSERT INTO reprices (event_id, repriced_at, old_provider, old_cost_nanos, "
                "old_priced, old_unpriced_reason, old_price_id, new_cost_nanos, new_priced, "
                "new_unpriced_reason, new_price_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    old.id,
                    now_ms,
                    old.provider,
                    old.cost_nanos,
                    int(old.priced),
                    old.unpriced_reason,
                    old.price_id,
                    change.cost_nanos,
                    priced,
                    change.unpriced_reason,
                    price_id,
                ),
            )
            conn.execute(
                "UPDATE events SET provider = ?, cost_nanos = ?, priced = ?, unpriced_reason = ?, "
                "price_id = ? WHERE id = ?",
                (
                    change.provider,
                    change.cost_nanos,
                    priced,
                    change.unpriced_reason,
                    price_id,
                    old.id,
                ),
            )
        if ids:
            put_back(conn, ids)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(todo)


def history(conn: sqlite3.Connection, event_id: int) -> list[dict[str, Any]]:
    """The reprices of one event, oldest first."""
    cur = conn.execute("SELECT * FROM reprices WHERE event_id = ? ORDER BY id", (event_id,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
