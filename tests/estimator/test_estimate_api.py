"""POST /v1/estimate on the real server: SPEC §4 fields, labelled approximations, bad input."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from spendtray.core import Core
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.estimator.estimate import estimate
from spendtray.prices.book import TokenCounts

PROMPT = "Summarise the attached incident report in five bullet points for the on-call team.\n"
SPEC_FIELDS = {
    "model",
    "provider",
    "input_tokens",
    "exact",
    "method",
    "input_cost_usd",
    "output_cost_usd",
    "total_cost_usd",
    "context_window",
    "fits",
}


def test_text_estimate_has_spec_fields_cheapest_first_and_agrees_with_prices(
    core: Core, client: httpx.Client
) -> None:
    models = ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "gemini-2.5-flash"]
    response = client.post(
        "/v1/estimate", json={"text": PROMPT * 20, "models": models, "output_tokens": 400}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["model"] for r in results] != models
    assert {r["model"] for r in results} == set(models)
    totals = [r["total_cost_usd"] for r in results]
    assert totals == sorted(totals)
    for row in results:
        assert set(row) >= SPEC_FIELDS
        price = core.prices.resolve(row["model"])
        nanos = price.cost_nanos(TokenCounts(input_tokens=row["input_tokens"], output_tokens=400))
        assert Decimal(str(row["total_cost_usd"])) == Decimal(nanos) / 10**9
        assert row["provider"] == price.provider_id
        assert row["context_window"] == price.context_window
        assert row["fits"] is True
    by_model = {r["model"]: r for r in results}
    assert by_model["gpt-4o"]["exact"] is True
    assert by_model["gpt-4o"]["method"].startswith("tiktoken o200k_base")
    # approximations are labelled as such
    for name in ("claude-sonnet-4-5", "gemini-2.5-flash"):
        assert by_model[name]["exact"] is False
        assert by_model[name]["method"].startswith("≈")


def test_messages_estimate_matches_the_engine(core: Core, client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name three prime numbers."},
    ]
    body = {
        "messages": messages,
        "models": ["gpt-4o", "claude-haiku-4-5"],
        "output_tokens": 50,
        "calls": 3,
        "calls_per_day": 200,
        "cached_prefix_tokens": 5,
        "batch": True,
    }
    response = client.post("/v1/estimate", json=body)
    assert response.status_code == 200, response.text
    got = {r["model"]: r for r in response.json()["results"]}
    expected = estimate(
        messages,
        ["gpt-4o", "claude-haiku-4-5"],
        50,
        book=core.prices,
        calls=3,
        calls_per_day=200,
        cached_prefix_tokens=5,
        batch=True,
    )
    for result in expected:
        row = got[result.model]
        assert row["input_tokens"] == result.input_tokens
        assert "chat framing" in row["method"] or row["method"].startswith("≈")
        assert row == result.to_dict()
        assert row["monthly_cost_usd"] is not None


def test_default_models_when_none_given(client: httpx.Client) -> None:
    response = client.post("/v1/estimate", json={"text": PROMPT})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert {r["model"] for r in results} == set(DEFAULT_MODELS)
    assert all(r["total_cost_usd"] is not None for r in results)


def test_unknown_model_is_listed_last_unpriced(client: httpx.Client) -> None:
    response = client.post(
        "/v1/estimate", json={"text": PROMPT, "models": ["no-such-model-zz", "gpt-4o"]}
    )
    assert response.status_code == 200
    last = response.json()["results"][-1]
    assert last["model"] == "no-such-model-zz"
    assert last["total_cost_usd"] is None and "no price known" in last["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"models": ["gpt-4o"]}, "text"),
        ({"text": "a", "messages": []}, "text"),
        ({"text": 5}, "text"),
        ({"text": ""}, "text"),
        ({"text": "hi", "models": "gpt-4o"}, "models"),
        ({"text": "hi", "models": []}, "models"),
        ({"text": "hi", "models": ["gpt-4o", ""]}, "models"),
        ({"text": "hi", "output_tokens": -1}, "output_tokens"),
        ({"text": "hi", "output_tokens": 1.5}, "output_tokens"),
        ({"text": "hi", "calls": 0}, "calls"),
        ({"text": "hi", "calls_per_day": -2}, "calls_per_day"),
        ({"text": "hi", "cache_ttl": "2h"}, "cache_ttl"),
        ({"text": "hi", "batch": "yes"}, "batch"),
        ({"text": "hi", "modle": ["x"]}, "modle"),
        ({"messages": [{"content": "no role"}]}, "messages"),
        ({"messages": "hello"}, "messages"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    client: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/estimate", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"][0]["field"] == field
    assert field in error["message"]


def test_guard_rules_apply(core: Core, client: httpx.Client) -> None:
    anonymous = httpx.post(f"{core.url}/v1/estimate", json={"text": "hi"})
    assert anonymous.status_code == 401
    form = client.post("/v1/estimate", content=b"text=hi", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    foreign = client.post(
        "/v1/estimate", json={"text": "hi"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    broken = client.post(
        "/v1/estimate", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert "JSON" in broken.json()["error"]["message"]


def test_whatif_route_reprices_history(core: Core, client: httpx.Client) -> None:
    import datetime as dt

    from spendtray.estimator.whatif import reprice_history
    from spendtray.store.reader import Filters

    now = dt.datetime.now(dt.UTC)
    events = [
        {
            "model": "gpt-4o",
            "project": "acme" if i % 2 else "beta",
            "input_tokens": 5_000 + 10 * i,
            "output_tokens": 700,
            "timestamp": (now - dt.timedelta(days=i * 2, hours=1)).isoformat(),
        }
        for i in range(20)
    ]
    assert client.post("/v1/usage", json=events).status_code == 202
    response = client.get(
        "/v1/whatif",
        params=[("target", "claude-haiku-4-5,gpt-4.1-mini"), ("project", "acme"), ("since", "30d")],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    since = dt.datetime.fromisoformat(body["selection"]["since"])
    expected = reprice_history(
        core.reader.conn(),
        Filters(project="acme", since=since),
        ["claude-haiku-4-5", "gpt-4.1-mini"],
        book=core.prices,
    )
    assert body == expected.to_dict()
    assert body["calls"] == 7  # odd i ≤ 13 (i = 15 is 30 days and an hour ago)
    default = client.get("/v1/whatif").json()
    assert {r["target"] for r in default["results"]} == set(DEFAULT_MODELS)
    assert default["calls"] == 15


def test_whatif_route_bad_input(core: Core, client: httpx.Client) -> None:
    bad = client.get("/v1/whatif", params={"since": "lately"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "since"
    unknown = client.get("/v1/whatif", params={"target": "no-such-model-qq"}).json()
    assert unknown["results"] == [] and unknown["unknown_models"][0]["model"] == "no-such-model-qq"
    assert httpx.get(f"{core.url}/v1/whatif").status_code == 401
