"""`/v1/limits` and `POST /v1/limits` on the real server: SPEC §12's shape, stale after ten
minutes, newest reading per window, all-or-nothing validation, and window alerts once per
window instance and threshold, across a restart."""

from __future__ import annotations

from typing import Any

import pytest
from limitskit import LimitsApp, LimitsFactory

from spendtray.store.db import open_for_reading
from spendtray.store.limits import fired_limit_alerts

SPEC_FIELDS = {
    "provider",
    "account",
    "window",
    "window_minutes",
    "used_percent",
    "resets_at",
    "observed_at",
    "source",
    "stale",
}


def reading(app: LimitsApp, used: float, resets_in: int = 3600, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "anthropic",
        "account": "subscription",
        "window": "five_hour",
        "window_minutes": 300,
        "used_percent": used,
        "resets_at": app.clock.epoch + resets_in,
        **extra,
    }


def limits(app: LimitsApp) -> list[dict[str, Any]]:
    reply = app.http.get("/v1/limits")
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, Any]] = reply.json()["limits"]
    return rows


def test_shape_newest_reading_and_stale_after_ten_minutes(limits_app: LimitsApp) -> None:
    app = limits_app
    assert limits(app) == []
    r = app.http.post("/v1/limits", json=reading(app, 20.0))
    assert r.status_code == 202 and r.json() == {"accepted": 1, "recorded": 1}
    app.clock.advance(minutes=1)
    app.http.post("/v1/limits", json={"observations": [reading(app, 35.5, 3540)]})
    rows = limits(app)
    assert len(rows) == 1
    row = rows[0]
    assert set(row) >= SPEC_FIELDS
    assert row["used_percent"] == 35.5
    assert row["resets_at"] == "2026-11-18T13:00:00Z"
    assert row["observed_at"] == "2026-11-18T12:01:00Z"
    assert row["source"] == "official" and row["stale"] is False
    app.clock.advance(minutes=10)
    assert limits(app)[0]["stale"] is False  # exactly ten minutes is not older than ten
    app.clock.advance(seconds=1)
    assert limits(app)[0]["stale"] is True


def test_a_repeated_reading_refreshes_instead_of_adding_rows(limits_app: LimitsApp) -> None:
    app = limits_app
    body = reading(app, 40.0)
    assert app.http.post("/v1/limits", json=body).json()["recorded"] == 1
    app.clock.advance(minutes=9)
    assert app.http.post("/v1/limits", json=body).json()["recorded"] == 0
    app.clock.advance(minutes=9)
    assert limits(app)[0]["stale"] is False  # the repeat moved observed_at forward
    conn = open_for_reading(app.core.settings.db_path)
    try:
        assert conn.execute("SELECT count(*) FROM limit_observations").fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"used_percent": "45"}, "used_percent"),
        ({"used_percent": -1}, "used_percent"),
        ({"used_percent": float("nan")}, "used_percent"),
        ({"resets_at": "tomorrow"}, "resets_at"),
        ({"window": ""}, "window"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"source": "guessed"}, "source"),
    ],
)
def test_bad_reading_names_index_and_field_and_stores_nothing(
    limits_app: LimitsApp, change: dict[str, Any], field: str
) -> None:
    app = limits_app
    good = reading(app, 10.0)
    bad = {**reading(app, 10.0, window="seven_day"), **change}
    r = app.http.post(
        "/v1/limits",
        content=__import__("json").dumps([good, bad], allow_nan=True),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    detail = r.json()["error"]["details"][0]
    assert detail["index"] == 1 and detail["field"] == field
    assert limits(app) == []


def test_token_required(limits_app: LimitsApp) -> None:
    import httpx

    with httpx.Client(base_url=limits_app.core.url) as anon:
        assert anon.get("/v1/limits").status_code == 401
        assert anon.post("/v1/limits", json=reading(limits_app, 1.0)).status_code == 401


def test_thresholds_fire_once_per_window_and_survive_restart(
    make_limits: LimitsFactory,
) -> None:
    app = make_limits()
    app.http.post("/v1/limits", json=reading(app, 50.0))
    assert app.sink.alerts == []
    app.http.post("/v1/limits", json=reading(app, 71.0))
    assert [a.threshold for a in app.sink.alerts] == [70.0]
    assert "Claude 5h window at 71 %" in app.sink.alerts[0].text
    app.http.post("/v1/limits", json=reading(app, 75.0, 3599))  # jitter: same window
    assert len(app.sink.alerts) == 1
    app.close()

    again = make_limits()
    again.http.post("/v1/limits", json=reading(again, 80.0))
    assert again.sink.alerts == []  # 70 % already fired for this window, before the restart
    again.http.post("/v1/limits", json=reading(again, 96.0))
    assert [a.threshold for a in again.sink.alerts] == [90.0]
    # the next window (a new reset time) re-arms both
    again.clock.advance(hours=1, minutes=1)
    again.http.post("/v1/limits", json=reading(again, 72.0, 5 * 3600))
    assert [a.threshold for a in again.sink.alerts] == [90.0, 70.0]
    conn = open_for_reading(again.core.settings.db_path)
    try:
        fired = fired_limit_alerts(conn)
    finally:
        conn.close()
    assert sorted(a["threshold"] for a in fired) == [70.0, 70.0, 90.0]


def test_first_reading_over_both_thresholds_fires_only_the_higher(
    limits_app: LimitsApp,
) -> None:
    app = limits_app
    app.http.post("/v1/limits", json=reading(app, 93.0))
    assert [a.threshold for a in app.sink.alerts] == [90.0]
    app.http.post("/v1/limits", json=reading(app, 94.0))
    assert len(app.sink.alerts) == 1


def test_configured_thresholds_and_paused_notifications(make_limits: LimitsFactory) -> None:
    app = make_limits(limit_thresholds=(50.0,))
    app.service.set_paused(True)
    app.http.post("/v1/limits", json=reading(app, 55.0))
    assert app.sink.alerts == []  # recorded as fired, not shown
    app.service.set_paused(False)
    app.http.post("/v1/limits", json=reading(app, 60.0))
    assert app.sink.alerts == []  # once per window, even when it was only logged


def test_stale_readings_do_not_notify(limits_app: LimitsApp) -> None:
    app = limits_app
    old = reading(app, 95.0, observed_at=app.clock.epoch - 3600)
    app.http.post("/v1/limits", json=old)
    assert app.sink.alerts == []
    assert limits(app)[0]["stale"] is True


def test_a_store_only_core_records_without_alerting(home: Any, clock: Any) -> None:
    """`spendtray import codex` from the command line: readings stored, no alert claimed (the
    running app would otherwise never show it)."""
    from dataclasses import replace

    from limitskit import Collect

    from spendtray.config import load_settings
    from spendtray.core import Core
    from spendtray.limits.model import Observation

    core = Core(replace(load_settings(home=home, port=0), timezone="UTC"), clock=clock)
    core.start_store()
    sink = Collect()
    core.limits.add_notifier(sink)
    try:
        now_ms = int(clock.now.timestamp() * 1000)
        reading = Observation(
            "openai", "subscription", "primary", 300, 95.0, clock.epoch + 3600, now_ms
        )
        assert core.limits.record([reading]) == 1
        assert sink.alerts == []
        assert fired_limit_alerts(core.reader.conn()) == []
        assert [o.used_percent for o in core.limits.observations()] == [95.0]
    finally:
        core.stop()
