"""The budget object of a ``POST /v1/usage`` reply comes from running sums that this
process's commits feed directly (``RunningSpend.feed``): the reply then reads nothing from the
store. Rows another process stores in between must still be read, and the reply must always
equal a fresh evaluation (new evaluator, no running sums, sums read from the store)."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from budgetkit import UTC, App, Factory, event

from spendtray.budgets.evaluate import Evaluator, usd
from spendtray.budgets.model import make_budget
from spendtray.store.rows import COLUMN_INDEX, EVENT_COLUMNS
from spendtray.store.running import RunningSpend

APP = Path(__file__).resolve().parents[2] / "app"

# Another process storing events in the same file, as `spendtray import` does beside the app:
# its own writer (no folds), its own connection, no listener of ours sees its commits.
OTHER_PROCESS = r"""
import json, sys
from pathlib import Path
from spendtray.config import load_settings
from spendtray.core import Core

core = Core(load_settings(home=Path(sys.argv[1]), port=0))
core.start_store(folds=False)
try:
    core.ingest.ingest(json.loads(sys.argv[2]))
finally:
    core.stop()
"""


def other_process(app: App, events: list[dict[str, Any]]) -> None:
    subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(app.core.settings.home), json.dumps(events)],
        check=True,
        env={"PYTHONPATH": str(APP), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def fresh_reply(app: App, projects: set[str]) -> dict[str, Any]:
    service = app.service
    names = frozenset(projects)
    budgets = [b for b in service.budgets() if b.project in names or b.is_global]
    fresh = Evaluator(
        app.core.reader, service.zone, service.evaluator.week_start, app.clock, None, None
    ).statuses(budgets, app.clock(), forecast=False)
    return service._ingest_reply(names, fresh)


class LoopReads:
    """Counts the running sums' looks at the store made on the server's event loop thread
    (the budget worker's own evaluations run on another thread and are not counted)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = RunningSpend._catch_up

        def counted(running: RunningSpend, conn: Any) -> None:
            if threading.current_thread().name == "spendtray-http":
                self.count += 1
            original(running, conn)

        monkeypatch.setattr(RunningSpend, "_catch_up", counted)


def post(app: App, *events: dict[str, Any]) -> dict[str, Any]:
    reply = app.client.post("/v1/usage", json=list(events))
    assert reply.status_code == 202, reply.text
    budget = reply.json()["budget"]
    assert isinstance(budget, dict)
    return budget


def spent(reply: dict[str, Any], project: str, scope: str) -> float:
    budgets = reply["projects"][project]["budgets"]
    return float(next(b["spent_usd"] for b in budgets if b["project"] == scope))


def test_fed_replies_read_nothing_and_equal_fresh_ones_with_another_process_writing(
    make_app: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(timezone="Europe/Berlin")
    reads = LoopReads(monkeypatch)
    app.service.put(make_budget("*", "month", 100))
    app.service.put(make_budget("acme", "day", 10, "hard"))
    app.service.put(make_budget("beta", "day", 5))
    # No budget worker: its evaluations after each commit would bring the sums up to date
    # on their own thread, racing the replies' reads this test counts.
    assert app.service.flush()
    app.service.stop()
    now = app.clock.now
    reply = post(app, event(1, "acme", now))
    assert reply == fresh_reply(app, {"acme"}) and spent(reply, "acme", "acme") == 1
    # From here on this process's commits feed the sums: the replies read nothing.
    before = reads.count
    reply = post(app, event(2, "acme", now), event(0.5, "beta", now))
    assert reply == fresh_reply(app, {"acme", "beta"})
    assert spent(reply, "acme", "acme") == 3 and spent(reply, "beta", "*") == 3.5
    # Late events (yesterday, last month) count only where they fall; an unpriced one
    # (a model nobody prices) counts nothing.
    reply = post(
        app,
        event(0.25, "acme", now - dt.timedelta(days=1)),
        event(7, "acme", dt.datetime(2026, 10, 2, tzinfo=UTC)),
        {**event(1, "acme", now), "model": "nobody-prices-this"},
    )
    assert reply == fresh_reply(app, {"acme"}) and spent(reply, "acme", "*") == 3.75
    assert reads.count == before
    # Another process stores events between two of ours: the next commit cannot be fed
    # (its first id does not follow what the sums counted), so the reply reads them.
    other_process(app, [event(4, "acme", now), event(8, "beta", now)])
    reply = post(app, event(0.125, "beta", now))
    assert reply == fresh_reply(app, {"beta"})
    assert spent(reply, "beta", "beta") == 8.625 and spent(reply, "beta", "*") == 15.875
    assert reads.count == before + 1
    # Fed again from the next commit on; the other process's rows stay counted once.
    reply = post(app, event(0.5, "acme", now))
    assert reply == fresh_reply(app, {"acme"})
    assert spent(reply, "acme", "acme") == 7.5 and spent(reply, "acme", "*") == 16.375
    assert reply["projects"]["acme"]["state"] == "warning"
    assert reads.count == before + 1
    # A large batch of this process (an import's: committed on the writer thread) feeds the
    # sums from there; the next reply still reads nothing.
    app.core.ingest.ingest([event(0.001, "beta", now) for _ in range(500)])
    reply = post(app, event(0.001, "beta", now))
    assert reply == fresh_reply(app, {"beta"}) and spent(reply, "beta", "beta") == 9.126
    assert reads.count == before + 1
    # A batch with a request id sent twice (the bigger copy kept), then that id again with
    # more tokens: the stored row is rewritten in place and the sums follow.
    reply = post(
        app,
        {**event(0.5, "acme", now), "request_id": "r-1"},
        {**event(1, "acme", now), "request_id": "r-1"},
    )
    assert reply == fresh_reply(app, {"acme"}) and spent(reply, "acme", "acme") == 8.5
    reply = post(app, {**event(2, "acme", now), "request_id": "r-1"})
    assert reply == fresh_reply(app, {"acme"}) and spent(reply, "acme", "acme") == 9.5
    # Past the hard day budget: the reply refuses, as a fresh evaluation does.
    reply = post(app, event(1, "acme", now))
    assert reply == fresh_reply(app, {"acme"})
    assert reply["projects"]["acme"]["allow"] is False
    assert reply["projects"]["acme"]["state"] == "exceeded"


def test_feed_adds_only_rows_that_follow_what_the_sums_counted(app: App) -> None:
    """``feed`` with a ``top`` other than the watermark (rows stored in between by someone
    else) adds nothing; with the watermark it adds without reading; ``windows(through=...)``
    past the watermark reads the store."""
    app.service.put(make_budget("acme", "day", 10))
    app.spend(1)
    running = RunningSpend(app.core.reader, dt.timedelta(minutes=10))
    start = app.clock.now.replace(hour=0)
    end = start + dt.timedelta(days=1)
    assert running.window("acme", start, end) == 10**9
    mark = running._watermark
    assert mark is not None

    def stored(event_id: int, nanos: int | None) -> list[object]:
        values: list[object] = [None] * len(EVENT_COLUMNS)
        values[COLUMN_INDEX["id"]] = event_id
        values[COLUMN_INDEX["project"]] = "acme"
        values[COLUMN_INDEX["ts"]] = int(app.clock.now.timestamp() * 1000)
        values[COLUMN_INDEX["cost_nanos"]] = nanos
        return values

    running.feed(mark + 1, [stored(mark + 2, 5 * 10**9)])  # row mark + 1 not counted yet
    assert running._watermark == mark
    assert running.windows([("acme", start, end)], through=mark) == [10**9]
    app.spend(0.5)  # stored as mark + 1, never fed: asked through it, the sums read it
    assert running.windows([("acme", start, end)], through=mark + 1) == [15 * 10**8]
    assert running._watermark == mark + 1
    # Rows handed over (not in the store: had the sums read instead, they would miss them).
    running.feed(mark + 1, [stored(mark + 2, 2 * 10**9), stored(mark + 3, None)])
    assert running._watermark == mark + 3
    assert running.windows([("acme", start, end)], through=mark + 3) == [35 * 10**8]
    with running._lock:  # the budget worker reading: a feed does not wait, and adds nothing
        running.feed(mark + 3, [stored(mark + 4, 10**9)])
    assert running._watermark == mark + 3
    assert running.windows([("acme", start, end)], through=mark + 3) == [35 * 10**8]


def test_reply_dollars_are_the_nanos_rounded_to_nine_places() -> None:
    """``usd`` divides without ``round(…, 9)``: the same float, from a cent to a billion
    dollars and at the edges of what doubles hold exactly."""
    rng = random.Random(19)
    amounts = [rng.randrange(10 ** rng.randint(1, 19)) for _ in range(200_000)]
    amounts += [2**53 + k for k in range(-3, 4)] + [10**18 - 1, 1, 0]
    assert all(usd(n) == round(n / 1e9, 9) for n in amounts)


def test_statuses_with_forecasts_from_one_catch_up_equal_fresh_ones(make_app: Factory) -> None:
    """The budget worker's evaluation (forecasts included) takes every budget's sum and every
    look-back from one catch-up of the running sums; each figure equals a fresh one."""
    app = make_app(timezone="America/New_York")
    service = app.service
    for budget in (
        make_budget("*", "month", 100),
        make_budget("acme", "day", 10),
        make_budget("acme", "week", 30),
        make_budget("beta", "day", 5, "hard"),
    ):
        service.put(budget)
    fresh = Evaluator(
        app.core.reader, service.zone, service.evaluator.week_start, app.clock, None, None
    )
    for hours in range(0, 60, 7):
        app.spend(0.5 + hours / 100, "acme" if hours % 2 else "beta")
        app.spend(0.25, "acme", at=app.clock.now - dt.timedelta(hours=2))
        budgets = service.budgets()
        now = app.clock()
        assert service.evaluator.statuses(budgets, now) == fresh.statuses(budgets, now)
        assert any(s.forecast_nanos for s in fresh.statuses(budgets, now))
        app.clock.advance(hours=7)
