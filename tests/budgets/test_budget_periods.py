"""Calendar periods of budgets: rollover, month ends, DST days, zones east and west of UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from budgetkit import UTC, Factory

from spendtray.budgets.model import make_budget


def local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def only(app_budgets: list[dict[str, object]], period: str) -> dict[str, object]:
    return next(b for b in app_budgets if b["period"] == period)


def test_day_rollover_rearms_thresholds(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "day", 10))
    app.clock.set(dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    app.spend(5)
    app.spend(1)
    app.spend(3)
    assert app.sink.kinds("threshold") == [
        ("acme", "day", "threshold", 50.0),
        ("acme", "day", "threshold", 80.0),
    ]
    # The next day starts from zero and every threshold is armed again.
    app.clock.set(dt.datetime(2026, 11, 19, 0, 30, tzinfo=UTC))
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["spent_usd"] == 0
    assert status["period_start"] == "2026-11-19T00:00:00+00:00"
    app.spend(5)
    assert app.sink.kinds("threshold")[-1] == ("acme", "day", "threshold", 50.0)
    assert len(app.sink.kinds("threshold")) == 3


def test_week_follows_configured_week_start(make_app: Factory) -> None:
    app = make_app(week_start="sunday")
    app.service.put(make_budget("acme", "week", 100))
    app.clock.set(dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC))  # a Wednesday
    app.spend(4, at=dt.datetime(2026, 11, 15, 0, 10, tzinfo=UTC))  # Sunday: this week
    app.spend(7, at=dt.datetime(2026, 11, 14, 23, 50, tzinfo=UTC))  # Saturday: last week
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["period_start"] == "2026-11-15T00:00:00+00:00"
    assert status["period_end"] == "2026-11-22T00:00:00+00:00"
    assert status["spent_usd"] == 4
    # Rolling into the next week: Sunday 22nd.
    app.clock.set(dt.datetime(2026, 11, 22, 0, 5, tzinfo=UTC))
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["period_start"] == "2026-11-22T00:00:00+00:00"
    assert status["spent_usd"] == 0


def test_week_starting_monday(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "week", 100))
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["period_start"] == "2026-11-16T00:00:00+00:00"


def test_month_ends_and_rollover(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "month", 10))
    app.clock.set(dt.datetime(2026, 1, 31, 23, 50, tzinfo=UTC))
    app.spend(6)
    assert app.sink.kinds("threshold") == [("acme", "month", "threshold", 50.0)]
    jan = app.client.get("/v1/budgets").json()["budgets"][0]
    assert (jan["period_start"], jan["period_end"]) == (
        "2026-01-01T00:00:00+00:00",
        "2026-02-01T00:00:00+00:00",
    )
    assert jan["spent_usd"] == 6
    # February (28 days in 2026) starts empty and re-arms.
    app.clock.set(dt.datetime(2026, 2, 1, 0, 10, tzinfo=UTC))
    app.spend(5)
    feb = app.client.get("/v1/budgets").json()["budgets"][0]
    assert feb["period_end"] == "2026-03-01T00:00:00+00:00"
    assert feb["spent_usd"] == 5
    assert app.sink.kinds("threshold") == [("acme", "month", "threshold", 50.0)] * 2
    assert "Feb 28" in app.sink.alerts[-1].text
    app.clock.set(dt.datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    assert app.client.get("/v1/budgets").json()["budgets"][0]["spent_usd"] == 5
    app.clock.set(dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    assert app.client.get("/v1/budgets").json()["budgets"][0]["spent_usd"] == 0


def test_zone_east_of_utc(make_app: Factory) -> None:
    app = make_app(timezone="Asia/Tokyo")  # UTC+9, no DST
    app.service.put(make_budget("acme", "day", 10))
    app.spend(3, at=local("Asia/Tokyo", 2026, 11, 18, 23, 30))  # 14:30 UTC, the 18th in Tokyo
    app.spend(2, at=local("Asia/Tokyo", 2026, 11, 19, 0, 30))  # 15:30 UTC, the 19th in Tokyo
    app.clock.set(local("Asia/Tokyo", 2026, 11, 19, 0, 45))
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["period_start"] == "2026-11-19T00:00:00+09:00"
    assert status["period_end"] == "2026-11-20T00:00:00+09:00"
    assert status["spent_usd"] == 2


def test_zone_west_of_utc(make_app: Factory) -> None:
    app = make_app(timezone="America/Los_Angeles")  # UTC-8 in November
    app.service.put(make_budget("acme", "day", 10))
    app.service.put(make_budget("acme", "month", 100))
    app.clock.set(local("America/Los_Angeles", 2026, 12, 1, 1, 0))
    app.spend(3, at=local("America/Los_Angeles", 2026, 11, 30, 23, 30))  # Dec 1 07:30 UTC
    app.spend(2, at=local("America/Los_Angeles", 2026, 12, 1, 0, 30))
    budgets = app.client.get("/v1/budgets").json()["budgets"]
    day, month = only(budgets, "day"), only(budgets, "month")
    assert day["period_start"] == "2026-12-01T00:00:00-08:00"
    assert day["spent_usd"] == 2
    assert month["period_start"] == "2026-12-01T00:00:00-08:00"
    assert month["spent_usd"] == 2
    app.clock.set(local("America/Los_Angeles", 2026, 11, 30, 23, 45))
    month = only(app.client.get("/v1/budgets").json()["budgets"], "month")
    assert month["period_start"] == "2026-11-01T00:00:00-07:00"  # still summer time on Nov 1
    assert month["spent_usd"] == 3


def test_dst_autumn_day_has_25_hours(make_app: Factory) -> None:
    app = make_app(timezone="Europe/Berlin")
    app.service.put(make_budget("acme", "day", 10))
    # 2026-10-25: clocks go back at 03:00 CEST; the local day runs 22:00Z..23:00Z next day.
    app.spend(1, at=local("Europe/Berlin", 2026, 10, 24, 23, 59))
    app.spend(2, at=dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 02:30 CEST
    app.spend(3, at=dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 02:30 CET, the repeat
    app.spend(4, at=dt.datetime(2026, 10, 25, 22, 50, tzinfo=UTC))  # 23:50 CET
    app.clock.set(dt.datetime(2026, 10, 25, 22, 55, tzinfo=UTC))
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["period_start"] == "2026-10-25T00:00:00+02:00"
    assert status["period_end"] == "2026-10-26T00:00:00+01:00"
    assert status["spent_usd"] == 9
    assert status["state"] == "warning"


def test_dst_spring_day_has_23_hours(make_app: Factory) -> None:
    app = make_app(timezone="Europe/Berlin")
    app.service.put(make_budget("acme", "day", 10))
    app.spend(2, at=dt.datetime(2026, 3, 29, 21, 50, tzinfo=UTC))  # 23:50 CEST on the 29th
    app.spend(5, at=dt.datetime(2026, 3, 29, 22, 10, tzinfo=UTC))  # 00:10 on the 30th
    app.clock.set(dt.datetime(2026, 3, 29, 21, 55, tzinfo=UTC))
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["period_start"] == "2026-03-29T00:00:00+01:00"
    assert status["period_end"] == "2026-03-30T00:00:00+02:00"
    assert status["spent_usd"] == 2
    app.clock.set(dt.datetime(2026, 3, 29, 22, 15, tzinfo=UTC))
    status = app.client.get("/v1/budgets").json()["budgets"][0]
    assert status["spent_usd"] == 5


def test_several_periods_on_one_project_alert_separately(make_app: Factory) -> None:
    app = make_app()
    app.service.put(make_budget("acme", "day", 5))
    app.service.put(make_budget("acme", "month", 100))
    app.spend(4.5)
    assert app.sink.kinds("threshold") == [("acme", "day", "threshold", 80.0)]
    app.clock.advance(days=1)
    app.spend(50)
    assert app.sink.kinds("threshold")[1:] == [
        ("acme", "day", "threshold", 100.0),
        ("acme", "month", "threshold", 50.0),
    ]
    assert "over budget" in [a for a in app.sink.alerts if a.kind == "threshold"][1].text
