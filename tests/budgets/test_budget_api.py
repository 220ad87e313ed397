"""The budget routes of SPEC §4 against a real server: shapes, check/hard stop, bad input."""

from __future__ import annotations

import json
import math

import httpx
import pytest
from budgetkit import App

from spendtray.budgets.model import make_budget

FIELDS = {
    "project",
    "period",
    "limit_usd",
    "mode",
    "thresholds",
    "spent_usd",
    "reserved_usd",
    "remaining_usd",
    "ratio",
    "state",
    "forecast_usd",
    "period_start",
    "period_end",
}
CHECK_FIELDS = {
    "allow",
    "state",
    "period",
    "spent_usd",
    "reserved_usd",
    "limit_usd",
    "remaining_usd",
    "forecast_usd",
}


def test_put_list_replace_delete(app: App) -> None:
    c = app.client
    r = c.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= FIELDS
    assert body["mode"] == "soft"
    assert body["thresholds"] == [50, 80, 100]
    assert body["limit_usd"] == 50
    assert body["state"] == "ok"
    r = c.put(
        "/v1/budgets/acme",
        json={"period": "day", "limit_usd": 5.5, "mode": "hard", "thresholds": [25, 90]},
    )
    assert r.json()["thresholds"] == [25, 90]
    # PUT replaces the same period
    c.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 60})
    c.put("/v1/budgets/*", json={"period": "week", "limit_usd": 200})
    budgets = c.get("/v1/budgets").json()["budgets"]
    assert [(b["project"], b["period"], b["limit_usd"]) for b in budgets] == [
        ("*", "week", 200),
        ("acme", "day", 5.5),
        ("acme", "month", 60),
    ]
    assert all(set(b) >= FIELDS for b in budgets)
    assert c.get("/v1/budgets/acme").json()["budgets"][0]["mode"] == "hard"
    r = c.delete("/v1/budgets/acme", params={"period": "day"})
    assert r.json() == {"removed": 1, "project": "acme", "period": "day"}
    assert c.delete("/v1/budgets/acme", params={"period": "day"}).status_code == 404
    assert c.delete("/v1/budgets/acme").json()["removed"] == 1
    assert [b["project"] for b in c.get("/v1/budgets").json()["budgets"]] == ["*"]


def test_spend_and_status_fields(app: App) -> None:
    app.client.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 50})
    app.spend(41)
    b = app.client.get("/v1/budgets").json()["budgets"][0]
    assert b["spent_usd"] == 41
    assert b["remaining_usd"] == 9
    assert b["ratio"] == 0.82
    assert b["state"] == "warning"
    assert b["forecast_usd"] > 41
    assert b["period_start"] == "2026-11-01T00:00:00+00:00"
    assert b["period_end"] == "2026-12-01T00:00:00+00:00"


def test_usage_reply_carries_budget_state(app: App) -> None:
    app.client.put("/v1/budgets/acme", json={"period": "day", "limit_usd": 1, "mode": "hard"})
    event = {"model": "unit-model", "provider": "testco", "project": "acme"}
    r = app.client.post("/v1/usage", json={**event, "input_tokens": 600_000})
    assert r.status_code == 202, r.text
    acme = r.json()["budget"]["projects"]["acme"]
    assert acme["state"] == "warning"
    assert acme["allow"] is True
    assert acme["budgets"][0]["spent_usd"] == 0.6
    r = app.client.post("/v1/usage", json={**event, "input_tokens": 500_000})
    budget = r.json()["budget"]
    assert budget["state"] == "exceeded"
    assert budget["projects"]["acme"]["allow"] is False
    r = app.client.post("/v1/usage", json={**event, "project": "free", "input_tokens": 1})
    assert r.json()["budget"]["projects"]["free"] == {"state": "ok", "allow": True, "budgets": []}


def test_a_budget_set_after_unbudgeted_posts_shows_in_the_next_reply(app: App) -> None:
    event = {"model": "unit-model", "provider": "testco", "project": "late"}
    for _ in range(2):  # the unbudgeted reply is reused between POSTs
        r = app.client.post("/v1/usage", json={**event, "input_tokens": 600_000})
        assert r.json()["budget"]["projects"]["late"]["budgets"] == []
    app.client.put("/v1/budgets/late", json={"period": "day", "limit_usd": 1})
    r = app.client.post("/v1/usage", json={**event, "input_tokens": 1})
    late = r.json()["budget"]["projects"]["late"]
    assert [b["spent_usd"] for b in late["budgets"]] == [1.200001]  # this POST counts too
    assert late["state"] == "exceeded"


def test_check_hard_budget_refuses(app: App) -> None:
    c = app.client
    c.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 10, "mode": "hard"})
    app.spend(8)
    r = c.get("/v1/budgets/acme/check", params={"estimate_usd": "1"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= CHECK_FIELDS
    assert body["allow"] is True
    assert (body["period"], body["spent_usd"], body["limit_usd"]) == ("month", 8, 10)
    assert body["remaining_usd"] == 2
    body = c.get("/v1/budgets/acme/check", params={"estimate_usd": "2.5"}).json()
    assert body["allow"] is False
    assert body["state"] == "warning"
    assert c.get("/v1/budgets/acme/check").json()["allow"] is True
    app.spend(2)
    body = c.get("/v1/budgets/acme/check").json()
    assert (body["allow"], body["state"], body["remaining_usd"]) == (False, "exceeded", 0)


def test_check_soft_budget_allows_and_tightest_wins(app: App) -> None:
    c = app.client
    assert c.get("/v1/budgets/acme/check").json() == {
        "allow": True,
        "state": "ok",
        "period": None,
        "spent_usd": None,
        "reserved_usd": None,
        "limit_usd": None,
        "remaining_usd": None,
        "forecast_usd": None,
        "budget_project": None,
        "mode": None,
    }
    c.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 5})
    c.put("/v1/budgets/*", json={"period": "day", "limit_usd": 20, "mode": "hard"})
    app.spend(6)  # acme over its soft budget
    app.spend(13, "other")  # the global day is at $19
    body = c.get("/v1/budgets/acme/check", params={"estimate_usd": "0.5"}).json()
    assert body["allow"] is True  # soft only notifies; the hard global still has $1
    assert (body["budget_project"], body["period"], body["state"]) == ("acme", "month", "exceeded")
    body = c.get("/v1/budgets/acme/check", params={"estimate_usd": "2"}).json()
    assert body["allow"] is False
    assert (body["budget_project"], body["period"], body["mode"]) == ("*", "day", "hard")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "month", "limit_usd": -5}, "limit_usd"),
        ({"period": "month", "limit_usd": 0}, "limit_usd"),
        ({"period": "month", "limit_usd": math.nan}, "limit_usd"),
        ({"period": "month", "limit_usd": "lots"}, "limit_usd"),
        ({"period": "month", "limit_usd": True}, "limit_usd"),
        ({"period": "year", "limit_usd": 5}, "period"),
        ({"limit_usd": 5}, "period"),
        ({"period": "month"}, "limit_usd"),
        ({"period": "month", "limit_usd": 5, "thresholds": [50, 120]}, "thresholds"),
        ({"period": "month", "limit_usd": 5, "thresholds": [80, 50]}, "thresholds"),
        ({"period": "month", "limit_usd": 5, "thresholds": [50, 50]}, "thresholds"),
        ({"period": "month", "limit_usd": 5, "thresholds": [0, 50]}, "thresholds"),
        ({"period": "month", "limit_usd": 5, "thresholds": []}, "thresholds"),
        ({"period": "month", "limit_usd": 5, "thresholds": "50,80"}, "thresholds"),
        ({"period": "month", "limit_usd": 5, "mode": "strict"}, "mode"),
        ({"period": "month", "limit_usd": 5, "limit": 3}, "limit"),
    ],
)
def test_bad_budget_is_refused_and_changes_nothing(
    app: App, body: dict[str, object], field: str
) -> None:
    c = app.client
    c.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 50})
    before = c.get("/v1/budgets").json()
    # json.dumps writes the NaN literal that lenient JSON parsers (Python's too) accept.
    content = json.dumps(body).encode()
    r = c.put("/v1/budgets/acme", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["message"].startswith("nothing changed: ")
    assert error["details"][0]["field"] == field
    assert c.get("/v1/budgets").json() == before


def test_other_bad_requests(app: App) -> None:
    c = app.client
    r = c.put("/v1/budgets/acme", content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = c.put("/v1/budgets/acme", content=b"period=month", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert c.delete("/v1/budgets/acme", params={"period": "fortnight"}).status_code == 400
    assert c.delete("/v1/budgets/nobody").status_code == 404
    for bad in ("-1", "NaN", "inf", "abc"):
        r = c.get("/v1/budgets/acme/check", params={"estimate_usd": bad})
        assert r.status_code == 400, bad
        assert r.json()["error"]["details"][0]["field"] == "estimate_usd"
    assert c.get("/v1/budgets").json() == {"budgets": []}


def test_budget_routes_need_the_token(app: App) -> None:
    with httpx.Client(base_url=app.core.url) as anonymous:
        assert anonymous.get("/v1/budgets").status_code == 401
        r = anonymous.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 5})
        assert r.status_code == 401
        assert anonymous.get("/v1/budgets/acme/check").status_code == 401
        r = anonymous.get("/v1/budgets", headers={"Host": "evil.example"})
        assert r.status_code == 403
    r = app.client.get("/v1/budgets", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert app.service.budgets() == []


def test_service_api_matches_routes(app: App) -> None:
    app.service.put(make_budget("acme", "week", 7))
    assert app.client.get("/v1/budgets").json()["budgets"][0]["limit_usd"] == 7
    assert app.service.remove("acme", "week") == 1
    assert app.client.get("/v1/budgets").json()["budgets"] == []
