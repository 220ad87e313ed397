"""The Budgets tab's table as text: each budget, where it stands, and where it is heading.
Pure; GUI thread (the editor reads the statuses itself while its tab is shown).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from spendtray.budgets.evaluate import BudgetStatus
from spendtray.budgets.model import GLOBAL, percent_text
from spendtray.budgets.text import forecast_usd, limit_usd
from spendtray.money import format_usd

COLUMNS = (
    "Project",
    "Period",
    "Limit",
    "When spent",
    "Notify at",
    "Spent",
    "Used",
    "Forecast",
    "State",
    "Resets",
)
RIGHT = frozenset({"Limit", "Spent", "Used", "Forecast"})
# What each mode does, in the words a user would use (the stored values stay soft/hard).
MODE_WORDS = {"soft": "notify me", "hard": "block new calls"}
MODE_CHOICES = (
    ("soft", "Notify me (calls go on)"),
    ("hard", "Block new calls (proxy, check and hooks refuse them)"),
)
IN_FLIGHT_TIP = (
    "Calls in flight through the proxy hold their worst-case cost against this budget until "
    "they end; a hard budget refuses a new call when spent + held + the call's own hold pass "
    "the limit"
)
STATE_WORDS = {"ok": "on track", "warning": "warning", "exceeded": "over budget"}


def forecast_text(status: BudgetStatus) -> str:
    """The period's spend at the recent pace, and whether that crosses the limit."""
    if status.forecast_nanos is None:
        return "—"
    text = forecast_usd(status.forecast_nanos)
    return f"{text} (over)" if status.forecast_over else text


def spent_text(status: BudgetStatus) -> str:
    """The period's recorded spend, plus what proxied calls in flight hold against the budget
    (a hard budget refuses a call when both together with its own hold pass the limit)."""
    spent = format_usd(status.spent_nanos)
    if status.reserved_nanos <= 0:
        return spent
    return f"{spent} + {format_usd(status.reserved_nanos)} in flight"


def budget_row(status: BudgetStatus, zone: ZoneInfo) -> list[str]:
    b = status.budget
    end = status.period_end.astimezone(zone)
    last = (status.period_end - dt.timedelta(microseconds=1)).astimezone(zone)
    resets = f"{end:%H:%M}" if b.period == "day" else f"after {last:%b} {last.day}"
    return [
        "* (all projects)" if b.project == GLOBAL else b.project,
        b.period,
        limit_usd(b.limit_nanos),
        MODE_WORDS[b.mode],
        ", ".join(percent_text(t) for t in b.thresholds) + " %",
        spent_text(status),
        f"{status.ratio * 100:.0f} %",
        forecast_text(status),
        STATE_WORDS.get(status.state, status.state),
        resets,
    ]
