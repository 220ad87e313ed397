"""The Budgets tab's rows: plain words for the mode, a forecast that says when it is over."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from spendtray.budgets.evaluate import BudgetStatus
from spendtray.budgets.model import Budget
from spendtray.views.budget_rows import COLUMNS, budget_row

ZONE = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 12, 1, tzinfo=ZONE).astimezone(dt.UTC)
END = dt.datetime(2027, 1, 1, tzinfo=ZONE).astimezone(dt.UTC)
NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
BILLION = 10**9


def _status(mode: str, spent: int, forecast: int | None) -> BudgetStatus:
    budget = Budget(project="*", period="month", limit_nanos=50 * BILLION, mode=mode)
    return BudgetStatus(budget, spent, forecast, START, END, NOW)


def _row(status: BudgetStatus) -> dict[str, str]:
    return dict(zip(COLUMNS, budget_row(status, ZONE), strict=True))


def test_a_row_reads_in_plain_words() -> None:
    row = dict(
        zip(COLUMNS, budget_row(_status("hard", 41 * BILLION, 72 * BILLION), ZONE), strict=True)
    )
    assert row["Project"] == "* (all projects)"
    assert row["Limit"] == "$50"
    assert row["When spent"] == "block new calls"
    assert row["Spent"] == "$41.00" and row["Used"] == "82 %"
    assert row["Forecast"] == "$72 (over)"
    assert row["State"] == "warning"
    assert row["Resets"] == "after Dec 31"


def test_soft_budget_on_track() -> None:
    row = dict(
        zip(COLUMNS, budget_row(_status("soft", 5 * BILLION, 9_500_000_000), ZONE), strict=True)
    )
    assert row["When spent"] == "notify me"
    assert row["Forecast"] == "$9.50"
    assert row["State"] == "on track"
    assert _row(_status("soft", 0, None))["Forecast"] == "—"


def test_spent_says_what_calls_in_flight_hold() -> None:
    budget = Budget(project="acme", period="month", limit_nanos=50 * BILLION, mode="hard")
    held = BudgetStatus(budget, 4_100_000_000, None, START, END, NOW, 350_000_000)
    row = _row(held)
    assert row["Spent"] == "$4.10 + $0.35 in flight"
    assert row["Used"] == "8 %"  # the ratio stays the recorded spend's
    assert _row(_status("hard", 4_100_000_000, None))["Spent"] == "$4.10"
