"""What a refresh reads, on a real store, with the clock injected: local calendar and DST."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spendtray.budgets.evaluate import Evaluator, burn_forecast
from spendtray.budgets.model import Budget
from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.store.reader import Filters
from spendtray.views.snapshot import PARTS, ViewFilters, collect
from spendtray.views.trend import month_trend

BERLIN = ZoneInfo("Europe/Berlin")
# The last Sunday of October 2026: clocks go back at 03:00, so 02:00–03:00 happens twice.
NOW = dt.datetime(2026, 10, 25, 15, 30, tzinfo=BERLIN)


@pytest.fixture
def berlin_core(home: Path) -> Iterator[Core]:
    home.mkdir(parents=True)
    (home / "config.toml").write_text('timezone = "Europe/Berlin"\n')
    core = Core(load_settings(home=home, port=0), clock=lambda: NOW.astimezone(dt.UTC))
    core.start_store()
    try:
        yield core
    finally:
        core.stop()


def _call(when: dt.datetime, project: str, model: str = "gpt-4o") -> dict[str, object]:
    return {
        "model": model,
        "input_tokens": 1_000_000,
        "project": project,
        "timestamp": when.isoformat(),
    }


def test_today_has_25_local_hours_on_the_dst_day(berlin_core: Core) -> None:
    first_two = dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    second_two = dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    berlin_core.ingest.ingest([_call(first_two, "a"), _call(second_two, "b")])
    snapshot = collect(berlin_core.reader, 1, NOW.astimezone(dt.UTC), ViewFilters())
    overview = snapshot.dashboard.overview
    assert len(overview.hour_labels) == 25
    assert overview.hour_labels[:5] == ["00", "01", "02", "02", "03"]
    gpt4o_million = 2_500_000_000  # $2.50 per million input tokens
    assert overview.hour_costs[2] == overview.hour_costs[3] == gpt4o_million
    assert overview.hour_labels[overview.current_hour] == "15"
    assert overview.current_hour == 16
    assert overview.hour_fraction == pytest.approx(0.5)
    assert overview.day_keys[-1] == "2026-10-25" and len(overview.day_keys) == 30
    assert snapshot.tray.today_nanos == 2 * gpt4o_million


def test_thirty_days_stack_the_costliest_projects_and_lump_the_rest(berlin_core: Core) -> None:
    calls = []
    for i in range(8):  # eight projects, project p7 the costliest
        for _ in range(i + 1):
            calls.append(_call(NOW - dt.timedelta(days=i), f"p{i}"))
    calls.append(_call(NOW - dt.timedelta(days=40), "ancient"))  # outside the 30 days
    berlin_core.ingest.ingest(calls)
    data = collect(berlin_core.reader, 1, NOW.astimezone(dt.UTC), ViewFilters()).dashboard
    series = data.overview.day_series
    assert list(series) == ["p7", "p6", "p5", "p4", "p3", "p2", "other projects"]
    assert sum(series["other projects"]) == 3 * 2_500_000_000  # p1 (2 calls) + p0 (1 call)
    assert sum(series["p7"]) == 8 * 2_500_000_000
    assert "ancient" not in data.keys["project"]


def test_live_parts_read_only_what_is_asked(berlin_core: Core) -> None:
    berlin_core.ingest.ingest([_call(NOW, "a"), _call(NOW, "b", model="my-own-model-x")])
    now = NOW.astimezone(dt.UTC)
    only_calls = collect(berlin_core.reader, 1, now, ViewFilters(), frozenset({"calls"}))
    board = only_calls.dashboard
    assert board.overview is None and board.breakdowns is None and board.keys is None
    assert [e["project"] for e in board.events] == ["b", "a"]  # newest first
    assert [u["model"] for u in board.unpriced] == ["my-own-model-x"]
    assert board.range_total.calls == 2 and board.range_total.unpriced_calls == 1
    full = collect(berlin_core.reader, 2, now, ViewFilters(project="a"), PARTS).dashboard
    assert [r.key for r in full.breakdowns["project"].rows] == ["a"]
    assert sorted(full.keys["project"]) == ["a", "b"]  # filter choices ignore the filter
    assert full.unpriced == []
    with pytest.raises(ValueError, match="unknown dashboard parts"):
        collect(berlin_core.reader, 3, now, ViewFilters(), frozenset({"graphs"}))
    with pytest.raises(ValueError, match="time range"):
        ViewFilters(time_range="fortnight")


def test_cards_follow_the_filters_while_the_tray_counts_everything(berlin_core: Core) -> None:
    berlin_core.ingest.ingest(
        [
            _call(NOW, "a"),
            _call(NOW, "b"),
            _call(NOW, "b"),
            _call(NOW - dt.timedelta(days=3), "b"),  # this month, not today
        ]
    )
    now = NOW.astimezone(dt.UTC)
    million = 2_500_000_000
    everything = collect(berlin_core.reader, 1, now, ViewFilters()).dashboard.cards
    assert (everything.today_nanos, everything.month_nanos) == (3 * million, 4 * million)
    assert everything.top_project == ("b", 3 * million)
    snapshot = collect(berlin_core.reader, 2, now, ViewFilters(project="a"))
    cards = snapshot.dashboard.cards
    assert (cards.today_nanos, cards.today_calls) == (million, 1)
    assert (cards.month_nanos, cards.month_calls) == (million, 1)
    assert cards.top_project == ("a", million)
    assert snapshot.tray.today_nanos == 3 * million  # the tray is not filtered


def test_month_trend_draws_each_day_at_its_end_and_forecasts_at_the_recent_pace(
    berlin_core: Core,
) -> None:
    million = 2_500_000_000
    # Oct 1 (old pace) and the last three days and today (the recent pace)
    calls = [_call(dt.datetime(2026, 10, 1, 12, tzinfo=BERLIN), "a") for _ in range(4)]
    calls += [_call(NOW - dt.timedelta(days=d), "a") for d in (3, 2, 1)]
    calls.append(_call(NOW - dt.timedelta(hours=1), "b"))
    berlin_core.ingest.ingest(calls)
    now = NOW.astimezone(dt.UTC)
    trend = month_trend(berlin_core.reader, Filters(), now, budget_nanos=9 * million)
    assert len(trend.day_keys) == 31 and trend.today_index == 24
    assert trend.day_costs[0] == 4 * million and trend.spent_nanos == 8 * million
    xs, ys = trend.points()
    assert xs[:3] == [0.0, 1.0, 2.0]  # Oct 1's spend is drawn where Oct 1 ends
    assert ys[1] == 4 * million
    # today's point sits at "now": 15:30 of a 25-hour day is 16.5 hours in
    assert xs[-1] == pytest.approx(24 + 16.5 / 25)
    # the budgets' rule: spent + (the last 3 days' spend) / elapsed × time left
    # (in UTC: subtracting two Berlin wall-clock times would ignore the 25-hour day)
    since = now - dt.timedelta(days=3)  # on a quarter hour already
    month_end = dt.datetime(2026, 11, 1, tzinfo=BERLIN).astimezone(dt.UTC)
    # in the last 72 hours: the calls 2 days, 1 day and 1 hour ago (3 days ago in Berlin wall
    # time is 73 hours ago across the change of clocks)
    expected = burn_forecast(8 * million, 3 * million, now - since, month_end - now)
    # ... and the very figure a monthly budget over the same calls forecasts
    budget = Budget(project="*", period="month", limit_nanos=9 * million)
    evaluator = Evaluator(berlin_core.reader, BERLIN, 0, lambda: now)
    assert evaluator.status(budget, now).forecast_nanos == expected
    assert trend.forecast_nanos == expected > 8 * million
    assert trend.forecast_points() == ([xs[-1], 31.0], [8 * million, expected])
    assert trend.over_budget() == (expected > 9 * million)
    only_b = month_trend(berlin_core.reader, Filters(project="b"), now, None)
    assert only_b.spent_nanos == million and only_b.budget_nanos is None
