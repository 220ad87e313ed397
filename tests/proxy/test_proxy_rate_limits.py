"""Rate-limit response headers seen by the proxy become window readings in `/v1/limits`:
Anthropic's unified subscription headers, Codex's plan headers, and the API-key buckets of
Anthropic and OpenAI — through the real SDKs, the real proxy and a fake upstream."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import anthropic
import httpx
import openai
from fake_llm_upstream import FakeUpstream, anthropic_message, chat_completion
from proxykit import ANTHROPIC_KEY, OPENAI_KEY, api
from starlette.responses import Response

from spendtray.core import Core
from spendtray.limits.rate_limit_headers import duration_seconds

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


def reply(body: Any, headers: dict[str, str]) -> Any:
    raw = json.dumps(body).encode()
    return lambda got: Response(raw, 200, headers=headers, media_type="application/json")


def wait_limits(core: Core, wanted: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], Any]:
    """``/v1/limits`` once every wanted (provider, account, window) is there (recorded off the
    event loop, just after the response)."""
    deadline = time.monotonic() + 10
    with api(core) as client:
        while True:
            rows = client.get("/v1/limits").json()["limits"]
            seen = {(r["provider"], r["account"], r["window"]): r for r in rows}
            if wanted <= set(seen) or time.monotonic() > deadline:
                assert wanted <= set(seen), sorted(seen)
                return seen


def test_anthropic_unified_and_api_key_headers(proxy_core: Core, upstream: FakeUpstream) -> None:
    now = int(time.time())
    reset_requests = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=12)).replace(microsecond=0)
    headers = {
        "request-id": "req_rl_1",
        "anthropic-ratelimit-unified-status": "allowed",
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
        "anthropic-ratelimit-unified-5h-utilization": "0.42",
        "anthropic-ratelimit-unified-5h-reset": str(now + 3 * 3600),
        "anthropic-ratelimit-unified-7d-utilization": "0.61",
        "anthropic-ratelimit-unified-7d-reset": str(now + 4 * 86400),
        "anthropic-ratelimit-unified-7d_sonnet-utilization": "0.2",
        "anthropic-ratelimit-unified-7d_sonnet-reset": str(now + 4 * 86400),
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "45",
        "anthropic-ratelimit-requests-reset": reset_requests.isoformat().replace("+00:00", "Z"),
        "anthropic-ratelimit-tokens-limit": "80000",
        "anthropic-ratelimit-tokens-remaining": "not-a-number",
    }
    upstream.push(reply(anthropic_message(1), headers))
    client = anthropic.Anthropic(
        api_key=ANTHROPIC_KEY, base_url=f"{proxy_core.url}/p/rl/anthropic", max_retries=0
    )
    answer = client.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=5, messages=MESSAGES
    )
    assert answer.headers["anthropic-ratelimit-unified-5h-utilization"] == "0.42"  # unchanged
    seen = wait_limits(
        proxy_core,
        {
            ("anthropic", "subscription", "five_hour"),
            ("anthropic", "subscription", "seven_day"),
            ("anthropic", "subscription", "seven_day_sonnet"),
            ("anthropic", "api", "requests"),
        },
    )
    five = seen[("anthropic", "subscription", "five_hour")]
    assert five["used_percent"] == 42.0 and five["window_minutes"] == 300
    assert five["origin"] == "proxy" and five["source"] == "official" and not five["stale"]
    assert (
        five["resets_at"]
        == dt.datetime.fromtimestamp(now + 3 * 3600, dt.UTC).isoformat()[:19] + "Z"
    )
    assert seen[("anthropic", "subscription", "seven_day")]["used_percent"] == 61.0
    assert seen[("anthropic", "subscription", "seven_day_sonnet")]["window_minutes"] == 10080
    requests = seen[("anthropic", "api", "requests")]
    assert requests["used_percent"] == 10.0 and requests["window_minutes"] is None
    assert requests["resets_at"] == reset_requests.isoformat().replace("+00:00", "Z")
    assert ("anthropic", "api", "tokens") not in seen  # its remaining count did not parse


def test_openai_api_key_and_codex_plan_headers(proxy_core: Core, upstream: FakeUpstream) -> None:
    headers = {
        "x-request-id": "req_rl_2",
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": "9500",
        "x-ratelimit-reset-requests": "6m0s",
        "x-ratelimit-limit-tokens": "200000",
        "x-ratelimit-remaining-tokens": "150000",
        "x-ratelimit-reset-tokens": "20ms",
        "x-codex-primary-used-percent": "37.5",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-after-seconds": "3600",
        "x-codex-secondary-used-percent": "12",
        "x-codex-secondary-window-minutes": "10080",
        "x-codex-secondary-reset-at": str(int(time.time()) + 5 * 86400),
    }
    upstream.push(reply(chat_completion(2, "gpt-4o"), headers))
    before = time.time()
    client = openai.OpenAI(
        api_key=OPENAI_KEY, base_url=f"{proxy_core.url}/p/rl/openai/v1", max_retries=0
    )
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    seen = wait_limits(
        proxy_core,
        {
            ("openai", "api", "requests"),
            ("openai", "api", "tokens"),
            ("openai", "subscription", "primary"),
            ("openai", "subscription", "secondary"),
        },
    )
    assert seen[("openai", "api", "requests")]["used_percent"] == 5.0
    assert seen[("openai", "api", "tokens")]["used_percent"] == 25.0
    requests_reset = dt.datetime.fromisoformat(seen[("openai", "api", "requests")]["resets_at"])
    assert before + 355 <= requests_reset.timestamp() <= time.time() + 365
    primary = seen[("openai", "subscription", "primary")]
    assert primary["used_percent"] == 37.5 and primary["window_minutes"] == 300
    assert primary["pace"]["resets_in_seconds"] in range(3590, 3601)
    assert seen[("openai", "subscription", "secondary")]["used_percent"] == 12.0


def test_a_response_without_rate_limit_headers_records_nothing(
    proxy_core: Core, upstream: FakeUpstream
) -> None:
    def readings() -> list[tuple[Any, ...]]:
        with api(proxy_core) as client:
            rows = client.get("/v1/limits").json()["limits"]
        return [(r["provider"], r["window"], r["used_percent"], r["observed_at"]) for r in rows]

    before = readings()
    httpx.post(
        f"{proxy_core.url}/p/plain/openai/v1/chat/completions",
        json={"model": "gpt-4o", "messages": MESSAGES},
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
    ).raise_for_status()
    time.sleep(0.3)
    assert readings() == before


def test_openai_reset_durations() -> None:
    assert duration_seconds("6m0s") == 360
    assert duration_seconds("1s") == 1
    assert duration_seconds("20ms") == 0.02
    assert duration_seconds("1h2m3.5s") == 3723.5
    assert duration_seconds("soon") is None and duration_seconds("5") is None
