"""The tray's words and colour from a snapshot: state, tooltip, menu lines. Pure; any thread.

Kept apart from the widgets so the rules (which state wins, what the tooltip says) read in
one place and test without a panel.
"""

from __future__ import annotations

from dataclasses import dataclass

from spendtray.budgets.text import limit_usd
from spendtray.money import format_usd
from spendtray.views.snapshot import TrayFigures

# Worst first: a blown budget outranks a warning, which outranks usage we cannot price.
STATE_ORDER = ("exceeded", "warning", "unpriced", "ok")
STATE_WORDS = {
    "ok": "Within budget",
    "warning": "A budget is past a warning threshold",
    "exceeded": "A budget is exceeded",
    "unpriced": "Some usage has no known price",
}


PERIOD_WORDS = {"day": "today", "week": "this week", "month": "this month"}


@dataclass(frozen=True)
class BudgetView:
    """The budgets' worst state and, when it is not ok, the budget that is furthest along."""

    state: str  # ok | warning | exceeded
    worst: str | None = None  # "acme at 82 % of $50.00 this month"


def budget_line(project: str, period: str, ratio: float, limit_nanos: int) -> str:
    name = "All projects" if project == "*" else project
    when = PERIOD_WORDS.get(period, f"this {period}")
    # the limit as the notifications write it ($50, $12.50): one way to name a budget
    return f"{name} at {ratio * 100:.0f} % of {limit_usd(limit_nanos)} {when}"


def tray_state(figures: TrayFigures | None, budget_state: str | None) -> str:
    """``budget_state`` is the budgets' worst state ("ok" / "warning" / "exceeded") or None."""
    if budget_state in ("exceeded", "warning"):
        return budget_state
    if figures is not None and figures.unpriced_calls_month > 0:
        return "unpriced"
    return "ok"


def _calls(n: int) -> str:
    return f"{n:,} call{'s' if n != 1 else ''}"


def today_line(figures: TrayFigures, precision: int) -> str:
    return f"Today: {format_usd(figures.today_nanos, precision)} ({_calls(figures.today_calls)})"


def month_line(figures: TrayFigures, precision: int) -> str:
    return (
        f"This month: {format_usd(figures.month_nanos, precision)} ({_calls(figures.month_calls)})"
    )


def top_project_line(figures: TrayFigures, precision: int) -> str:
    if figures.top_project is None:
        return "Top project: none yet"
    name, nanos = figures.top_project
    return f"Top project: {name} ({format_usd(nanos, precision)} this month)"


def tooltip(
    figures: TrayFigures | None, state: str, precision: int, budget: BudgetView | None = None
) -> str:
    if figures is None:
        return "Spendtray — starting…"
    lines = ["Spendtray", today_line(figures, precision), month_line(figures, precision)]
    if figures.unpriced_calls_month:
        lines.append(f"{_calls(figures.unpriced_calls_month)} this month with no known price")
    if state in ("warning", "exceeded"):
        lines.append(budget.worst if budget and budget.worst else STATE_WORDS[state])
    if not figures.any_events:
        lines.append("No usage recorded yet — open the dashboard to send a first event")
    return "\n".join(lines)
