"""What the tray and the dashboard show, computed from the Reader in one go. Pure Python.

Runs on the refresh worker thread (never the GUI thread): every figure comes from
``Reader.summary`` (rollups, so cost grows with buckets, not events) or ``Reader.events``.
The result is an immutable snapshot handed to the GUI thread by signal.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spendtray.store.reader import Filters, Reader, Summary, SummaryRow
from spendtray.store.timebuckets import current_period, ranges
from spendtray.views.machines import MachineSync, ThisMachine, machine_sync
from spendtray.views.trend import MonthTrend, month_trend

# Time ranges offered by the dashboard's filter bar: label -> how far back from now.
TIME_RANGES: dict[str, str] = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "month": "This month",
    "all": "All time",
}
BREAKDOWNS = ("project", "model", "provider", "agent", "source", "machine")
STACKED_PROJECTS = 6  # more than this many colours in one bar stops being readable
DAYS_SHOWN = 30
RECENT_CALLS = 200
KEY_DIMS = ("project", "model", "provider", "source", "machine")
# What a refresh can read for the dashboard. A live refresh reads only the visible tab's part;
# opening the dashboard, changing a filter and the minute tick read them all.
PARTS = frozenset({"overview", "breakdown", "calls", "keys"})

# Budget limits to draw on the graphs: ("day" | "month") -> limit in nano-dollars.
BudgetLines = Callable[[str | None], dict[str, int]]


@dataclass(frozen=True)
class ViewFilters:
    """The dashboard's filter bar."""

    project: str | None = None
    model: str | None = None
    provider: str | None = None
    source: str | None = None  # where calls came from: api, claude-code, codex, …
    machine: str | None = None  # the machine the calls were made on (SPEC §14)
    time_range: str = "30d"

    def __post_init__(self) -> None:
        if self.time_range not in TIME_RANGES:
            raise ValueError(f"time range {self.time_range!r} is not one of {list(TIME_RANGES)}")

    def reader_filters(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> Filters:
        return Filters(
            project=self.project,
            model=self.model,
            provider=self.provider,
            source=self.source,
            machine=self.machine,
            since=since,
            until=until,
        )

    def since(self, now: dt.datetime, reader: Reader) -> dt.datetime | None:
        zone = reader.zone
        if self.time_range == "today":
            return current_period(now, "day", zone)[0]
        if self.time_range == "month":
            return current_period(now, "month", zone)[0]
        if self.time_range == "7d":
            return now - dt.timedelta(days=7)
        if self.time_range == "30d":
            return now - dt.timedelta(days=30)
        return None


@dataclass(frozen=True)
class TrayFigures:
    """Today / this month for the tray, over all projects (no dashboard filter applies)."""

    today_nanos: int
    today_calls: int
    month_nanos: int
    month_calls: int
    top_project: tuple[str, int] | None  # this month's costliest project
    unpriced_calls_month: int
    any_events: bool


@dataclass(frozen=True)
class Overview:
    """The Overview tab's two charts."""

    hour_labels: list[str]  # local wall-clock hours of today ("00", "01", …; 23/25 on DST days)
    hour_costs: list[int]  # nano-dollars spent in each hour
    current_hour: int  # index of the hour containing now (the cumulative line stops there)
    hour_fraction: float  # how far into that hour now is (0–1), so the line ends at "now"
    day_keys: list[str]  # the last 30 local days, oldest first, "YYYY-MM-DD"
    day_series: dict[str, list[int]]  # project -> nano-dollars per day (costliest first)
    budget_lines: dict[str, int] = field(default_factory=dict)
    days_in_month: int = 30  # this local month's length, for a monthly budget's daily pace
    month: MonthTrend | None = None  # this month day by day, with its forecast

    def daily_line(self) -> tuple[int, str] | None:
        """The line a day's spend is measured against: the daily budget, else the daily pace
        that keeps the month inside its monthly budget."""
        if self.budget_lines.get("day"):
            return self.budget_lines["day"], "daily budget"
        month = self.budget_lines.get("month")
        if month:
            return month // self.days_in_month, f"monthly budget ÷ {self.days_in_month} days"
        return None


@dataclass(frozen=True)
class Cards:
    """The dashboard's headline figures, under its project/model/provider/source/machine filters
    (the tray's figures are the same over everything)."""

    today_nanos: int
    today_calls: int
    month_nanos: int
    month_calls: int
    top_project: tuple[str, int] | None  # this month's costliest project under the filters


@dataclass(frozen=True)
class DashboardData:
    """What one refresh read; parts the user is not looking at may be None (not read)."""

    filters: ViewFilters
    range_total: SummaryRow  # the selected range, with the filters
    unpriced: list[dict[str, Any]]  # models without a price in the selected range
    cards: Cards | None = None
    overview: Overview | None = None
    breakdowns: dict[str, Summary] | None = None
    events: list[dict[str, Any]] | None = None
    keys: dict[str, list[str]] | None = None  # filter choices: every key in the range
    machines: MachineSync | None = None  # each machine's last sync (read with the breakdowns)


@dataclass(frozen=True)
class Snapshot:
    generation: int  # which refresh request this answers
    now: dt.datetime
    tray: TrayFigures
    dashboard: DashboardData | None  # None when only the tray asked
    seconds: float  # how long collecting took


def collect_cards(reader: Reader, filters: ViewFilters, now: dt.datetime) -> Cards:
    zone = reader.zone
    day_lo, day_hi = current_period(now, "day", zone)
    month_lo, month_hi = current_period(now, "month", zone)
    month = reader.summary("project", filters.reader_filters(month_lo, month_hi))
    today = reader.summary("month", filters.reader_filters(day_lo, day_hi)).total
    top = month.rows[0] if month.rows and month.rows[0].cost_nanos > 0 else None
    return Cards(
        today_nanos=today.cost_nanos,
        today_calls=today.calls,
        month_nanos=month.total.cost_nanos,
        month_calls=month.total.calls,
        top_project=(top.key, top.cost_nanos) if top else None,
    )


def collect_tray(reader: Reader, now: dt.datetime) -> TrayFigures:
    zone = reader.zone
    day_lo, day_hi = current_period(now, "day", zone)
    month_lo, month_hi = current_period(now, "month", zone)
    month = reader.summary("project", Filters(since=month_lo, until=month_hi))
    today = reader.summary("project", Filters(since=day_lo, until=day_hi))
    top = month.rows[0] if month.rows and month.rows[0].cost_nanos > 0 else None
    # newest-first with limit 1 is an index probe; counting would scan every rollup row
    any_events = bool(month.rows) or bool(reader.events(Filters(), limit=1)[0])
    return TrayFigures(
        today_nanos=today.total.cost_nanos,
        today_calls=today.total.calls,
        month_nanos=month.total.cost_nanos,
        month_calls=month.total.calls,
        top_project=(top.key, top.cost_nanos) if top else None,
        unpriced_calls_month=month.total.unpriced_calls,
        any_events=any_events,
    )


def _today_by_hour(
    reader: Reader, filters: ViewFilters, now: dt.datetime
) -> tuple[list[str], list[int], int, float]:
    zone = reader.zone
    day_lo, day_hi = current_period(now, "day", zone)
    hours = ranges(day_lo, day_hi, "hour", zone)
    summary = reader.summary("hour", filters.reader_filters(day_lo, day_hi))
    by_key = {row.key: row.cost_nanos for row in summary.rows}
    labels = [lo.astimezone(zone).strftime("%H") for _, lo, _ in hours]
    costs = [by_key.get(key, 0) for key, _, _ in hours]
    seen: dict[str, int] = {}
    for key, _, _ in hours:
        seen[key] = seen.get(key, 0) + 1
    for i, (key, lo, hi) in enumerate(hours):
        if seen[key] > 1:
            # The hour repeated when clocks go back has one key for both; read each apart.
            costs[i] = reader.summary("month", filters.reader_filters(lo, hi)).total.cost_nanos
    current = next((i for i, (_, lo, hi) in enumerate(hours) if lo <= now < hi), len(hours) - 1)
    _, lo, hi = hours[current]
    fraction = min(1.0, max(0.0, (now - lo) / (hi - lo)))
    return labels, costs, current, fraction


def _last_days(
    reader: Reader, filters: ViewFilters, now: dt.datetime
) -> tuple[list[str], dict[str, list[int]]]:
    zone = reader.zone
    today_lo, today_hi = current_period(now, "day", zone)
    start = today_lo - dt.timedelta(days=DAYS_SHOWN + 1)
    days = ranges(start, today_hi, "day", zone)[-DAYS_SHOWN:]
    per_day: list[dict[str, int]] = []
    totals: dict[str, int] = {}
    for _, lo, hi in days:
        summary = reader.summary("project", filters.reader_filters(lo, hi))
        costs = {row.key: row.cost_nanos for row in summary.rows}
        per_day.append(costs)
        for project, cost in costs.items():
            totals[project] = totals.get(project, 0) + cost
    # a project with no priced spend would only add an empty legend entry
    ranked = sorted((p for p in totals if totals[p] > 0), key=lambda p: (-totals[p], p))
    shown = ranked[:STACKED_PROJECTS]
    series = {p: [d.get(p, 0) for d in per_day] for p in shown}
    rest = ranked[STACKED_PROJECTS:]
    if rest:
        series["other projects"] = [sum(d.get(p, 0) for p in rest) for d in per_day]
    return [key for key, _, _ in days], series


def collect_overview(
    reader: Reader, filters: ViewFilters, now: dt.datetime, budget_lines: BudgetLines | None
) -> Overview:
    hour_labels, hour_costs, current_hour, fraction = _today_by_hour(reader, filters, now)
    day_keys, day_series = _last_days(reader, filters, now)
    lines = budget_lines(filters.project) if budget_lines else {}
    return Overview(
        hour_labels=hour_labels,
        hour_costs=hour_costs,
        current_hour=current_hour,
        hour_fraction=fraction,
        day_keys=day_keys,
        day_series=day_series,
        budget_lines=lines,
        days_in_month=len(ranges(*current_period(now, "month", reader.zone), "day", reader.zone)),
        month=month_trend(reader, filters.reader_filters(), now, lines.get("month")),
    )


@dataclass
class UnpricedMemo:
    """The last unpriced-model list and the count it was read for (one per worker)."""

    filters: ViewFilters | None = None
    calls: int = -1
    models: list[dict[str, Any]] = field(default_factory=list)


def collect_dashboard(
    reader: Reader,
    filters: ViewFilters,
    now: dt.datetime,
    parts: frozenset[str] = PARTS,
    budget_lines: BudgetLines | None = None,
    memo: UnpricedMemo | None = None,
    this_machine: ThisMachine | None = None,
) -> DashboardData:
    """Read the ``parts`` asked for; the range total and unpriced models always."""
    unknown = parts - PARTS
    if unknown:
        raise ValueError(f"unknown dashboard parts {sorted(unknown)}; known: {sorted(PARTS)}")
    since = filters.since(now, reader)
    ranged = filters.reader_filters(since, None)
    # "month" groups the range into at most a few calendar months of the total rollup: the
    # cheapest way to the range's total through the Reader.
    total = reader.summary("month", ranged).total
    # Listing unpriced models reads raw events (no rollup keeps the reason), so only when there
    # are some, and again only when the filters or the number of unpriced calls changed.
    memo = memo or UnpricedMemo()
    fresh = memo.filters != filters or memo.calls != total.unpriced_calls
    if fresh:
        memo.models = reader.unpriced_models(ranged) if total.unpriced_calls else []
        memo.filters, memo.calls = filters, total.unpriced_calls
    unpriced = memo.models
    breakdowns = (
        {group: reader.summary(group, ranged) for group in BREAKDOWNS}
        if "breakdown" in parts
        else None
    )
    keys = None
    if "keys" in parts:
        unfiltered = Filters(since=since)
        # no filter set: the breakdowns already list every key of their dimensions in the range
        known = breakdowns if breakdowns is not None and ranged == unfiltered else {}
        keys = {
            dim: [
                r.key
                for r in (known[dim] if dim in known else reader.summary(dim, unfiltered)).rows
            ]
            for dim in KEY_DIMS
        }
    return DashboardData(
        filters=filters,
        range_total=total,
        unpriced=unpriced,
        cards=collect_cards(reader, filters, now),
        overview=(
            collect_overview(reader, filters, now, budget_lines) if "overview" in parts else None
        ),
        breakdowns=breakdowns,
        machines=(
            machine_sync(reader, this_machine)
            if this_machine is not None and "breakdown" in parts
            else None
        ),
        events=reader.events(ranged, limit=RECENT_CALLS)[0] if "calls" in parts else None,
        keys=keys,
    )


def collect(
    reader: Reader,
    generation: int,
    now: dt.datetime,
    filters: ViewFilters | None,
    parts: frozenset[str] = PARTS,
    budget_lines: BudgetLines | None = None,
    memo: UnpricedMemo | None = None,
    this_machine: ThisMachine | None = None,
) -> Snapshot:
    """Tray figures always; the dashboard's data only when ``filters`` is given (it is open)."""
    started = time.perf_counter()
    tray = collect_tray(reader, now)
    dashboard = (
        collect_dashboard(reader, filters, now, parts, budget_lines, memo, this_machine)
        if filters is not None
        else None
    )
    return Snapshot(generation, now, tray, dashboard, time.perf_counter() - started)
