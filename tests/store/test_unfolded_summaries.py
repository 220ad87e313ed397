"""Summaries over events the writer has not folded yet (``Reader`` sums them per quarter-hour
in SQL): every grouping, in zones a whole hour, half an hour and three quarters off UTC, over
ranges whose ends cut quarter-hours, equals the same summary once the events are folded."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.store.fold import fold, folded_through
from spendtray.store.reader import Filters, Reader

NOW = dt.datetime(2026, 11, 30, 12, 7, 31, tzinfo=dt.UTC)
GROUPS = ("hour", "day", "week", "month", "project", "model")


def _events(rng: random.Random, n: int, first: dt.datetime, seconds: int) -> list[dict[str, Any]]:
    return [
        {
            "model": rng.choice(["gpt-4o", "claude-sonnet-4-5"]),
            "project": rng.choice(["a", "b", "c"]),
            "input_tokens": rng.randint(1, 9_000),
            "output_tokens": rng.randint(1, 900),
            "request_id": f"r{i}-{first.year}",
            "timestamp": (first + dt.timedelta(seconds=rng.randint(0, seconds))).isoformat(),
        }
        for i in range(n)
    ]


def _answers(reader: Reader, filters: list[Filters], zones: list[ZoneInfo]) -> list[Any]:
    out = []
    for zone in zones:
        for f in filters:
            for group in GROUPS:
                s = reader.summary(group, f, zone)
                out.append([(r.key, r.calls, r.input_tokens, r.cost_nanos) for r in s.rows])
    return out


@pytest.fixture
def unfolded_store(tmp_path: Path) -> Any:
    core = Core(load_settings(home=tmp_path / "home", port=0), clock=lambda: NOW)
    core.start_store(folds=False)  # everything stays above the folded mark until we fold
    yield core
    core.stop()


def test_unfolded_events_sum_like_folded_ones(unfolded_store: Core) -> None:
    core = unfolded_store
    rng = random.Random(3)
    core.ingest.ingest(_events(rng, 3_000, NOW - dt.timedelta(days=75), 75 * 86400))
    db = core.writer
    assert db.call(lambda d: folded_through(d.conn)) == 0
    filters = [
        Filters(),
        Filters(
            since=NOW - dt.timedelta(days=40, minutes=7, seconds=13),
            until=NOW - dt.timedelta(hours=3, minutes=17, seconds=41),
        ),
        Filters(project="b", since=NOW - dt.timedelta(days=9, minutes=1)),
    ]
    zones = [ZoneInfo(z) for z in ("Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu")]
    before = _answers(core.reader, filters, zones)
    assert sum(calls for _, calls, _, _ in before[GROUPS.index("project")]) == 3_000
    db.call(lambda d: fold(d.conn))
    assert db.call(lambda d: folded_through(d.conn)) > 0
    assert _answers(core.reader, filters, zones) == before


def test_every_zone_offset_since_2015_is_whole_quarter_hours() -> None:
    # The premise of summing unfolded events per quarter-hour: no period edge of any zone
    # falls inside one for events the ingest accepts (2015 on). Sampled every 6 days, which
    # sees every offset a zone kept for longer.
    start = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    odd = set()
    for name in zoneinfo.available_timezones():
        zone = ZoneInfo(name)
        for day in range(0, 16 * 366, 6):
            offset = (start + dt.timedelta(days=day)).astimezone(zone).utcoffset()
            if offset is not None and offset.total_seconds() % 900:
                odd.add(name)
                break
    assert not odd
