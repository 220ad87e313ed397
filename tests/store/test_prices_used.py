"""Each distinct price is stored once in ``prices_used`` and events refer to it by id.

Covers the writer (a price stored on first use, reused after, forgotten when its transaction
rolls back), the reader (events read back with their price), and migration 0006 on a database
written before it (every event keeps exactly the price it was costed with).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.store.migrations import migrations
from spendtray.store.reader import Filters, Reader
from spendtray.store.writer import Writer

UTC = ZoneInfo("UTC")


def test_a_price_is_stored_once_and_events_read_back_with_it(tmp_path: Path) -> None:
    core = Core(load_settings(home=tmp_path, port=0))
    core.start_store()
    try:
        first = core.ingest.ingest(
            [
                {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 100},
                {"model": "gpt-4o", "input_tokens": 2000, "output_tokens": 10},
                {"model": "no-such-model-xyz", "input_tokens": 5, "output_tokens": 5},
            ]
        )
        core.ingest.ingest([{"model": "gpt-4o", "input_tokens": 7, "output_tokens": 7}])
        events, _ = Reader(core.settings.db_path, UTC).events(Filters(), limit=10)
    finally:
        core.stop()
    assert first.accepted == 3
    conn = sqlite3.connect(core.settings.db_path)
    assert conn.execute("SELECT count(*) FROM prices_used").fetchone()[0] == 1
    ids = [r[0] for r in conn.execute("SELECT price_id FROM events ORDER BY id")]
    assert ids[0] is not None and ids == [ids[0], ids[0], None, ids[0]]
    by_model = {e["model"]: e for e in events}
    price = by_model["gpt-4o"]["price"]
    assert price["model"] == "gpt-4o" and price["source"].startswith("genai-prices")
    assert price["unit_prices"]["input_mtok"] == "2.5"  # decimal text, as priced
    assert by_model["no-such-model-xyz"]["price"] == {
        "model": None,
        "provider": None,
        "source": None,
        "date": None,
        "unit_prices": None,
    }


def test_a_price_stored_by_a_rolled_back_transaction_is_stored_again(tmp_path: Path) -> None:
    core = Core(load_settings(home=tmp_path, port=0))
    rows = core.ingest.prepare([{"model": "gpt-4o", "input_tokens": 9, "output_tokens": 1}])
    good = rows[0]
    bad = good._replace(project=None)  # NOT NULL: the whole transaction rolls back
    writer = Writer(tmp_path / "spendtray.db")
    writer.start()
    try:
        with pytest.raises(sqlite3.IntegrityError):
            writer.write([good, bad])
        outcome = writer.write([good])
    finally:
        writer.stop()
    conn = sqlite3.connect(tmp_path / "spendtray.db")
    try:
        stored = conn.execute(
            "SELECT price_id FROM events WHERE id = ?", (outcome[0].id,)
        ).fetchone()
        assert conn.execute("SELECT id FROM prices_used").fetchall() == [(stored[0],)]
    finally:
        conn.close()


def test_migration_0006_keeps_every_event_s_price(tmp_path: Path) -> None:
    path = tmp_path / "spendtray.db"
    db = Database(path)
    migrations.apply(db, stop_before="0006_prices_used")
    columns = [c.name for c in db["events"].columns]
    assert "unit_prices" in columns and "price_id" not in columns
    base = {
        "received_at": 1,
        "project": "p",
        "provider": "openai",
        "agent": "",
        "source": "api",
        "batch": 0,
        "input_tokens": 10,
        "output_tokens": 1,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "reasoning_tokens": 0,
    }
    priced = {
        "price_provider": "openai",
        "price_source": "genai-prices 0.0.1",
        "priced": 1,
        "cost_nanos": 100,
    }
    old_rows = [
        {**base, **priced, "id": 1, "ts": 1000, "model": "gpt-4o", "price_model": "gpt-4o",
         "unit_prices": '{"input_mtok":2.5}', "price_date": "2025-01-01"},
        {**base, **priced, "id": 2, "ts": 2000, "model": "gpt-4o", "price_model": "gpt-4o",
         "unit_prices": '{"input_mtok":2.5}', "price_date": "2025-01-01"},
        {**base, **priced, "id": 3, "ts": 3000, "model": "gpt-4o", "price_model": "gpt-4o",
         "unit_prices": '{"input_mtok":2}', "price_date": None},
        {**base, "id": 4, "ts": 4000, "model": "mystery", "priced": 0,
         "unpriced_reason": "unknown model"},
    ]  # fmt: skip
    db["events"].insert_all(old_rows)
    migrations.apply(db)
    db.conn.close()

    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(events)")]
    assert "price_id" in columns
    assert not {"price_model", "price_provider", "unit_prices", "price_source", "price_date"} & set(
        columns
    )
    events, _ = Reader(path, UTC).events(Filters(), limit=10)
    got = {e["id"]: e["price"] for e in events}
    for row in old_rows:
        want = {
            "model": row.get("price_model"),
            "provider": row.get("price_provider"),
            "source": row.get("price_source"),
            "date": row.get("price_date"),
        }
        price = dict(got[row["id"]])
        units = price.pop("unit_prices")
        assert price == want, row["id"]
        assert units == (
            None if "unit_prices" not in row else {"input_mtok": 2.5 if row["id"] < 3 else 2}
        )
    used = sqlite3.connect(path).execute("SELECT count(*) FROM prices_used").fetchone()[0]
    assert used == 2
