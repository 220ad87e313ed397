"""``rollup_recent``: each project's quarter-hours over the last two days. The runaway alarm's
per-quarter-hour costs (``Reader.cost_per_bucket``) equal the raw events' for ranges before,
across and after where the table starts, folded or not, and as the clock moves its start on."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from spendtray.store.db import open_for_writing
from spendtray.store.fold import RECENT_SECONDS, fold, recent_from
from spendtray.store.reader import Reader

NOW = time.time()


def _insert(conn: sqlite3.Connection, rng: random.Random, n: int, now: float) -> None:
    for _ in range(n):
        ts = int((now - rng.uniform(0, 3 * 86_400)) * 1000)
        cost = rng.randrange(1, 10**9) if rng.random() < 0.9 else None
        conn.execute(
            "INSERT INTO events (ts, received_at, project, model, provider, agent, source, "
            "machine, batch, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_tokens, cache_write_5m_tokens, cache_write_1h_tokens, "
            "reasoning_tokens, cost_nanos, priced) "
            "VALUES (?, ?, ?, 'gpt-4o', 'openai', '', 'api', 'm', 0, 1, 1, 0, 0, 0, 0, 0, ?, ?)",
            [ts, ts, rng.choice(["a", "b"]), cost, 0 if cost is None else 1],
        )


def _raw(conn: sqlite3.Connection, project: str, start: int, end: int) -> dict[int, int]:
    return {
        int(b): int(n)
        for b, n in conn.execute(
            "SELECT ts / 1000 / 900 * 900, sum(coalesce(cost_nanos, 0)) FROM events "
            "WHERE ts >= ? AND ts < ? AND project = ? GROUP BY 1",
            (start * 1000, end * 1000, project),
        )
    }


def _check(conn: sqlite3.Connection, reader: Reader, rng: random.Random) -> None:
    kept = recent_from(conn)
    assert kept is not None
    for _ in range(30):
        start = kept + rng.randrange(-86_400, 86_400) // 900 * 900
        end = start + rng.randrange(900, 86_400) // 900 * 900
        for project in ("a", "b"):
            assert reader.cost_per_bucket(project, start, end) == _raw(conn, project, start, end)
    # The table holds exactly the folded events from its start on.
    want = set(
        conn.execute(
            "SELECT ts / 1000 / 900 * 900, project, count(*), sum(coalesce(cost_nanos, 0)) "
            "FROM events WHERE ts >= ? AND id <= (SELECT CAST(value AS INTEGER) FROM meta "
            "WHERE key = 'rollup_folded_id') GROUP BY 1, 2",
            (kept * 1000,),
        )
    )
    assert set(conn.execute("SELECT * FROM rollup_recent")) == want


def test_runaway_quarter_hours_are_exact_as_the_clock_moves(tmp_path: Path) -> None:
    path = tmp_path / "spendtray.db"
    conn = open_for_writing(path).conn
    reader = Reader(path, ZoneInfo("UTC"))
    rng = random.Random(15)
    try:
        kept = recent_from(conn)
        assert kept is not None and abs(kept - (NOW - RECENT_SECONDS)) < 1800
        _insert(conn, rng, 800, NOW)
        conn.execute("BEGIN IMMEDIATE")
        fold(conn, now=NOW)
        conn.execute("COMMIT")
        _check(conn, reader, rng)
        _insert(conn, rng, 200, NOW)  # not folded yet
        _check(conn, reader, rng)
        # Five hours later the table starts five hours later, and still agrees.
        conn.execute("BEGIN IMMEDIATE")
        fold(conn, now=NOW + 5 * 3600)
        conn.execute("COMMIT")
        moved = recent_from(conn)
        assert moved is not None and moved - kept >= 5 * 3600 - 900
        assert conn.execute("SELECT min(bucket) FROM rollup_recent").fetchone()[0] >= moved
        _check(conn, reader, rng)
    finally:
        reader.close()
        conn.close()
