"""Which model keys an import stored, for the price table cache (``prices.table_cache``).

Main thread of `spendtray import`, on a read connection of its own, after the pass committed.
The events table's ids only grow, so the rows one pass stored are the ids above the greatest
one before it (a primary key range, read without a scan of older rows).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

# model, provider, service tier, batch: what PriceBook.price_at is asked with.
PriceKey = tuple[str, str | None, str | None, bool]


def _connect(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)


def last_event_id(db_path: Path) -> int:
    """The greatest event id stored so far (0 for none)."""
    with closing(_connect(db_path)) as db:
        return int(db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])


def price_keys_after(db_path: Path, after_id: int) -> set[PriceKey]:
    """The distinct (model, provider, service tier, batch) of the events after ``after_id``."""
    with closing(_connect(db_path)) as db:
        rows = db.execute(
            "SELECT DISTINCT model, provider, service_tier, batch FROM events WHERE id > ?",
            (after_id,),
        ).fetchall()
    return {(model, provider, tier, bool(batch)) for model, provider, tier, batch in rows}
