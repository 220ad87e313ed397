"""Contract tests against the real server on a loopback port (SPEC §4)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from spendtray.core import Core

EVENT = {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 200, "project": "acme"}


def post(client: httpx.Client, body: Any, content_type: str = "application/json") -> httpx.Response:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/v1/usage", content=data, headers={"Content-Type": content_type})


def stored_count(client: httpx.Client) -> int:
    return int(client.get("/v1/summary").json()["total"]["calls"])


def test_healthz_needs_no_token(core: Core) -> None:
    r = httpx.get(f"{core.url}/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]


@pytest.mark.parametrize(
    ("body", "content_type", "n"),
    [
        (EVENT, "application/json", 1),
        ([EVENT, {**EVENT, "model": "claude-sonnet-4-5"}], "application/json", 2),
        ({"events": [EVENT, EVENT, EVENT]}, "application/json", 3),
        ("\n".join(json.dumps(EVENT) for _ in range(4)) + "\n", "application/x-ndjson", 4),
        ("\n".join(json.dumps(EVENT) for _ in range(2)), "application/json", 2),
        (EVENT, "application/json; charset=utf-8", 1),
    ],
)
def test_accepted_shapes(client: httpx.Client, body: Any, content_type: str, n: int) -> None:
    r = post(client, body, content_type)
    assert r.status_code == 202, r.text
    data = r.json()
    assert data["accepted"] == n and data["duplicates"] == 0
    assert len(data["events"]) == n
    assert all(
        e["priced"] and e["cost_usd"] > 0 and isinstance(e["id"], int) for e in data["events"]
    )
    assert "budget" in data
    assert stored_count(client) == n


def test_cost_in_reply_matches_the_price(client: httpx.Client) -> None:
    r = post(client, EVENT)
    # gpt-4o: 1000 × $2.50/M + 200 × $10/M
    assert r.json()["events"][0]["cost_usd"] == pytest.approx(0.0045, abs=1e-12)


@pytest.mark.parametrize(
    "raw",
    [
        {
            "provider": "openai",
            "model": "gpt-4o",
            "usage": {"prompt_tokens": 10, "completion_tokens": 5},
        },
        {"provider": "openai", "model": "gpt-5", "usage": {"input_tokens": 10, "output_tokens": 5}},
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 3, "cache_read_input_tokens": 7, "output_tokens": 5},
        },
        {
            "provider": "google",
            "model": "gemini-2.5-flash",
            "usage": {"promptTokenCount": 10, "candidatesTokenCount": 5},
        },
    ],
)
def test_raw_provider_usage_objects(client: httpx.Client, raw: dict[str, Any]) -> None:
    r = post(client, raw)
    assert r.status_code == 202, r.text
    event = client.get("/v1/usage").json()["events"][0]
    assert event["input_tokens"] == 10 and event["output_tokens"] == 5


def test_batch_is_all_or_nothing_and_names_index_and_field(client: httpx.Client) -> None:
    r = post(client, [EVENT, EVENT, {**EVENT, "output_tokens": -5}, EVENT])
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["details"][0]["index"] == 2 and err["details"][0]["field"] == "output_tokens"
    assert "nothing stored" in err["message"]
    assert stored_count(client) == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b"42", "application/json"),
        (b'{"events": 5}', "application/json"),
        (b'{"model":"gpt-4o"}\nnope\n', "application/x-ndjson"),
    ],
)
def test_malformed_bodies_are_400(client: httpx.Client, body: bytes, content_type: str) -> None:
    r = post(client, body, content_type)
    assert r.status_code == 400
    assert r.json()["error"]["message"]
    assert stored_count(client) == 0


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # a pretty-printed document with a mistake is not taken for NDJSON
        (b'{"model": "gpt-4o",\n "input_tokens": }\n', "not valid JSON"),
        (b'{"model":"gpt-4o","input_tokens":NaN}', "not valid JSON"),
        (b'{"model":"gpt-4o"} trailing', "not valid JSON"),
        (b'{"model":"\xff\xfe"}', "not UTF-8"),
        (b'{"model":"gpt-4o"}\n{"model":', "line 2 is not valid JSON"),
    ],
)
def test_bad_json_is_named(client: httpx.Client, body: bytes, problem: str) -> None:
    r = post(client, body, "application/json")
    assert r.status_code == 400
    assert problem in r.json()["error"]["message"]
    assert stored_count(client) == 0


def test_missing_or_wrong_token_is_401(core: Core) -> None:
    r = httpx.post(f"{core.url}/v1/usage", json=EVENT)
    assert r.status_code == 401 and "token" in r.json()["error"]["message"]
    r = httpx.post(f"{core.url}/v1/usage", json=EVENT, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = httpx.get(f"{core.url}/v1/summary", headers={"X-Spendtray-Token": core.token})
    assert r.status_code == 200


def test_foreign_host_is_403(client: httpx.Client) -> None:
    r = client.post("/v1/usage", json=EVENT, headers={"Host": "evil.example:8719"})
    assert r.status_code == 403 and "Host" in r.json()["error"]["message"]
    assert client.get("/healthz", headers={"Host": "attacker.test"}).status_code == 403
    assert client.get("/healthz", headers={"Host": "localhost:8719"}).status_code == 200


def test_browser_origin_is_403(client: httpx.Client) -> None:
    r = client.post("/v1/usage", json=EVENT, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "origin" in r.json()["error"]["message"]
    assert stored_count(client) == 0


def test_allowed_origin_passes(settings: Any) -> None:
    from dataclasses import replace

    from spendtray.core import Core

    core = Core(replace(settings, allowed_origins=("http://localhost:3000",)))
    core.start_background()
    try:
        r = httpx.post(
            f"{core.url}/v1/usage",
            json=EVENT,
            headers={"Authorization": f"Bearer {core.token}", "Origin": "http://localhost:3000"},
        )
        assert r.status_code == 202
    finally:
        core.stop()


def test_form_content_type_is_415(client: httpx.Client) -> None:
    r = post(client, EVENT, "application/x-www-form-urlencoded")
    assert r.status_code == 415 and "application/json" in r.json()["error"]["message"]
    r = post(client, EVENT, "text/plain")
    assert r.status_code == 415
    assert stored_count(client) == 0


def test_oversized_bodies_are_413(client: httpx.Client, settings: Any) -> None:
    big = json.dumps([EVENT] * 200_000).encode()
    assert len(big) > settings.max_body_bytes
    r = post(client, big)
    assert r.status_code == 413

    def chunks() -> Any:
        for _ in range(200):
            yield b" " * 65536

    r = client.post("/v1/usage", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert stored_count(client) == 0


def test_request_id_is_idempotent_and_keeps_the_bigger_copy(client: httpx.Client) -> None:
    first = post(client, {**EVENT, "request_id": "req-1", "output_tokens": 10}).json()
    again = post(client, {**EVENT, "request_id": "req-1", "output_tokens": 10}).json()
    assert again["accepted"] == 0 and again["duplicates"] == 1
    assert again["events"][0]["id"] == first["events"][0]["id"]
    bigger = post(client, {**EVENT, "request_id": "req-1", "output_tokens": 500}).json()
    assert bigger["duplicates"] == 1
    smaller = post(client, [{**EVENT, "request_id": "req-1", "output_tokens": 1}] * 2).json()
    assert smaller["duplicates"] == 2
    summary = client.get("/v1/summary").json()["total"]
    assert summary["calls"] == 1 and summary["output_tokens"] == 500
    events = client.get("/v1/usage").json()["events"]
    assert len(events) == 1 and events[0]["output_tokens"] == 500


def test_get_usage_filters_and_pages(client: httpx.Client) -> None:
    batch = [
        {
            **EVENT,
            "project": f"p{i % 3}",
            "timestamp": 1_790_000_000 + i,
            "agent": "bot" if i % 2 else None,
        }
        for i in range(25)
    ]
    assert post(client, batch).status_code == 202
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 10, "project": "p1"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/usage", params=params).json()
        seen.extend(e["id"] for e in page["events"])
        assert all(e["project"] == "p1" for e in page["events"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8
    times = [e["timestamp"] for e in client.get("/v1/usage", params={"limit": 50}).json()["events"]]
    assert times == sorted(times, reverse=True)
    agent = client.get("/v1/usage", params={"agent": "bot", "limit": 50}).json()["events"]
    assert len(agent) == 12
    since = client.get("/v1/usage", params={"since": "1790000020", "limit": 50}).json()["events"]
    assert len(since) == 5
    assert client.get("/v1/usage", params={"limit": 0}).status_code == 400
    assert client.get("/v1/usage", params={"cursor": "garbage!"}).status_code == 400
    assert client.get("/v1/usage", params={"since": "soon"}).status_code == 400


def test_summary_groups_and_time_zones(client: httpx.Client) -> None:
    # 2026-11-21 23:30 UTC is already the 22nd in Tokyo and still the 21st in New York.
    events = [
        {**EVENT, "project": "a", "timestamp": "2026-11-21T23:30:00Z"},
        {
            **EVENT,
            "project": "b",
            "timestamp": "2026-11-21T12:00:00Z",
            "model": "claude-sonnet-4-5",
        },
    ]
    assert post(client, events).status_code == 202
    tokyo = client.get("/v1/summary", params={"group_by": "day", "tz": "Asia/Tokyo"}).json()
    assert [r["key"] for r in tokyo["rows"]] == ["2026-11-21", "2026-11-22"]
    ny = client.get("/v1/summary", params={"group_by": "day", "tz": "America/New_York"}).json()
    assert [r["key"] for r in ny["rows"]] == ["2026-11-21"]
    assert ny["rows"][0]["calls"] == 2
    for group in ("project", "model", "provider", "agent", "source", "hour", "week", "month"):
        body = client.get("/v1/summary", params={"group_by": group}).json()
        assert body["group_by"] == group and body["total"]["calls"] == 2
        assert sum(r["calls"] for r in body["rows"]) == 2
    by_project = client.get("/v1/summary", params={"group_by": "project", "project": "a"}).json()
    assert [r["key"] for r in by_project["rows"]] == ["a"]
    bad = client.get("/v1/summary", params={"group_by": "colour"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "group_by"
    assert client.get("/v1/summary", params={"tz": "Mars/Olympus"}).status_code == 400


def test_unpriced_usage_is_flagged_not_zeroed(client: httpx.Client) -> None:
    r = post(client, {"model": "brand-new-model", "input_tokens": 100})
    event = r.json()["events"][0]
    assert event["priced"] is False and event["cost_usd"] is None and event["unpriced_reason"]
    summary = client.get("/v1/summary").json()
    assert summary["total"]["unpriced_calls"] == 1
    assert summary["unpriced_models"][0]["model"] == "brand-new-model"


def test_prices_routes(client: httpx.Client) -> None:
    listing = client.get("/v1/prices", params={"q": "sonnet-4-5"}).json()
    assert listing["count"] >= 1 and all("source" in p for p in listing["prices"])
    one = client.get("/v1/prices/claude-sonnet-4-5").json()
    assert one["provider"] == "anthropic" and one["prices"]["input_mtok"]["base"] == "3"
    assert one["source"].startswith("genai-prices")
    routed = client.get("/v1/prices/openai/gpt-4o").json()
    assert routed["model"] == "gpt-4o"
    missing = client.get("/v1/prices/no-such-model-zzz")
    assert missing.status_code == 404 and "no price known" in missing.json()["error"]["message"]


def test_unknown_route_and_method(client: httpx.Client) -> None:
    assert client.get("/v1/nope").status_code == 404
    assert client.delete("/v1/usage").status_code == 405
