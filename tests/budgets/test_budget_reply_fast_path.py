"""The budget object of every ``POST /v1/usage`` reply comes from a fast path (periods reused
while ``now`` stays inside them, every budget's sum from one catch-up of the running sums, the
applying budgets picked once per budget list). It must equal a fresh evaluation: new periods
worked out from the clock, sums read from the store, whatever happened in between."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from budgetkit import UTC, App, Factory, event

from spendtray.budgets.evaluate import BudgetStatus, Evaluator
from spendtray.budgets.model import make_budget


def agrees(app: App, *projects: str) -> dict[str, object]:
    """The reply the server gives for ``projects`` equals one built from a fresh evaluation
    (new evaluator: no period kept, no running sums), and so do the statuses behind it,
    reservations and period bounds included. Returns the reply."""
    service = app.service
    names = frozenset(projects)
    reply = service.ingest_status(names)
    budgets = [b for b in service.budgets() if b.project in names or b.is_global]
    fresh = Evaluator(
        app.core.reader,
        service.zone,
        service.evaluator.week_start,
        app.clock,
        None,
        service.reservations,
    ).statuses(budgets, app.clock(), forecast=False)
    assert reply == service._ingest_reply(names, fresh)
    fast = service.evaluator.statuses(budgets, app.clock(), forecast=False)

    def seen(statuses: list[BudgetStatus]) -> list[tuple[object, ...]]:
        return [
            (s.budget, s.spent_nanos, s.period_start, s.period_end, s.reserved_nanos)
            for s in statuses
        ]

    assert seen(fast) == seen(fresh)
    return reply


def spent(reply: dict[str, object], project: str, which: str) -> float:
    """Dollars spent in ``project``'s reply on its ``which`` ("day", "week") budget, or on the
    global budget for ``which`` "*"."""
    budgets = reply["projects"][project]["budgets"]  # type: ignore[index]
    if which == "*":
        return float(next(b["spent_usd"] for b in budgets if b["project"] == "*"))
    mine = [b for b in budgets if b["project"] == project and b["period"] == which]
    return float(mine[0]["spent_usd"])


def test_reply_equals_fresh_evaluation_through_spend_reservations_edits_and_late_events(
    make_app: Factory,
) -> None:
    app = make_app(timezone="Europe/Berlin")
    app.clock.set(dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    app.service.put(make_budget("*", "month", 100))
    app.service.put(make_budget("acme", "day", 10, "hard"))
    app.service.put(make_budget("beta", "day", 5))
    assert spent(agrees(app, "acme"), "acme", "day") == 0
    app.spend(3)
    app.spend(1, "beta")
    reply = agrees(app, "acme", "beta")
    assert spent(reply, "acme", "day") == 3 and spent(reply, "beta", "day") == 1
    assert spent(reply, "acme", "*") == spent(reply, "beta", "*") == 4
    # A call in flight holds money: the hard day budget refuses once spend + held passes it.
    held = app.service.reservations.add("acme", 8 * 10**9)
    reply = agrees(app, "acme")
    assert reply["projects"]["acme"]["allow"] is False  # type: ignore[index]
    app.service.reservations.release(held)
    assert agrees(app, "acme")["projects"]["acme"]["allow"] is True  # type: ignore[index]
    # Edits and deletes show in the very next reply.
    app.service.put(make_budget("acme", "day", 2))
    assert agrees(app, "acme")["projects"]["acme"]["state"] == "exceeded"  # type: ignore[index]
    app.service.remove("beta")
    assert agrees(app, "beta")["projects"]["beta"]["budgets"][0]["project"] == "*"  # type: ignore[index]
    # Late events: earlier today, yesterday, earlier this month, last month.
    app.spend(0.5, at=dt.datetime(2026, 11, 18, 0, 30, tzinfo=UTC))
    app.spend(0.25, at=dt.datetime(2026, 11, 17, 12, 0, tzinfo=UTC))
    app.spend(0.125, at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    app.spend(16, at=dt.datetime(2026, 10, 31, 22, 30, tzinfo=UTC))  # 23:30 local, October
    reply = agrees(app, "acme")
    assert spent(reply, "acme", "day") == 3.5
    assert spent(reply, "acme", "*") == 4.875
    # A duplicate request id with more tokens rewrites its row in place.
    app.spend_many([{**event(1, "acme", app.clock.now), "request_id": "r-1"}])
    app.spend_many([{**event(2, "acme", app.clock.now), "request_id": "r-1"}])
    assert spent(agrees(app, "acme"), "acme", "day") == 5.5


def test_reply_follows_new_days_and_months(make_app: Factory) -> None:
    app = make_app(timezone="America/New_York")
    app.service.put(make_budget("*", "month", 100))
    app.service.put(make_budget("acme", "day", 10))
    app.service.put(make_budget("acme", "week", 50))
    zone = ZoneInfo("America/New_York")
    app.clock.set(dt.datetime(2026, 11, 30, 23, 58, tzinfo=zone))
    app.spend(2)
    reply = agrees(app, "acme")
    assert spent(reply, "acme", "day") == 2 and spent(reply, "acme", "*") == 2
    app.clock.advance(minutes=3)  # 00:01 on December 1st: a new day and a new month
    reply = agrees(app, "acme")
    assert spent(reply, "acme", "day") == 0 and spent(reply, "acme", "*") == 0
    app.spend(1)
    assert spent(agrees(app, "acme"), "acme", "day") == 1
    # A clock set back (a test, an NTP step) gets the older period again, not the kept one.
    app.clock.advance(minutes=-3)
    reply = agrees(app, "acme")
    assert spent(reply, "acme", "day") == 2 and spent(reply, "acme", "*") == 2


@pytest.mark.parametrize(
    ("zone", "around"),
    [
        ("Europe/Berlin", dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC)),  # spring, 23 h day
        ("Europe/Berlin", dt.datetime(2026, 10, 24, 12, 0, tzinfo=UTC)),  # autumn, 25 h day
        ("America/Santiago", dt.datetime(2026, 4, 3, 12, 0, tzinfo=UTC)),  # back at midnight
        ("America/Santiago", dt.datetime(2026, 9, 5, 12, 0, tzinfo=UTC)),  # no midnight
        ("Australia/Lord_Howe", dt.datetime(2026, 4, 4, 0, 0, tzinfo=UTC)),  # half-hour shift
    ],
)
def test_reply_periods_across_dst_changes_equal_fresh_ones(
    make_app: Factory, zone: str, around: dt.datetime
) -> None:
    app = make_app(timezone=zone)
    app.service.put(make_budget("*", "month", 100))
    app.service.put(make_budget("acme", "day", 10))
    app.service.put(make_budget("acme", "week", 50))
    app.clock.set(around)
    for step in range(3 * 24 * 4):  # three days in quarter hours, spending every 5 hours
        if step % 20 == 0:
            app.spend(0.5)
        agrees(app, "acme")
        app.clock.advance(minutes=15)
