"""Summaries over unaligned and very wide ranges equal the sums of the raw events: by every
dimension and by hour/day/week/month in zones whose days start on the hour, half hour and
quarter hour, with no, one and two filters, folded and not yet folded. And a time grouping
over a range since 1900 answers with the periods that have data, not an error."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from spendtray.core import Core
from spendtray.store.fold import fold
from spendtray.store.reader import DIMENSIONS, Filters
from spendtray.store.timebuckets import TIME_GROUPS, key_of, period_start

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def _events(rng: random.Random, n: int, start: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        # Most over the last 120 days, some years back (a wide range must reach them).
        age = rng.uniform(0, 120 * 86400) if rng.random() < 0.95 else rng.uniform(0, 9e7)
        out.append(
            {
                "request_id": f"r{start + i}",
                "model": rng.choice(["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash"]),
                "project": rng.choice(["a", "b", "c"]),
                "agent": rng.choice(["coder", "reviewer"]),
                "input_tokens": rng.randint(1, 9000),
                "output_tokens": rng.randint(1, 900),
                "timestamp": (NOW - dt.timedelta(seconds=age)).isoformat(),
            }
        )
    return out


@pytest.fixture
def filled(core: Core) -> Core:
    rng = random.Random(19)
    core.ingest.ingest(_events(rng, 2500, 0))
    core.writer.call(lambda db: fold(db.conn))
    core.ingest.ingest(_events(rng, 300, 10_000))  # likely not folded yet: readers add them
    return core


def _stored(core: Core) -> list[dict[str, Any]]:
    conn = sqlite3.connect(core.settings.db_path)
    conn.row_factory = sqlite3.Row
    rows = [dict(row) for row in conn.execute("SELECT * FROM events")]
    conn.close()
    for row in rows:
        row["at"] = dt.datetime.fromtimestamp(row["ts"] / 1000, dt.UTC)
    return rows


def _raw(
    events: list[dict[str, Any]], group: str, filters: Filters, zone: ZoneInfo, week_start: int
) -> dict[str, tuple[int, int, int]]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in events:
        ts = row["at"]
        if filters.since is not None and ts < filters.since:
            continue
        if filters.until is not None and ts >= filters.until:
            continue
        if any(getattr(filters, d) not in (None, row[d]) for d in DIMENSIONS):
            continue
        if group in TIME_GROUPS:
            key = key_of(period_start(ts.astimezone(zone), group, week_start), group)
        else:
            key = row[group]
        target = sums[key]
        target[0] += 1
        target[1] += row["input_tokens"]
        target[2] += row["cost_nanos"] or 0
    return {key: (a, b, c) for key, (a, b, c) in sums.items()}


def _summed(core: Core, group: str, filters: Filters, zone: ZoneInfo) -> dict[str, tuple[int, ...]]:
    summary = core.reader.summary(group, filters, zone)
    keys = [r.key for r in summary.rows]
    assert len(keys) == len(set(keys))
    if group in TIME_GROUPS:
        assert keys == sorted(keys, key=lambda k: keys.index(k))  # periods come in time order
    assert all(r.calls > 0 for r in summary.rows)  # only periods and keys with data
    return {r.key: (r.calls, r.input_tokens, r.cost_nanos) for r in summary.rows}


def _ranges(rng: random.Random) -> list[tuple[dt.datetime | None, dt.datetime | None]]:
    out: list[tuple[dt.datetime | None, dt.datetime | None]] = [
        (None, None),  # all time
        (dt.datetime(1900, 1, 1, tzinfo=dt.UTC), None),  # very wide
        (dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)),
        (NOW - dt.timedelta(days=91), None),
    ]
    for _ in range(6):  # unaligned edges: odd seconds and milliseconds
        a = NOW - dt.timedelta(seconds=rng.uniform(0, 130 * 86400))
        b = a + dt.timedelta(seconds=rng.uniform(1, 60 * 86400))
        out.append((a.replace(microsecond=0), b.replace(microsecond=0)))
    return out


@pytest.mark.parametrize("zone_name", ZONES)
def test_summaries_equal_raw_sums_over_any_range(filled: Core, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    rng = random.Random(zone_name)
    week_start = filled.reader.week_start
    events = _stored(filled)
    # Edges a few seconds from stored events: the partial quarter-hours there hold data.
    stamps = sorted(row["at"] for row in events)
    near = [(a - dt.timedelta(seconds=7), b + dt.timedelta(seconds=3)) for a, b in
            sorted(rng.sample(stamps, 2) for _ in range(4))]  # fmt: skip
    for since, until in [*_ranges(rng), *near]:
        for dims in ({}, {"project": "b"}, {"project": "a", "model": "gpt-4o"}):
            filters = Filters(since=since, until=until, **dims)  # type: ignore[arg-type]
            for group in ("project", "model", "agent", "provider", "source", *TIME_GROUPS):
                want = _raw(events, group, filters, zone, week_start)
                assert _summed(filled, group, filters, zone) == want, (group, since, until, dims)


def test_a_time_grouping_since_1900_answers_the_days_with_data(
    filled: Core, client: httpx.Client
) -> None:
    for group in TIME_GROUPS:
        answer = client.get("/v1/summary", params={"group_by": group, "since": "1900-01-01"})
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
        zone = filled.reader.zone
        since = dt.datetime(1900, 1, 1, tzinfo=zone)
        want = _raw(_stored(filled), group, Filters(since=since), zone, 0)
        assert {r["key"]: r["calls"] for r in rows} == {k: v[0] for k, v in want.items()}
        assert all(r["calls"] > 0 for r in rows)
