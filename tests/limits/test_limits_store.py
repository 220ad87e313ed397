"""The readings table keeps a thinned history: repeats and small steps within a window update
its latest row, real moves and new windows add rows, API-key buckets keep one row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from spendtray.limits.model import Observation
from spendtray.store.db import open_for_writing
from spendtray.store.limits import latest_observations, record_observations

T = 1_800_000_000
MIN = 60_000


def rows(conn: sqlite3.Connection, window: str) -> list[tuple[float, int]]:
    found = conn.execute(
        "SELECT used_percent, observed_at FROM limit_observations WHERE window_name = ? "
        "ORDER BY observed_at",
        (window,),
    )
    return [(float(u), int(o)) for u, o in found]


def reading(
    used: float, at_min: float, resets: int = T + 3600, account: str = "subscription"
) -> Observation:
    window = "five_hour" if account == "subscription" else "tokens"
    minutes = 300 if account == "subscription" else None
    return Observation(
        "anthropic", account, window, minutes, used, resets, int(T * 1000 + at_min * MIN)
    )


def test_history_is_thinned(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "db.sqlite").conn
    base = T * 1000
    assert record_observations(conn, [reading(23.5, 0)]) == 1
    assert record_observations(conn, [reading(23.6, 1), reading(23.9, 2)]) == 0
    assert rows(conn, "five_hour") == [(23.9, base + 2 * MIN)]
    assert record_observations(conn, [reading(25.0, 3)]) == 1  # moved a whole point
    assert record_observations(conn, [reading(25.2, 14)]) == 1  # 11 minutes later
    assert record_observations(conn, [reading(0.5, 20, resets=T + 5 * 3600)]) == 1  # new window
    assert record_observations(conn, [reading(25.0, 3)]) == 0  # a re-import of a stored row
    assert rows(conn, "five_hour") == [
        (23.9, base + 2 * MIN),
        (25.0, base + 3 * MIN),
        (25.2, base + 14 * MIN),
        (0.5, base + 20 * MIN),
    ]
    [latest] = latest_observations(conn)
    assert (latest.used_percent, latest.resets_at) == (0.5, T + 5 * 3600)


def test_api_key_buckets_keep_one_row(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "db.sqlite").conn
    for minute in range(30):
        record_observations(
            conn, [reading(float(minute * 3 % 100), minute, T + minute * 60, account="api")]
        )
    assert rows(conn, "tokens") == [(87.0, T * 1000 + 29 * MIN)]
