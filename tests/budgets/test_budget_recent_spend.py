"""The runaway alarm's recent-window spend agrees with a fresh sum of the events table."""

from __future__ import annotations

import datetime as dt
import random

from budgetkit import App, event

from spendtray.store.reader import Filters
from spendtray.store.running import RunningSpend

WINDOW = dt.timedelta(minutes=10)


def fresh(app: App, project: str, since: dt.datetime, until: dt.datetime) -> int:
    return app.core.reader.spend_nanos(Filters(project=project, since=since, until=until))


def test_recent_spend_follows_new_backdated_and_rewritten_events(app: App) -> None:
    running = RunningSpend(app.core.reader, WINDOW)
    rng = random.Random(7)

    def window() -> tuple[dt.datetime, dt.datetime]:
        now = app.clock.now
        return now - WINDOW + dt.timedelta(seconds=1), now + dt.timedelta(seconds=1)

    for step in range(40):
        project = rng.choice(["acme", "beta", "gamma"])
        # now, a few minutes back, or before the window (must not count)
        back = rng.choice([0, 0, 90, 400, 700, 3600])
        at = app.clock.now - dt.timedelta(seconds=back)
        app.spend_many([event(rng.choice([0.5, 1, 2]), project, at) for _ in range(3)])
        if step % 5 == 0:
            app.clock.advance(seconds=rng.randint(1, 200))
        since, until = window()
        for name in ("acme", "beta", "gamma", "nobody"):
            assert running.recent(name, since, until) == fresh(app, name, since, until), step

    # a duplicate request_id with more tokens rewrites the stored row in place
    now = app.clock.now
    app.spend_many([{**event(1, "acme", now), "request_id": "r-1"}])
    running.recent("acme", *window())
    app.spend_many([{**event(5, "acme", now), "request_id": "r-1"}])
    running.invalidate(frozenset({"acme"}))  # what the commit listener does on duplicates
    assert running.recent("acme", *window()) == fresh(app, "acme", *window())

    # time moves on past several windows: old seconds are dropped, the sum stays exact
    for _ in range(6):
        app.clock.advance(minutes=7)
        app.spend_many([event(1, "beta", app.clock.now)])
        assert running.recent("beta", *window()) == fresh(app, "beta", *window())
    assert all(
        min(tally, default=10**12) >= int(window()[0].timestamp()) - 120 - 720
        for tally in running._per_second.values()
    )
