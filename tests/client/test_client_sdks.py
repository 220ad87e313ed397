"""The real OpenAI and Anthropic SDKs, tracked, against a fake upstream and the real app.

Each test checks both sides: the SDK got exactly the bytes the upstream sent, and the app
stored one event with the right model, tokens (SPEC §5 conventions) and attribution.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from client_upstream import (
    ANTHROPIC_MODEL,
    COMPLETION_SECRET,
    OPENAI_MODEL,
    Upstream,
    anthropic_body,
    openai_chat_body,
)
from clientkit import stored

import spendtray.client as st
from spendtray.core import Core

MESSAGES: Any = [{"role": "user", "content": "hello"}]


def openai_client(up: Upstream, lib: str, project: str) -> openai.OpenAI:
    http = httpx.Client() if lib == "httpx" else httpx2.Client()
    return st.track(
        openai.OpenAI(base_url=f"{up.url}/v1", api_key="sk-test", http_client=http),
        project=project,
    )


def check_openai_event(event: dict[str, Any], project: str) -> None:
    assert event["model"] == OPENAI_MODEL
    assert event["provider"] == "openai"
    assert event["project"] == project
    assert event["source"] == "python-client"
    assert (event["input_tokens"], event["output_tokens"]) == (1200, 85)
    assert (event["cache_read_tokens"], event["reasoning_tokens"]) == (1024, 20)
    assert event["status"] == "200"
    assert event["latency_ms"] > 0
    assert event["priced"] and event["cost_usd"] > 0
    assert event["request_id"].startswith("stc-")


@pytest.mark.parametrize("lib", ["httpx2", "httpx"])
def test_openai_sync_plain_and_stream(tracked_app: Core, upstream: Upstream, lib: str) -> None:
    client = openai_client(upstream, lib, f"acme-{lib}")
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.http_response.content == upstream.last().body  # untouched bytes
    completion = raw.parse()
    assert completion.choices[0].message.content == COMPLETION_SECRET
    assert completion.usage is not None and completion.usage.prompt_tokens == 1200

    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == COMPLETION_SECRET
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 85

    assert st.flush(5)
    events = stored(tracked_app, project=f"acme-{lib}")
    assert len(events) == 2
    for event in events:
        check_openai_event(event, f"acme-{lib}")
    assert {e["service_tier"] for e in events} == {"default", None}  # plain body carries it


def test_openai_stream_bytes_unchanged(tracked_app: Core, upstream: Upstream) -> None:
    client = openai_client(upstream, "httpx2", "raw-stream")
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as response:
        received = b"".join(response.iter_bytes())
    assert received == upstream.last().body
    assert st.flush(5)
    assert len(stored(tracked_app, project="raw-stream")) == 1


def test_openai_stream_without_usage_records_nothing_and_warns_once(
    tracked_app: Core,
    upstream: Upstream,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spendtray.client import capture

    monkeypatch.setattr(capture, "_no_usage_warned", threading.Event())  # a fresh process
    client = openai_client(upstream, "httpx2", "no-usage")
    with caplog.at_level(logging.WARNING, logger="spendtray.client"):
        for _ in range(3):
            chunks = list(
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
            )
            assert "".join(c.choices[0].delta.content or "" for c in chunks) == COMPLETION_SECRET
    warnings = [
        r.getMessage() for r in caplog.records if "reported no token usage" in r.getMessage()
    ]
    assert len(warnings) == 1, warnings
    assert 'stream_options={"include_usage": True}' in warnings[0]
    assert st.flush(5)
    assert stored(tracked_app, project="no-usage") == []
    with caplog.at_level(logging.WARNING, logger="spendtray.client"):
        caplog.clear()
        list(
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert "reported no token usage" not in caplog.text


@pytest.mark.parametrize("lib", ["httpx2", "httpx"])
def test_openai_async_plain_and_stream(tracked_app: Core, upstream: Upstream, lib: str) -> None:
    async def run() -> tuple[str, str]:
        http = httpx.AsyncClient() if lib == "httpx" else httpx2.AsyncClient()
        client = st.track(
            openai.AsyncOpenAI(base_url=f"{upstream.url}/v1", api_key="sk-test", http_client=http),
            project=f"async-{lib}",
        )
        plain = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        text = ""
        async for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
        await client.close()
        return plain.choices[0].message.content or "", text

    plain, streamed = asyncio.run(run())
    assert plain == streamed == COMPLETION_SECRET
    assert st.flush(5)
    events = stored(tracked_app, project=f"async-{lib}")
    assert len(events) == 2
    for event in events:
        check_openai_event(event, f"async-{lib}")


def test_openai_responses_api(tracked_app: Core, upstream: Upstream) -> None:
    client = openai_client(upstream, "httpx2", "responses")
    response = client.responses.create(model="o3", input="hello")
    assert response.output_text == COMPLETION_SECRET
    stream = client.responses.create(model="o3", input="hello", stream=True)
    kinds = [event.type for event in stream]
    assert kinds[-1] == "response.completed"
    assert st.flush(5)
    events = stored(tracked_app, project="responses")
    assert len(events) == 2
    for event in events:
        assert event["model"] == "o3-2025-04-16"
        assert (event["input_tokens"], event["output_tokens"]) == (900, 300)
        assert (event["cache_read_tokens"], event["reasoning_tokens"]) == (100, 250)


def check_anthropic_event(event: dict[str, Any], project: str) -> None:
    assert event["model"] == ANTHROPIC_MODEL
    assert event["provider"] == "anthropic"
    assert event["project"] == project
    # input = 2000 uncached + 2000 written + 6000 read; output is the LAST cumulative delta
    # (500), not the start's 1 and not 200 + 500.
    assert (event["input_tokens"], event["output_tokens"]) == (10000, 500)
    assert (event["cache_read_tokens"], event["cache_write_tokens"]) == (6000, 2000)
    assert (event["cache_write_5m_tokens"], event["cache_write_1h_tokens"]) == (1000, 1000)
    assert event["service_tier"] == "standard"  # read from the usage, where Anthropic puts it
    assert event["priced"] and event["cost_usd"] > 0


def test_anthropic_sync_plain_and_stream(tracked_app: Core, upstream: Upstream) -> None:
    client = st.track(
        anthropic.Anthropic(base_url=upstream.url, api_key="sk-ant-test"),
        project="claude",
        agent="planner",
    )
    raw = client.messages.with_raw_response.create(
        model="claude-fake-latest", max_tokens=100, messages=MESSAGES
    )
    assert raw.http_response.content == upstream.last().body
    assert raw.parse().content[0].text == COMPLETION_SECRET  # type: ignore[union-attr]

    with client.messages.stream(
        model="claude-fake-latest", max_tokens=100, messages=MESSAGES
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == COMPLETION_SECRET
    assert final.usage.output_tokens == 500

    assert st.flush(5)
    events = stored(tracked_app, project="claude")
    assert len(events) == 2
    for event in events:
        check_anthropic_event(event, "claude")
        assert event["agent"] == "planner"
    assert anthropic_body()["usage"]["output_tokens"] == 500


def test_anthropic_async_stream(tracked_app: Core, upstream: Upstream) -> None:
    async def run() -> str:
        client = st.track(
            anthropic.AsyncAnthropic(base_url=upstream.url, api_key="sk-ant-test"),
            project="claude-async",
        )
        stream = await client.messages.create(
            model="claude-fake-latest", max_tokens=100, messages=MESSAGES, stream=True
        )
        text = ""
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
        await client.close()
        return text

    assert asyncio.run(run()) == COMPLETION_SECRET
    assert st.flush(5)
    events = stored(tracked_app, project="claude-async")
    assert len(events) == 1
    check_anthropic_event(events[0], "claude-async")


def test_gzip_answer_is_read(tracked_app: Core, upstream: Upstream) -> None:
    upstream.gzip_json = True
    client = openai_client(upstream, "httpx2", "gzip")
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.http_response.content == upstream.last().body == b"" + _json(openai_chat_body())
    assert st.flush(5)
    events = stored(tracked_app, project="gzip")
    assert len(events) == 1
    check_openai_event(events[0], "gzip")


def _json(body: dict[str, Any]) -> bytes:
    import json

    return json.dumps(body).encode()


def test_stream_is_not_read_ahead(tracked_app: Core, upstream: Upstream) -> None:
    """The SDK gets the first chunk while the upstream still holds back the rest."""
    upstream.gate = threading.Event()
    client = openai_client(upstream, "httpx2", "gated")
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    iterator = iter(stream)
    first = next(iterator)
    waited = time.monotonic() - started
    assert not upstream.gate.is_set()
    assert waited < 5  # the upstream would hold the rest for 10 s
    assert first.choices[0].delta.content == COMPLETION_SECRET[:10]
    upstream.gate.set()
    rest = list(iterator)
    assert rest[-1].usage is not None
    assert st.flush(5)
    assert len(stored(tracked_app, project="gated")) == 1


def test_per_call_attribution_headers(tracked_app: Core, upstream: Upstream) -> None:
    client = openai_client(upstream, "httpx2", "default-project")
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        extra_headers={"X-Spendtray-Project": "side-quest", "X-Spendtray-Agent": "critic"},
    )
    sent_headers = {k.lower() for k in upstream.requests[-1][1]}
    assert "x-spendtray-project" not in sent_headers and "x-spendtray-agent" not in sent_headers
    assert st.flush(5)
    events = stored(tracked_app, project="side-quest")
    assert len(events) == 1 and events[0]["agent"] == "critic"
    assert stored(tracked_app, project="default-project") == []


def test_track_twice_and_copies(tracked_app: Core, upstream: Upstream) -> None:
    client = openai_client(upstream, "httpx2", "first")
    assert st.track(client, project="second") is client  # re-tracking only re-attributes
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.with_options(timeout=30).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert st.flush(5)
    assert stored(tracked_app, project="first") == []
    assert len(stored(tracked_app, project="second")) == 2


def test_env_project_default(
    tracked_app: Core, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPENDTRAY_PROJECT", "from-env")
    client = st.track(openai.OpenAI(base_url=f"{upstream.url}/v1", api_key="sk-test"))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    st.record(model="gpt-4o", input_tokens=10, output_tokens=2)
    assert st.flush(5)
    assert len(stored(tracked_app, project="from-env")) == 2


def test_record_takes_the_sdks_usage_object(tracked_app: Core, upstream: Upstream) -> None:
    plain = openai.OpenAI(base_url=f"{upstream.url}/v1", api_key="sk-test")  # not tracked
    answer = plain.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    request_id = st.record(model=answer.model, usage=answer.usage, project="manual", agent="a1")
    assert st.flush(5)
    events = stored(tracked_app, project="manual")
    assert [e["request_id"] for e in events] == [request_id]
    check_openai_event({**events[0], "status": "200", "latency_ms": 1}, "manual")
    assert events[0]["agent"] == "a1"


def test_track_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="OpenAI or Anthropic SDK client"):
        st.track(object())
