"""Alerts: once per period, persisted across restarts, forecast, runaway, pause, webhook."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from budgetkit import UTC, Factory, event

from spendtray.budgets import RunawayRule, WebhookNotifier
from spendtray.budgets.model import make_budget


def alert_rows(app: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(app.core.settings.db_path)
    try:
        return conn.execute(
            "SELECT project, period, kind, threshold, delivered FROM budget_alerts "
            "ORDER BY fired_at, threshold"
        ).fetchall()
    finally:
        conn.close()


def test_each_threshold_fires_once_and_a_jump_shows_only_the_top(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "month", 50))
    app.spend(41)  # 0 -> 82 %: 50 and 80 are both crossed; one notification, both recorded
    assert app.sink.kinds("threshold") == [("acme", "month", "threshold", 80.0)]
    assert [r[3] for r in alert_rows(app) if r[2] == "threshold"] == [50.0, 80.0]
    app.spend(1)
    app.spend(1)
    assert len(app.sink.kinds("threshold")) == 1
    app.spend(10)  # 106 %
    assert app.sink.kinds("threshold")[-1] == ("acme", "month", "threshold", 100.0)
    app.spend(5)
    assert len(app.sink.kinds("threshold")) == 2


def test_alert_text_names_fact_and_time_left(make_app: Factory) -> None:
    app = make_app()
    app.clock.set(dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    app.service.put(make_budget("acme", "month", 50))
    # $20 spread over the last three days sets a burn rate of $20 / 3 days.
    app.spend_many(
        [
            event(20, "acme", dt.datetime(2026, 11, 16, 12, 0, tzinfo=UTC)),
            event(21, "acme", dt.datetime(2026, 10, 30, 12, 0, tzinfo=UTC)),  # last month
        ]
    )
    app.spend(21, at=dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
    threshold = [a for a in app.sink.alerts if a.kind == "threshold"]
    assert len(threshold) == 1
    # spent 41 of 50 = 82 %; forecast = 41 + 20 / 3 d * 12.5 d left = $124
    assert threshold[0].text == "acme at 82 % of $50 this month · forecast $124 by Nov 30"
    assert threshold[0].state == "warning"
    assert threshold[0].ratio == 0.82


def test_restart_does_not_notify_again(make_app: Factory) -> None:
    first = make_app()
    first.service.put(make_budget("acme", "month", 10))
    first.spend(6)
    assert first.sink.kinds("threshold") == [("acme", "month", "threshold", 50.0)]
    first.close()

    second = make_app()  # same data folder, new process state
    second.spend(1)  # 70 %: 50 already notified before the restart
    assert second.sink.kinds("threshold") == []
    second.spend(2)  # 90 %
    assert second.sink.kinds("threshold") == [("acme", "month", "threshold", 80.0)]
    second.clock.set(dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    second.spend(6)  # a new month re-arms
    assert second.sink.kinds("threshold")[-1] == ("acme", "month", "threshold", 50.0)


def test_forecast_alert_fires_once(make_app: Factory) -> None:
    app = make_app()
    app.clock.set(dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    app.service.put(make_budget("acme", "day", 10))
    app.spend(3, at=dt.datetime(2026, 11, 18, 10, 0, tzinfo=UTC))
    # 30 %: no threshold yet, but $3 in the last 3 h and 12 h to go -> $15 by midnight.
    assert app.sink.kinds() == [("acme", "day", "forecast", 100.0)]
    alert = app.sink.alerts[0]
    assert alert.text == (
        "acme heading over budget: forecast $15 by midnight against $10 today · now $3.00 (30 %)"
    )
    assert alert.ratio == 1.5
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["forecast_usd"] == 15
    app.spend(0.5)
    assert app.sink.kinds("forecast") == [("acme", "day", "forecast", 100.0)]


def test_no_forecast_alert_when_pace_is_fine(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "month", 100))
    app.spend(1)
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["forecast_usd"] < 100
    assert app.sink.alerts == []


def test_runaway_alarm_when_far_above_usual_rate(make_app: Factory) -> None:
    app = make_app(runaway=RunawayRule())
    now = app.clock.now
    quarter = dt.timedelta(minutes=15)
    # A day of steady use: $0.30 per quarter hour for "steady", $0.01 for "calm".
    history = [event(0.30, "steady", now - quarter * i) for i in range(2, 98)]
    history += [event(0.01, "calm", now - quarter * i) for i in range(2, 98)]
    app.spend_many(history)
    assert app.sink.alerts == []
    # The last 10 minutes: "calm" burns $3, ~450x its usual $0.0067 per 10 min; "steady"
    # spends $0.90, under 5x its usual $0.20 (and under the $1 floor).
    app.spend(0.9, "steady")
    app.spend(3, "calm")
    kinds = app.sink.kinds("runaway")
    assert kinds == [("calm", "10m", "runaway", 500.0)]
    alert = app.sink.alerts[-1]
    assert alert.text == (
        "calm runaway? $3.00 in the last 10 min, 450× its usual $0.00667 per 10 min"
    )
    assert alert.ratio == 450.0
    # Still looping five minutes later: one alarm per hour, not one per call.
    app.clock.advance(minutes=5)
    app.spend(3, "calm")
    assert len(app.sink.kinds("runaway")) == 1
    app.clock.advance(hours=1)
    app.spend(3, "calm")
    assert len(app.sink.kinds("runaway")) == 2


def test_runaway_needs_the_absolute_floor(make_app: Factory) -> None:
    app = make_app(runaway=RunawayRule(min_nanos=1_000_000_000))
    app.spend(0.5, "fresh")  # no history at all, but only 50 cents
    assert app.sink.kinds("runaway") == []
    app.spend(0.6, "fresh")  # $1.10 in 10 minutes and nothing usual
    assert app.sink.kinds("runaway") == [("fresh", "10m", "runaway", 500.0)]
    assert "usually spends nothing" in app.sink.alerts[-1].text


def test_paused_alerts_are_recorded_not_shown(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "month", 10))
    app.service.set_paused(True)
    app.spend(6)
    assert app.sink.alerts == []
    assert [r for r in alert_rows(app) if r[2] == "threshold"] == [
        ("acme", "month", "threshold", 50.0, 0)
    ]
    app.service.set_paused(False)
    app.spend(0.5)  # 65 %: 50 % was already handled while paused
    assert app.sink.kinds("threshold") == []
    app.spend(2)  # 85 %
    assert app.sink.kinds("threshold") == [("acme", "month", "threshold", 80.0)]


def test_notifications_off_in_config(make_app: Factory) -> None:
    app = make_app(notifications=False)
    app.service.put(make_budget("acme", "month", 10))
    app.spend(9)
    assert app.sink.alerts == []
    rows = alert_rows(app)
    assert [r[3] for r in rows if r[2] == "threshold"] == [50.0, 80.0]
    assert {r[4] for r in rows} == {0}


def test_changing_the_limit_rearms(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "month", 10))
    app.spend(6)
    app.service.put(make_budget("acme", "month", 10))  # same budget: nothing re-armed
    assert app.service.wait_idle()
    assert len(app.sink.kinds("threshold")) == 1
    app.service.put(make_budget("acme", "month", 20))  # 30 % of the new limit
    app.spend(5)  # 55 %
    assert app.sink.kinds("threshold") == [("acme", "month", "threshold", 50.0)] * 2
    app.service.put(make_budget("acme", "month", 5))  # lowering below the spend alerts now
    assert app.service.wait_idle()
    assert app.sink.kinds("threshold")[-1] == ("acme", "month", "threshold", 100.0)


def test_global_budget_counts_every_project(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("*", "day", 10))
    app.spend(3, "a")
    app.spend(3, "b")
    assert app.sink.kinds("threshold") == [("*", "day", "threshold", 50.0)]
    assert app.sink.alerts[-1].text.startswith("All projects at 60 % of $10 today")


def test_worst_state_and_state_listener(make_app: Factory) -> None:
    app = make_app()
    seen: list[str] = []
    app.service.add_state_listener(seen.append)
    assert app.service.worst_state() == "ok"
    app.service.put(make_budget("acme", "month", 10))
    app.service.put(make_budget("other", "month", 100))
    app.spend(6)
    assert app.service.worst_state() == "warning"
    app.spend(5)
    assert app.service.worst_state() == "exceeded"
    assert seen[-1] == "exceeded"
    assert "warning" in seen


class _Hook(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_posts_alert_json(make_app: Factory) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        app = make_app(webhook_url=url)
        hooks = [n for n in app.service.notifiers if isinstance(n, WebhookNotifier)]
        assert len(hooks) == 1
        app.service.put(make_budget("acme", "month", 10))
        app.spend(6)
        hooks[0].drain()
        bodies = [b for b in _Hook.bodies if b["kind"] == "threshold"]
        assert len(bodies) == 1
        body = bodies[0]
        assert body["type"] == "spendtray.budget_alert"
        assert (body["project"], body["kind"], body["threshold"]) == ("acme", "threshold", 50.0)
        assert body["text"].startswith("acme at 60 % of $10 this month")
        hooks[0].close()
    finally:
        server.shutdown()
        server.server_close()


def test_threshold_and_forecast_due_together_notify_once(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "month", 50))
    app.spend(41)  # 82 % and a forecast far over $50: one notification that says both
    assert app.sink.kinds() == [("acme", "month", "threshold", 80.0)]
    assert "· forecast $" in app.sink.alerts[0].text
    assert {r[2] for r in alert_rows(app)} == {"threshold", "forecast"}
    app.spend(1)
    assert len(app.sink.alerts) == 1


def test_money_in_alert_text(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("side", "week", 12.5, thresholds=[90]))
    app.spend(13, "side")
    assert app.sink.alerts[0].text.startswith(
        "side over budget: $13.00 of $12.50 this week (104 %)"
    )


def test_webhook_failure_is_logged_and_evaluation_goes_on(
    make_app: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(webhook_url=f"http://127.0.0.1:{port}/hook")
    hook = next(n for n in app.service.notifiers if isinstance(n, WebhookNotifier))
    app.service.put(make_budget("acme", "month", 10))
    with caplog.at_level(logging.WARNING, logger="spendtray.budgets"):
        app.spend(6)
        hook.drain()
        app.spend(3)
        hook.drain()
    assert app.sink.kinds("threshold") == [
        ("acme", "month", "threshold", 50.0),
        ("acme", "month", "threshold", 80.0),
    ]
    assert (
        sum("webhook" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records) >= 2
    )
    hook.close()
