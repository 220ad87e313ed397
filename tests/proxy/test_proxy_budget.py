"""A spent hard budget makes the proxy answer 429 in the provider's error shape, which the real
SDKs raise as their rate-limit error with a message naming the budget; soft budgets never
refuse; and with ``proxy_include_usage`` on, usage-less OpenAI streams are measured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from fake_llm_upstream import CHAT_USAGE, FakeUpstream, chat_chunks
from proxykit import ANTHROPIC_KEY, OPENAI_KEY, api, start_core, wait_events, write_config

from spendtray.core import Core

Events = Callable[[str, int], list[dict[str, Any]]]
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


def put_budget(core: Core, project: str, limit: float, mode: str) -> None:
    with api(core) as client:
        r = client.put(
            f"/v1/budgets/{project}", json={"period": "day", "limit_usd": limit, "mode": mode}
        )
        assert r.status_code == 200, r.text


def openai_sdk(core: Core, project: str) -> openai.OpenAI:
    # default retries: the refusal must not be retried by the SDK
    return openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{core.url}/p/{project}/openai/v1")


def test_spent_hard_budget_refuses_in_each_providers_shape(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    put_budget(proxy_core, "capped", 0.0001, "hard")
    client = openai_sdk(proxy_core, "capped")
    # still allowed: its worst case (a few input tokens, 5 output) fits the limit
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=5)
    [spent] = events_of("capped", 1)
    assert spent["cost_usd"] > 0.0001

    before = len(upstream.received)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    error = caught.value
    assert error.status_code == 429
    assert "hard day budget of project 'capped'" in error.message
    assert "($0.0001 today) is spent" in error.message
    assert error.body == {
        "message": error.body["message"],  # type: ignore[index]
        "type": "insufficient_quota",
        "param": None,
        "code": "spendtray_budget_exceeded",
    }
    assert error.response.headers["x-should-retry"] == "false"

    with pytest.raises(anthropic.RateLimitError) as a_caught:
        anthropic.Anthropic(
            api_key=ANTHROPIC_KEY, base_url=f"{proxy_core.url}/p/capped/anthropic"
        ).messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=MESSAGES)
    body = a_caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "rate_limit_error"
    assert "budget of project 'capped'" in body["error"]["message"]
    assert len(upstream.received) == before  # refused calls never reach the upstream
    assert len(events_of("capped", 1)) == 1  # nor are they recorded as calls


def test_soft_budget_and_other_projects_are_not_refused(
    proxy_core: Core, events_of: Events
) -> None:
    put_budget(proxy_core, "gentle", 0.0001, "soft")
    client = openai_sdk(proxy_core, "gentle")
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(events_of("gentle", 2)) == 2
    openai_sdk(proxy_core, "unbudgeted").embeddings.create(
        model="text-embedding-3-small", input="x"
    )


def test_global_hard_budget_names_all_projects(proxy_core: Core, upstream: FakeUpstream) -> None:
    put_budget(proxy_core, "*", 0.000001, "hard")
    try:
        r = httpx.post(
            f"{proxy_core.url}/p/anyone/openai/v1/embeddings",
            json={"model": "text-embedding-3-small", "input": "x"},
        )
        assert r.status_code == 429
        assert "hard day budget of all projects" in r.json()["error"]["message"]
    finally:
        with api(proxy_core) as client:
            assert client.delete("/v1/budgets/*").status_code == 200


@pytest.fixture
def injecting_core(tmp_path: Path, upstream: FakeUpstream) -> Any:
    home = tmp_path / "home"
    write_config(home, upstream.url, extra="proxy_include_usage = true")
    core = start_core(home)
    yield core
    core.stop()


def test_include_usage_injection(injecting_core: Core, upstream: FakeUpstream) -> None:
    client = openai_sdk(injecting_core, "injected")
    chunks = [
        c.to_dict()
        for c in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    ]
    n = int(chunks[0]["id"].removeprefix("chatcmpl-fake"))
    sent = upstream.last().json()
    assert sent == {
        "stream_options": {"include_usage": True},
        "messages": MESSAGES,
        "model": "gpt-4o",
        "stream": True,
    }
    # the trade-off: the client receives the usage chunk (choices: []) it did not ask for
    assert chunks == chat_chunks(n, True, "gpt-4o") and chunks[-1]["choices"] == []
    [event] = wait_events(injecting_core, "injected", 1)
    assert event["input_tokens"] == CHAT_USAGE["prompt_tokens"] and event["tags"] is None

    # a client that chose include_usage=false is left alone
    list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": False},
        )
    )
    assert upstream.last().json()["stream_options"] == {"include_usage": False}
