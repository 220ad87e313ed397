"""This month's spend day by day and where it is heading: the Overview's trend chart. Pure.

Runs on the refresh worker. The forecast is the monthly budgets' rule (``lookback_start``,
``burn_forecast``): spend so far plus the pace of the last three days carried on to the end of
the month, so the chart and the Budgets tab's forecast column show the same figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from itertools import accumulate

from spendtray.budgets.evaluate import burn_forecast, lookback_start
from spendtray.store.reader import Filters, Reader
from spendtray.store.timebuckets import current_period, ranges


@dataclass(frozen=True)
class MonthTrend:
    day_keys: list[str]  # every local day of this month, "YYYY-MM-DD"
    day_costs: list[int]  # nano-dollars per day, through today (shorter than day_keys)
    today_index: int
    day_fraction: float  # how far into today now is (0–1)
    forecast_nanos: int  # the month's spend by its last day at the recent pace
    budget_nanos: int | None  # the monthly budget the forecast is measured against

    @property
    def cumulative(self) -> list[int]:
        return list(accumulate(self.day_costs))

    @property
    def spent_nanos(self) -> int:
        return sum(self.day_costs)

    def points(self) -> tuple[list[float], list[int]]:
        """(x, cumulative nanos): x is days since the month began; each day's point sits at
        its end, today's at now."""
        xs = [0.0, *(float(i + 1) for i in range(len(self.day_costs)))]
        xs[-1] = self.today_index + self.day_fraction
        return xs, [0, *self.cumulative]

    def forecast_points(self) -> tuple[list[float], list[int]]:
        """The dashed line from now to the month's end."""
        xs, ys = self.points()
        return [xs[-1], float(len(self.day_keys))], [ys[-1], self.forecast_nanos]

    def over_budget(self) -> bool:
        return self.budget_nanos is not None and self.forecast_nanos > self.budget_nanos


def month_trend(
    reader: Reader, filters: Filters, now: dt.datetime, budget_nanos: int | None
) -> MonthTrend:
    """``filters`` are the dashboard's dimension filters; the month bounds are set here."""
    zone = reader.zone
    month_lo, month_hi = current_period(now, "month", zone)
    days = ranges(month_lo, month_hi, "day", zone)
    scoped = Filters(
        project=filters.project,
        model=filters.model,
        provider=filters.provider,
        source=filters.source,
        since=month_lo,
        until=month_hi,
    )
    by_day = {row.key: row.cost_nanos for row in reader.summary("day", scoped).rows}
    today = next((i for i, (_, lo, hi) in enumerate(days) if lo <= now < hi), len(days) - 1)
    costs = [by_day.get(key, 0) for key, _, _ in days[: today + 1]]
    _, today_lo, today_hi = days[today]
    fraction = min(1.0, max(0.0, (now - today_lo) / (today_hi - today_lo)))
    # the pace exactly as a monthly budget measures it, so the chart and the Budgets tab agree
    since = lookback_start(now, "month")
    recent = reader.summary("month", replace(scoped, since=since)).total.cost_nanos
    forecast = burn_forecast(sum(costs), recent, now - since, month_hi - now)
    return MonthTrend(
        day_keys=[key for key, _, _ in days],
        day_costs=costs,
        today_index=today,
        day_fraction=fraction,
        forecast_nanos=forecast,
        budget_nanos=budget_nanos,
    )
