"""The proxy with the real `anthropic` SDK (httpx2 underneath) against the fake upstream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
from fake_llm_upstream import (
    ANTHROPIC_FINAL_OUTPUT,
    FakeUpstream,
    anthropic_events,
    anthropic_message,
)
from proxykit import ANTHROPIC_KEY

from spendtray.core import Core

Events = Callable[[str, int], list[dict[str, Any]]]
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
# Anthropic input_tokens EXCLUDES cache tokens: total = 2000 + 2000 written + 6000 read.
TOTAL_INPUT = 10_000


def sdk(core: Core, project: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key=ANTHROPIC_KEY, base_url=f"{core.url}/p/{project}/anthropic", max_retries=0
    )


def test_message_passes_through_and_is_recorded(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    message = sdk(proxy_core, "writer").messages.create(
        model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES
    )
    n = int(message.id.removeprefix("msg_fake"))
    assert message.to_dict() == anthropic_message(n, "claude-sonnet-4-6")
    got = upstream.last()
    assert got.path == "/v1/messages"
    # anthropic 2.x sends the key as a bearer token (older SDKs: x-api-key); forwarded as sent
    assert got.header("authorization") == f"Bearer {ANTHROPIC_KEY}"
    assert got.header("anthropic-version")  # SDK headers are forwarded as sent

    [event] = events_of("writer", 1)
    assert event["provider"] == "anthropic" and event["source"] == "proxy"
    assert event["request_id"] == message.id
    assert event["input_tokens"] == TOTAL_INPUT
    assert (event["cache_read_tokens"], event["cache_write_tokens"]) == (6000, 2000)
    assert (event["cache_write_5m_tokens"], event["cache_write_1h_tokens"]) == (1000, 1000)
    assert event["output_tokens"] == ANTHROPIC_FINAL_OUTPUT
    assert event["service_tier"] == "standard"
    assert event["priced"] and event["cost_usd"] > 0


def test_stream_events_unchanged_and_usage_not_summed(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    with sdk(proxy_core, "streamy").messages.create(
        model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES, stream=True
    ) as stream:
        received = [event.to_dict() for event in stream]
    n = int(received[0]["message"]["id"].removeprefix("msg_fake"))
    assert received == [payload for _, payload in anthropic_events(n, "claude-sonnet-4-6")]
    [event] = events_of("streamy", 1)
    # message_start says output 1, the two message_deltas 250 then 500 (cumulative): 500,
    # not 1 + 250 + 500.
    assert event["output_tokens"] == ANTHROPIC_FINAL_OUTPUT
    assert event["input_tokens"] == TOTAL_INPUT
    assert event["request_id"] == f"msg_fake{n}" and event["status"] == "ok"


def test_count_tokens_is_not_a_call(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    from starlette.responses import JSONResponse

    upstream.push(lambda got: JSONResponse({"input_tokens": 42}))
    client = sdk(proxy_core, "counting")
    counted = client.messages.count_tokens(model="claude-sonnet-4-6", messages=MESSAGES)
    assert counted.input_tokens == 42
    assert upstream.last().path == "/v1/messages/count_tokens"
    client.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=MESSAGES)
    [event] = events_of("counting", 1)
    assert event["output_tokens"] == ANTHROPIC_FINAL_OUTPUT
