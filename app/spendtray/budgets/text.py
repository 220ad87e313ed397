"""The words of budget alerts: the fact and the time left. Pure; any thread.

"acme at 82 % of $50 this month · forecast $61 by Nov 30" (SPEC §7).
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from spendtray.budgets.evaluate import BudgetStatus
from spendtray.budgets.model import GLOBAL, percent_text
from spendtray.budgets.runaway import RunawayFinding, RunawayRule
from spendtray.money import format_usd

PHRASE = {"day": "today", "week": "this week", "month": "this month"}
NANOS = 10**9


def scope_name(project: str) -> str:
    return "All projects" if project == GLOBAL else project


def limit_usd(nanos: int) -> str:
    """A limit as the user set it: $50 for whole dollars, else $12.50 / $0.75."""
    if nanos % NANOS == 0:
        return f"${nanos // NANOS:,}"
    return format_usd(nanos)


def forecast_usd(nanos: int) -> str:
    """An estimate: whole dollars from $10 up ($61), cents below ($4.20)."""
    if abs(nanos) >= 10 * NANOS:
        return f"${round(nanos / NANOS):,}"
    return limit_usd(nanos)


def end_day(status: BudgetStatus, zone: ZoneInfo) -> str:
    """'midnight' for a day budget, else the period's last local date ('Nov 30')."""
    if status.budget.period == "day":
        return "midnight"
    last = (status.period_end - dt.timedelta(microseconds=1)).astimezone(zone)
    return f"{last:%b} {last.day}"


def time_left(status: BudgetStatus) -> str:
    left = status.period_end - status.now
    hours = left.total_seconds() / 3600
    if hours < 1:
        return f"{max(1, math.ceil(left.total_seconds() / 60))} min left"
    if hours < 48:
        return f"{math.ceil(hours)} h left"
    return f"{math.ceil(hours / 24)} days left"


def threshold_text(status: BudgetStatus, zone: ZoneInfo) -> str:
    b = status.budget
    name = scope_name(b.project)
    pct = math.floor(status.ratio * 100)
    limit = limit_usd(b.limit_nanos)
    hard = " (hard limit)" if b.hard else ""
    if status.spent_nanos >= b.limit_nanos:
        return (
            f"{name} over budget: {format_usd(status.spent_nanos)} of {limit}{hard} "
            f"{PHRASE[b.period]} ({pct} %) · {time_left(status)}"
        )
    text = f"{name} at {pct} % of {limit}{hard} {PHRASE[b.period]}"
    if status.forecast_nanos is not None:
        text += f" · forecast {forecast_usd(status.forecast_nanos)} by {end_day(status, zone)}"
    else:
        text += f" · {time_left(status)}"
    return text


def forecast_text(status: BudgetStatus, zone: ZoneInfo) -> str:
    b = status.budget
    forecast = status.forecast_nanos or 0
    return (
        f"{scope_name(b.project)} heading over budget: forecast {forecast_usd(forecast)} "
        f"by {end_day(status, zone)} against {limit_usd(b.limit_nanos)} {PHRASE[b.period]} "
        f"· now {format_usd(status.spent_nanos)} ({math.floor(status.ratio * 100)} %)"
    )


def runaway_text(finding: RunawayFinding, rule: RunawayRule) -> str:
    minutes = round(rule.window.total_seconds() / 60)
    name = scope_name(finding.project)
    recent = format_usd(finding.recent_nanos)
    if finding.usual_nanos <= 0:
        return (
            f"{name} runaway? {recent} in the last {minutes} min; "
            f"it usually spends nothing in {minutes} min"
        )
    return (
        f"{name} runaway? {recent} in the last {minutes} min, "
        f"{percent_text(round(finding.times, 1))}× its usual "
        f"{format_usd(finding.usual_nanos)} per {minutes} min"
    )
