"""Summaries from rollups equal summaries computed from raw events, at any range and zone."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from zoneinfo import ZoneInfo

from spendtray.core import Core
from spendtray.store.reader import Filters


def _raw_sum(
    core: Core, since: dt.datetime, until: dt.datetime, project: str | None
) -> tuple[int, int]:
    conn = sqlite3.connect(core.settings.db_path)
    sql = "SELECT count(*), coalesce(sum(cost_nanos), 0) FROM events WHERE ts >= ? AND ts < ?"
    args: list[object] = [int(since.timestamp() * 1000), int(until.timestamp() * 1000)]
    if project:
        sql += " AND project = ?"
        args.append(project)
    n, cost = conn.execute(sql, args).fetchone()
    conn.close()
    return int(n), int(cost)


def test_rollup_summary_equals_raw_events(core: Core) -> None:
    rng = random.Random(3)
    base = dt.datetime(2026, 10, 20, tzinfo=dt.UTC)
    events = [
        {
            "model": rng.choice(["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "unknown-x"]),
            "project": rng.choice(["a", "b", "c"]),
            "input_tokens": rng.randint(0, 50_000),
            "output_tokens": rng.randint(0, 5_000),
            "timestamp": (base + dt.timedelta(seconds=rng.randint(0, 30 * 86400))).isoformat(),
        }
        for _ in range(3000)
    ]
    core.ingest.ingest(events)
    for _ in range(25):
        a = base + dt.timedelta(seconds=rng.randint(0, 30 * 86400))
        b = a + dt.timedelta(seconds=rng.randint(1, 10 * 86400))
        project = rng.choice([None, "a", "b"])
        summary = core.reader.summary("project", Filters(project=project, since=a, until=b))
        assert (summary.total.calls, summary.total.cost_nanos) == _raw_sum(core, a, b, project)


def test_days_follow_dst_in_the_zone(core: Core) -> None:
    # Europe/Berlin leaves DST on 2026-10-25: that local day is 25 hours long.
    zone = ZoneInfo("Europe/Berlin")
    start = dt.datetime(2026, 10, 25, 0, 0, tzinfo=zone)
    hours = [start.astimezone(dt.UTC) + dt.timedelta(hours=h) for h in range(25)]
    core.ingest.ingest(
        [{"model": "gpt-4o", "input_tokens": 1, "timestamp": h.isoformat()} for h in hours]
    )
    summary = core.reader.summary("day", Filters(), zone)
    assert [(r.key, r.calls) for r in summary.rows] == [("2026-10-25", 25)]
    by_hour = core.reader.summary("hour", Filters(), zone)
    assert len(by_hour.rows) == 25 and all(r.calls == 1 for r in by_hour.rows)
    # the repeated 02:00 hour is told apart by its offset
    keys = [r.key for r in by_hour.rows]
    assert keys.index("2026-10-25T02:00+02:00") + 1 == keys.index("2026-10-25T02:00+01:00")


def test_half_hour_zone_days(core: Core) -> None:
    zone = ZoneInfo("Asia/Kolkata")  # UTC+5:30
    core.ingest.ingest(
        [
            {"model": "gpt-4o", "input_tokens": 1, "timestamp": "2026-11-21T18:29:00Z"},
            {"model": "gpt-4o", "input_tokens": 1, "timestamp": "2026-11-21T18:31:00Z"},
        ]
    )
    rows = core.reader.summary("day", Filters(), zone).rows
    assert [(r.key, r.calls) for r in rows] == [("2026-11-21", 1), ("2026-11-22", 1)]
