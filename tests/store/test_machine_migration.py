"""Migration 0007: events stored before ``machine`` existed get this machine's name, and the
rollups (now keyed by machine too) keep every sum: summaries by machine equal the raw events."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from spendtray.store import migrations as shipped
from spendtray.store.db import open_for_writing
from spendtray.store.reader import Filters, Reader

SUMS = (
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
    "sum(cache_write_tokens), sum(reasoning_tokens), sum(coalesce(cost_nanos, 0)), "
    "sum(1 - priced)"
)
BUCKET = "(ts / 1000) / 900 * 900"


def _old_database(path: Path) -> None:
    """A database as 0.1.0 left it: migrations 0001-0006, events folded into the rollups."""
    db = Database(sqlite3.connect(path))
    # Register under the shipped names so the later open sees them as applied.
    names = {
        shipped.m0001: "0001_events_and_rollups",
        shipped.m0002: "0002_budgets",
        shipped.m0003: "0003_import_state",
        shipped.m0004: "0004_rollup_by_dimension",
        shipped.m0005: "0005_rollup_fold_mark",
        shipped.m0006: "0006_prices_used",
    }
    first = Migrations("spendtray")
    for fn, name in names.items():
        first(name=name)(fn)
    first.apply(db)
    rows = [
        (
            1_790_000_000_000 + i * 3_600_000,
            f"p{i % 3}",
            "gpt-4o",
            "openai",
            "",
            "api",
            100 + i,
            10 + i,
            1_000 * i if i % 4 else None,
            1 if i % 4 else 0,
        )
        for i in range(40)
    ]
    for ts, project, model, provider, agent, source, inp, out, cost, priced in rows:
        db.execute(
            "INSERT INTO events (ts, received_at, project, model, provider, agent, source, "
            "batch, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
            "cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, cost_nanos, priced) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, 0, 0, 0, ?, ?)",
            [ts, ts, project, model, provider, agent, source, inp, out, cost, priced],
        )
    db.execute(
        f"INSERT INTO rollup SELECT {BUCKET}, project, model, provider, agent, source, {SUMS} "
        "FROM events GROUP BY 1, 2, 3, 4, 5, 6"
    )
    for dim in ("project", "model", "provider", "agent", "source"):
        db.execute(
            f"INSERT INTO rollup_dim SELECT '{dim}', {BUCKET}, {dim}, {SUMS} FROM events "
            "GROUP BY 2, 3"
        )
    db.execute(
        f"INSERT INTO rollup_dim SELECT 'total', {BUCKET}, '', {SUMS} FROM events GROUP BY 2"
    )
    db.execute(
        "UPDATE meta SET value = (SELECT max(id) FROM events) WHERE key = 'rollup_folded_id'"
    )
    db.conn.commit()
    db.conn.close()


def test_old_events_get_this_machines_name_and_keep_their_sums(tmp_path: Path) -> None:
    path = tmp_path / "spendtray.db"
    _old_database(path)
    open_for_writing(path, machine="laptop").conn.close()

    conn = sqlite3.connect(path)
    assert conn.execute("SELECT DISTINCT machine FROM events").fetchall() == [("laptop",)]
    raw = conn.execute(f"SELECT {SUMS} FROM events").fetchone()
    rollup = conn.execute(
        "SELECT sum(calls), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_nanos), sum(unpriced_calls) "
        "FROM rollup_key_quarter WHERE machine = 'laptop'"
    ).fetchone()
    assert rollup == raw
    conn.close()

    reader = Reader(path, ZoneInfo("UTC"))
    by_machine = reader.summary("machine", Filters())
    assert [(r.key, r.calls, r.cost_nanos) for r in by_machine.rows] == [("laptop", raw[0], raw[6])]
    assert reader.summary("project", Filters(machine="laptop")).total.calls == raw[0]
    assert reader.summary("project", Filters(machine="desktop")).total.calls == 0
    reader.close()
