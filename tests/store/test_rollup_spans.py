"""The arithmetic summaries rest on: the signed day/hour/raw spans a range is summed from cover
exactly that range, and the by-arithmetic local hours equal the calendar's."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from spendtray.store.reader import _decompose
from spendtray.store.timebuckets import ranges, steady_hours, steady_offset

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def _coverage(a: int, b: int) -> tuple[dict[int, int], list[list[int]]]:
    """How many times the spans of [a, b) count each point where coverage can change."""
    days: list[list[int]] = []
    hours: list[list[int]] = []
    raw: list[list[int]] = []
    _decompose(0, a, b, days, hours, raw)
    spans = [[s, lo * 1000, hi * 1000] for _, s, lo, hi in days + hours]
    spans += [[s, lo, hi] for _, s, lo, hi in raw]
    points = {a - 1, a, b - 1, b}
    for _, lo, hi in spans:
        points |= {lo - 1, lo, hi - 1, hi}
    counted = {x: sum(s for s, lo, hi in spans if lo <= x < hi) for x in points}
    return counted, days + hours


@pytest.mark.parametrize("seed", range(4))
def test_signed_spans_cover_a_range_exactly_once(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        a = rng.randrange(0, 400 * DAY_MS)
        b = a + rng.choice([rng.randrange(1, HOUR_MS), rng.randrange(1, 3 * DAY_MS), 200 * DAY_MS])
        if rng.random() < 0.3:  # edges on whole quarter-hours and hours
            unit = rng.choice([HOUR_MS // 4, HOUR_MS])
            a, b = a // unit * unit, -(-b // unit) * unit
        counted, rollup_spans = _coverage(a, b)
        assert counted == {x: int(a <= x < b) for x in counted}, (a, b)
        # Whole quarter-hours and days only, never more than half a day of quarters per end.
        assert all(lo % 900 == 0 and hi % 900 == 0 for _, _, lo, hi in rollup_spans)
        assert sum(hi - lo for _, s, lo, hi in rollup_spans if hi - lo < 86400) <= 2 * 43200


@pytest.mark.parametrize(
    "zone_name",
    ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe",
     "Pacific/Chatham", "America/St_Johns", "UTC"],
)  # fmt: skip
def test_steady_hours_are_the_calendars_hours(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    steady = 0
    day = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
    for _ in range(366):
        offset = steady_offset(day, day + 86400, zone)
        since = dt.datetime.fromtimestamp(day, dt.UTC)
        want = [
            (key, int(start.timestamp()))
            for key, start, _ in ranges(since, since + dt.timedelta(days=1), "hour", zone)
        ]
        if offset is not None:
            steady += 1
            got = steady_hours(day, day + 86400, offset)
            # ranges() clips the first hour to the day's start; its key says which hour it is.
            assert [key for key, _ in got] == [key for key, _ in want]
            assert [start for _, start in got[1:]] == [start for _, start in want[1:]]
            assert got[0][1] <= want[0][1] < got[0][1] + 3600
        day += 86400
    assert steady >= 360  # only the days around a clock change take the calendar's way
