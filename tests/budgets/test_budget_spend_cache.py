"""The running spend sums (``store.running``) of budget periods agree with a fresh rollup sum
whatever is stored meanwhile."""

from __future__ import annotations

import datetime as dt

from budgetkit import UTC, App, event

from spendtray.budgets.model import make_budget
from spendtray.store.reader import Filters
from spendtray.store.running import MAX_AGE, SWEEP_EVERY, RunningSpend
from spendtray.store.timebuckets import current_period


def fresh(app: App, project: str | None, period: str) -> int:
    start, end = current_period(app.clock.now, period, app.service.zone)
    return app.core.reader.spend_nanos(Filters(project=project, since=start, until=end))


def cached(app: App, project: str, period: str) -> int:
    start, end = current_period(app.clock.now, period, app.service.zone)
    return app.service.running.window(project, start, end)


def test_cache_follows_new_backdated_and_rewritten_events(app: App) -> None:
    app.service.put(make_budget("acme", "month", 100))
    app.service.put(make_budget("*", "month", 100))
    app.spend(1)
    assert cached(app, "acme", "month") == fresh(app, "acme", "month") == 10**9
    assert cached(app, "*", "month") == 10**9
    # other projects, an event of last month, a backdated one of this month
    app.spend(2, "other")
    app.spend(4, at=dt.datetime(2026, 10, 31, 23, 0, tzinfo=UTC))
    app.spend(8, at=dt.datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    assert cached(app, "acme", "month") == fresh(app, "acme", "month") == 9 * 10**9
    assert cached(app, "*", "month") == fresh(app, None, "month") == 11 * 10**9
    # a duplicate request_id with more tokens rewrites the stored row in place
    first = {**event(1, "acme", app.clock.now), "request_id": "req-1"}
    app.spend_many([first])
    assert cached(app, "acme", "month") == 10 * 10**9
    bigger = {**event(3, "acme", app.clock.now), "request_id": "req-1"}
    app.spend_many([bigger])
    assert fresh(app, "acme", "month") == 12 * 10**9
    assert cached(app, "acme", "month") == 12 * 10**9
    assert cached(app, "*", "month") == fresh(app, None, "month") == 14 * 10**9
    # a batch stored between two reads is counted exactly once
    app.spend_many([event(0.25, "acme", app.clock.now) for _ in range(8)])
    assert cached(app, "acme", "month") == fresh(app, "acme", "month") == 14 * 10**9
    status = app.client.get("/v1/budgets").json()["budgets"]
    assert [(b["project"], b["spent_usd"]) for b in status] == [("*", 16), ("acme", 14)]


def test_windows_past_their_age_are_dropped_and_sums_stay_exact(app: App) -> None:
    """Windows nobody asked for since ``MAX_AGE`` (yesterday's day, a moved forecast
    look-back) are dropped at a catch-up instead of piling up; asked again, they are summed
    afresh and still agree with the store."""
    ticks = [0.0]
    running = RunningSpend(app.core.reader, dt.timedelta(minutes=10), clock=lambda: ticks[0])
    app.spend(1)
    start = app.clock.now - dt.timedelta(hours=30)
    hours = [start + dt.timedelta(hours=h) for h in range(30)]
    for since in hours:  # 30 one-hour windows, as 30 look-backs would leave
        assert running.window("acme", since, since + dt.timedelta(hours=1)) == 0
    assert len(running._windows) == 30
    ticks[0] = MAX_AGE + SWEEP_EVERY + 1
    today = current_period(app.clock.now, "day", app.service.zone)
    app.spend(2)
    assert running.window("acme", *today) == fresh(app, "acme", "day") == 3 * 10**9
    assert len(running._windows) == 1  # only the window asked for since
    app.spend(4, at=hours[3] + dt.timedelta(minutes=5))
    again = running.window("acme", hours[3], hours[4])
    assert again == 4 * 10**9
    assert running.window("acme", *today) == fresh(app, "acme", "day") == 3 * 10**9
