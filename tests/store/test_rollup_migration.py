"""Migrations 0017–0020: a database whose rollups the old layout kept (``rollup``, ``rollup_dim``,
``rollup_day``, some events not folded yet) opens with the quarter-hour and day tables equal to
rollups rebuilt from its folded events, the old tables gone, and summaries and the next fold
exact."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from spendtray.store import migrations as shipped
from spendtray.store.db import open_for_writing
from spendtray.store.fold import QUARTER_DIMS, fold
from spendtray.store.reader import Filters, Reader

SUMS = (
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
    "sum(cache_write_tokens), sum(reasoning_tokens), sum(coalesce(cost_nanos, 0)), "
    "sum(1 - priced)"
)
KEYS = ("project", "model", "provider", "agent", "source", "machine")
QUARTER = "(ts / 1000) / 900 * 900"
N_EVENTS = 600
FOLDED = 500  # the old writer had folded this far when the new version opened the file


def _old_database(path: Path) -> None:
    """Every migration before 0017, then events and the rollups the quarter-hour layout kept
    for the first ``FOLDED`` of them."""
    db = Database(sqlite3.connect(path))
    before = Migrations("spendtray")
    for migration in shipped.migrations._migrations:
        if migration.name < "0017":
            before(name=migration.name)(migration.fn)
    before.apply(db)
    rng = random.Random(17)
    start = int(dt.datetime(2026, 9, 1, tzinfo=dt.UTC).timestamp() * 1000)
    recent = int(time.time() * 1000)
    for _ in range(N_EVENTS):
        ts = start + rng.randrange(0, 40 * 86_400_000)
        if rng.random() < 0.2:  # the last day and a half: rollup_recent's
            ts = recent - rng.randrange(0, 36 * 3_600_000)
        cost = rng.randrange(1, 10**9) if rng.random() < 0.9 else None
        db.execute(
            "INSERT INTO events (ts, received_at, project, model, provider, agent, source, "
            "machine, batch, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_tokens, cache_write_5m_tokens, cache_write_1h_tokens, "
            "reasoning_tokens, cost_nanos, priced) "
            "VALUES (?, ?, ?, ?, ?, ?, 'api', ?, 0, ?, ?, ?, 0, 0, 0, ?, ?, ?)",
            [
                ts,
                ts,
                rng.choice(["p1", "p2", "p3"]),
                rng.choice(["gpt-4o", "claude-sonnet-4-5"]),
                rng.choice(["openai", "anthropic"]),
                rng.choice(["", "coder"]),
                rng.choice(["laptop", "desktop"]),
                rng.randrange(1, 9000),
                rng.randrange(1, 900),
                rng.randrange(0, 500),
                rng.randrange(0, 50),
                cost,
                0 if cost is None else 1,
            ],
        )
    folded = f"WHERE id <= {FOLDED}"
    db.execute(
        f"INSERT INTO rollup SELECT {QUARTER}, {', '.join(KEYS)}, {SUMS} FROM events {folded} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    for dim in KEYS:
        db.execute(
            f"INSERT INTO rollup_dim SELECT '{dim}', {QUARTER}, {dim}, {SUMS} FROM events "
            f"{folded} GROUP BY 2, 3"
        )
    db.execute(
        f"INSERT INTO rollup_dim SELECT 'total', {QUARTER}, '', {SUMS} FROM events {folded} "
        "GROUP BY 2"
    )
    db.execute(
        "INSERT INTO rollup_day SELECT dim, bucket / 86400 * 86400, key, sum(calls), "
        "sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_nanos), "
        "sum(unpriced_calls) FROM rollup_dim GROUP BY 1, 2, 3"
    )
    db.execute(f"UPDATE meta SET value = '{FOLDED}' WHERE key = 'rollup_folded_id'")
    db.conn.commit()
    db.conn.close()


def _tables(conn: sqlite3.Connection, last_id: int) -> dict[str, set[tuple[Any, ...]]]:
    """The new rollup tables as they are (``last_id`` 0) or as rebuilt from the events up
    to ``last_id``."""
    out: dict[str, set[tuple[Any, ...]]] = {}
    for period, seconds in (("quarter", 900), ("day", 86400)):
        start = f"(ts / 1000) / {seconds} * {seconds}"
        keyed, per_dim = f"rollup_key_{period}", f"rollup_{period}"
        if not last_id:
            out[keyed] = set(conn.execute(f"SELECT * FROM {keyed}"))
            out[per_dim] = set(conn.execute(f"SELECT * FROM {per_dim}"))
            continue
        where = f"WHERE id <= {last_id}"
        out[keyed] = set(
            conn.execute(
                f"SELECT {start}, {', '.join(KEYS)}, {SUMS} FROM events {where} "
                "GROUP BY 1, 2, 3, 4, 5, 6, 7"
            )
        )
        out[per_dim] = set()
        for dim in (*KEYS, "total") if period == "day" else QUARTER_DIMS:
            key = "''" if dim == "total" else dim
            out[per_dim] |= set(
                conn.execute(
                    f"SELECT '{dim}', {start}, {key}, {SUMS} FROM events {where} GROUP BY 2, 3"
                )
            )
    return out


def test_old_rollups_become_quarter_hour_and_day_tables(tmp_path: Path) -> None:
    path = tmp_path / "spendtray.db"
    _old_database(path)
    conn = open_for_writing(path).conn
    reader = Reader(path, ZoneInfo("Europe/Berlin"))
    try:
        _check(conn, reader)
    finally:
        reader.close()
        conn.close()


def _check(conn: sqlite3.Connection, reader: Reader) -> None:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"rollup", "rollup_dim", "rollup_hour", "rollup_key_hour"}.isdisjoint(names)
    assert _tables(conn, 0) == _tables(conn, FOLDED)
    recent = (
        "SELECT ts / 1000 / 900 * 900, project, count(*), sum(coalesce(cost_nanos, 0)) "
        "FROM events WHERE ts >= (SELECT value * 1000 FROM meta WHERE key = "
        f"'rollup_recent_from') AND id <= {FOLDED} GROUP BY 1, 2"
    )
    assert set(conn.execute("SELECT * FROM rollup_recent")) == set(conn.execute(recent))
    assert conn.execute("SELECT count(*) FROM rollup_recent").fetchone()[0] > 10

    # Summaries are exact with the events above the folded mark still unfolded ...
    raw = dict(
        (key, (n, cost))
        for key, n, cost in conn.execute(
            "SELECT project, count(*), sum(coalesce(cost_nanos, 0)) FROM events GROUP BY 1"
        )
    )
    by_project = reader.summary("project", Filters())
    assert {r.key: (r.calls, r.cost_nanos) for r in by_project.rows} == raw
    days = reader.summary("day", Filters(project="p2", model="gpt-4o"))
    assert (
        days.total.calls
        == conn.execute(
            "SELECT count(*) FROM events WHERE project = 'p2' AND model = 'gpt-4o'"
        ).fetchone()[0]
    )

    # ... and the next fold takes them in.
    conn.execute("BEGIN IMMEDIATE")
    assert fold(conn) == N_EVENTS - FOLDED
    conn.execute("COMMIT")
    assert _tables(conn, 0) == _tables(conn, N_EVENTS)
    assert {r.key: (r.calls, r.cost_nanos) for r in reader.summary("project", Filters()).rows} == (
        raw
    )
