"""Where a budget stands now: spend in its calendar period, forecast, state, and the check
answer for agents. Runs on the caller's thread (budget worker, server thread pool, CLI, GUI).

Spend comes from ``Reader.summary``, which adds UTC day and quarter-hour rollups; budget
periods in any real time zone start and end on quarter hours, so a period's spend reads raw
events only for the minutes since the last whole quarter-hour.
The forecast is spend so far plus the recent burn rate times the time left in the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from spendtray.budgets.model import GLOBAL, STATES, Budget
from spendtray.budgets.reservations import Reservations
from spendtray.store.db import BUCKET_SECONDS
from spendtray.store.reader import Filters, Reader
from spendtray.store.running import RunningSpend
from spendtray.store.timebuckets import current_period

# How far back the burn rate for the forecast looks, per period length: long enough to smooth
# one burst, short enough to follow a change of pace.
FORECAST_LOOKBACK = {
    "day": dt.timedelta(hours=3),
    "week": dt.timedelta(days=1),
    "month": dt.timedelta(days=3),
}


def lookback_start(now: dt.datetime, period: str) -> dt.datetime:
    """Where the recent pace is measured from: a quarter-hour boundary about one look-back
    before ``now`` (whole buckets, so the sum up to the period end is cacheable)."""
    back = int((now - FORECAST_LOOKBACK[period]).timestamp())
    return dt.datetime.fromtimestamp(back - back % BUCKET_SECONDS, dt.UTC)


def burn_forecast(spent: int, recent: int, elapsed: dt.timedelta, left: dt.timedelta) -> int:
    """Spend by the end of a period: ``spent`` plus ``recent`` (spent over ``elapsed``, the
    look-back) carried on at the same pace for the ``left`` time. Integer nano-dollars. The
    budgets and the dashboard's month trend forecast with this one rule."""
    if left <= dt.timedelta(0) or elapsed <= dt.timedelta(0):
        return spent
    tick = dt.timedelta(microseconds=1)
    return spent + recent * (left // tick) // (elapsed // tick)


def usd(nanos: int) -> float:
    """Nano-dollars -> a JSON number of dollars (edge only; never summed). ``round(…, 9)`` of
    this quotient gives the same float back (a test checks it over the whole int64 range),
    through a decimal string: a microsecond for each figure of every ingest reply."""
    return nanos / 1e9


def forecast_usd(nanos: int | None) -> float | None:
    """A forecast is an estimate: whole cents, not nano-dollars of false precision."""
    return None if nanos is None else round(nanos / 1e9, 2)


def iso_local(stamp: dt.datetime, zone: ZoneInfo) -> str:
    return stamp.astimezone(zone).isoformat()


@dataclass(frozen=True)
class BudgetStatus:
    """One budget and its standing in the period containing ``now``."""

    budget: Budget
    spent_nanos: int
    forecast_nanos: int | None
    period_start: dt.datetime  # UTC
    period_end: dt.datetime  # UTC, exclusive
    now: dt.datetime
    # Held by proxied calls in flight (``Reservations``); counted by ``refuses`` only.
    reserved_nanos: int = 0

    @property
    def remaining_nanos(self) -> int:
        return max(0, self.budget.limit_nanos - self.spent_nanos)

    @property
    def ratio(self) -> float:
        return self.spent_nanos / self.budget.limit_nanos

    @property
    def state(self) -> str:
        limit = self.budget.limit_nanos
        if self.spent_nanos >= limit:
            return "exceeded"
        warn_at = self.budget.thresholds[0]
        if warn_at < 100 and self.spent_nanos * 100 >= warn_at * limit:
            return "warning"
        return "ok"

    @property
    def crossed(self) -> list[float]:
        """Thresholds reached so far, ascending."""
        limit = self.budget.limit_nanos
        return [t for t in self.budget.thresholds if self.spent_nanos * 100 >= t * limit]

    @property
    def forecast_over(self) -> bool:
        return self.forecast_nanos is not None and self.forecast_nanos > self.budget.limit_nanos

    def refuses(self, estimate_nanos: int) -> bool:
        """A hard budget refuses once it is used up, or when the estimate on top of the spend
        and of what calls in flight hold would pass its limit."""
        if not self.budget.hard:
            return False
        limit = self.budget.limit_nanos
        spent = self.spent_nanos
        return spent >= limit or spent + self.reserved_nanos + estimate_nanos > limit

    def to_json(self, zone: ZoneInfo) -> dict[str, Any]:
        b = self.budget
        return {
            "project": b.project,
            "period": b.period,
            "limit_usd": usd(b.limit_nanos),
            "mode": b.mode,
            "thresholds": [int(t) if t.is_integer() else t for t in b.thresholds],
            "spent_usd": usd(self.spent_nanos),
            "reserved_usd": usd(self.reserved_nanos),
            "remaining_usd": usd(self.remaining_nanos),
            "ratio": round(self.ratio, 4),
            "state": self.state,
            "forecast_usd": forecast_usd(self.forecast_nanos),
            "period_start": iso_local(self.period_start, zone),
            "period_end": iso_local(self.period_end, zone),
        }

    def brief_json(self) -> dict[str, Any]:
        """The cheap subset carried by every ``POST /v1/usage`` reply."""
        return {
            "project": self.budget.project,
            "period": self.budget.period,
            "mode": self.budget.mode,
            "limit_usd": usd(self.budget.limit_nanos),
            "spent_usd": usd(self.spent_nanos),
            "remaining_usd": usd(self.remaining_nanos),
            "ratio": round(self.ratio, 4),
            "state": self.state,
        }


def worst(states: Iterable[str]) -> str:
    return max(states, key=STATES.index, default="ok")


@dataclass(frozen=True)
class CheckResult:
    """The answer of ``/v1/budgets/{project}/check``: the tightest budget decides."""

    allow: bool
    status: BudgetStatus | None
    estimate_nanos: int

    def to_json(self) -> dict[str, Any]:
        s = self.status
        if s is None:
            return {
                "allow": True,
                "state": "ok",
                "period": None,
                "spent_usd": None,
                "reserved_usd": None,
                "limit_usd": None,
                "remaining_usd": None,
                "forecast_usd": None,
                "budget_project": None,
                "mode": None,
            }
        return {
            "allow": self.allow,
            "state": s.state,
            "period": s.budget.period,
            "spent_usd": usd(s.spent_nanos),
            "reserved_usd": usd(s.reserved_nanos),
            "limit_usd": usd(s.budget.limit_nanos),
            "remaining_usd": usd(s.remaining_nanos),
            "forecast_usd": forecast_usd(s.forecast_nanos),
            "budget_project": s.budget.project,
            "mode": s.budget.mode,
        }


def decide(statuses: list[BudgetStatus], estimate_nanos: int) -> CheckResult:
    """Refusing hard budgets first, then the one with the least room left after the estimate."""
    if not statuses:
        return CheckResult(True, None, estimate_nanos)

    def room(s: BudgetStatus) -> tuple[int, float]:
        return (s.budget.limit_nanos - s.spent_nanos - s.reserved_nanos - estimate_nanos, -s.ratio)

    refusing = [s for s in statuses if s.refuses(estimate_nanos)]
    if refusing:
        return CheckResult(False, min(refusing, key=room), estimate_nanos)
    return CheckResult(True, min(statuses, key=room), estimate_nanos)


class Evaluator:
    """Computes ``BudgetStatus`` from the store for a given instant."""

    def __init__(
        self,
        reader: Reader,
        zone: ZoneInfo,
        week_start: int,
        clock: Callable[[], dt.datetime],
        cache: RunningSpend | None = None,
        reservations: Reservations | None = None,
    ) -> None:
        self.reader = reader
        self.zone = zone
        self.week_start = week_start
        self.clock = clock
        self.cache = cache
        self.reservations = reservations
        # The last period worked out per period kind ("day", ...): [start, end) in UTC. While
        # ``now`` stays inside it, it is the period containing ``now`` (periods tile time), so
        # the zone arithmetic (~9 µs) runs once per day/week/month instead of on every reply.
        # Keyed with the zone and week start too: a period of another zone is another period.
        self._periods: dict[tuple[str, ZoneInfo, int], tuple[dt.datetime, dt.datetime]] = {}

    def spend(self, project: str, since: dt.datetime, until: dt.datetime) -> int:
        if self.cache is not None:
            return self.cache.window(project, since, until)
        scope = None if project == GLOBAL else project
        return self.reader.spend_nanos(Filters(project=scope, since=since, until=until))

    def period(self, budget: Budget, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        key = (budget.period, self.zone, self.week_start)
        known = self._periods.get(key)
        if known is not None and known[0] <= now < known[1]:
            return known
        found = current_period(now, budget.period, self.zone, self.week_start)
        self._periods[key] = found
        return found

    def status(
        self, budget: Budget, now: dt.datetime | None = None, forecast: bool = True
    ) -> BudgetStatus:
        now = now or self.clock()
        start, end = self.period(budget, now)
        spent = self.spend(budget.project, start, end)
        projected: int | None = None
        if forecast:
            projected = self.forecast(budget, spent, now, end)
        held = self.reservations.reserved(budget.project) if self.reservations else 0
        return BudgetStatus(budget, spent, projected, start, end, now, held)

    def forecast(self, budget: Budget, spent: int, now: dt.datetime, end: dt.datetime) -> int:
        left = end - now
        if left <= dt.timedelta(0):
            return spent
        since = lookback_start(now, budget.period)
        recent = self.spend(budget.project, since, end)
        return burn_forecast(spent, recent, now - since, left)

    def spent(
        self, budgets: list[Budget], now: dt.datetime, through: int | None = None
    ) -> list[int]:
        """Each budget's spend in its period containing ``now``: the figures of
        ``statuses(budgets, now, False, through)`` without building the statuses (the ingest
        reply's, which reuses what it built for the same spend; ``BudgetService``)."""
        asked = [(b.project, *self.period(b, now)) for b in budgets]
        if self.cache is None:
            return [self.spend(*window) for window in asked]
        return self.cache.windows(asked, through)

    def statuses(
        self,
        budgets: Iterable[Budget],
        now: dt.datetime | None = None,
        forecast: bool = True,
        through: int | None = None,
    ) -> list[BudgetStatus]:
        """``through``: spend that counts every event up to this id will do (see
        ``RunningSpend.windows``)."""
        now = now or self.clock()
        if self.cache is None:
            return [self.status(b, now, forecast) for b in budgets]
        # Every budget's sum, and each forecast's look-back, from one catch-up of the cache:
        # the ingest reply asks on every POST, the budget worker after every commit.
        budgets = list(budgets)
        periods = [self.period(b, now) for b in budgets]
        asked = [(b.project, start, end) for b, (start, end) in zip(budgets, periods, strict=True)]
        looks: list[tuple[int, dt.datetime]] = []  # (index of its sum in asked, since)
        if forecast:
            for b, (_, end) in zip(budgets, periods, strict=True):
                if end - now <= dt.timedelta(0):
                    looks.append((-1, now))
                    continue
                since = lookback_start(now, b.period)
                looks.append((len(asked), since))
                asked.append((b.project, since, end))
        sums = self.cache.windows(asked, through)
        held = self.reservations.reserved if self.reservations else None
        out: list[BudgetStatus] = []
        for i, (b, (start, end)) in enumerate(zip(budgets, periods, strict=True)):
            spent = sums[i]
            projected: int | None = None
            if forecast:
                at, since = looks[i]
                projected = (
                    spent if at < 0 else burn_forecast(spent, sums[at], now - since, end - now)
                )
            out.append(
                BudgetStatus(b, spent, projected, start, end, now, held(b.project) if held else 0)
            )
        return out
