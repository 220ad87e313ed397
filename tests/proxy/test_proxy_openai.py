"""The proxy with the real `openai` SDK against the fake upstream: what the SDK gets is what the
upstream sent, and the call lands as a usage event of the right project with the right tokens."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from fake_llm_upstream import (
    CHAT_USAGE,
    OPENAI_MODEL,
    FakeUpstream,
    chat_chunks,
    chat_completion,
)
from proxykit import OPENAI_KEY
from starlette.responses import Response

from spendtray.core import Core

Events = Callable[[str, int], list[dict[str, Any]]]
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]


def sdk(core: Core, project: str, upstream: str = "openai") -> openai.OpenAI:
    return openai.OpenAI(
        api_key=OPENAI_KEY, base_url=f"{core.url}/p/{project}/{upstream}/v1", max_retries=0
    )


def test_chat_completion_passes_through_and_is_recorded(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    completion = sdk(proxy_core, "acme").chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    n = int(completion.id.removeprefix("chatcmpl-fake"))
    assert completion.to_dict() == chat_completion(n, "gpt-4o-mini")
    got = upstream.last()
    assert got.path == "/v1/chat/completions" and got.method == "POST"
    assert got.header("authorization") == f"Bearer {OPENAI_KEY}"
    assert got.json() == {"model": "gpt-4o-mini", "messages": MESSAGES}

    [event] = events_of("acme", 1)
    assert event["source"] == "proxy" and event["project"] == "acme"
    assert event["provider"] == "openai" and event["model"] == "gpt-4o-mini"
    assert event["request_id"] == completion.id
    assert event["status"] == "ok"
    assert event["input_tokens"] == CHAT_USAGE["prompt_tokens"]
    assert event["output_tokens"] == CHAT_USAGE["completion_tokens"]
    assert event["cache_read_tokens"] == 1024
    assert event["priced"] and event["cost_usd"] > 0
    assert event["latency_ms"] is not None and event["latency_ms"] >= 0


def test_stream_with_include_usage_chunk_by_chunk(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    stream = sdk(proxy_core, "streamer").chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk.to_dict() for chunk in stream]
    n = int(chunks[0]["id"].removeprefix("chatcmpl-fake"))
    assert chunks == chat_chunks(n, True, "gpt-4o-mini")
    [event] = events_of("streamer", 1)
    assert event["input_tokens"] == 1200 and event["output_tokens"] == 85
    assert event["request_id"] == f"chatcmpl-fake{n}" and event["status"] == "ok"
    # The client asked for usage itself: its body went upstream untouched.
    assert upstream.last().json()["stream_options"] == {"include_usage": True}


def test_stream_bytes_are_exactly_the_upstreams(proxy_core: Core, upstream: FakeUpstream) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES, "stream": True}
    proxied = httpx.post(f"{proxy_core.url}/p/bytes/openai/v1/chat/completions", json=body)
    direct = httpx.post(f"{upstream.url}/v1/chat/completions", json=body)
    n_proxied = int(proxied.text.split('"chatcmpl-fake', 1)[1].split('"', 1)[0])
    n_direct = int(direct.text.split('"chatcmpl-fake', 1)[1].split('"', 1)[0])
    assert proxied.status_code == direct.status_code == 200
    assert proxied.content == direct.content.replace(
        f"chatcmpl-fake{n_direct}".encode(), f"chatcmpl-fake{n_proxied}".encode()
    )
    assert proxied.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert proxied.headers["x-request-id"] == f"req_fake{n_proxied}"


def test_stream_without_usage_is_recorded_as_missing(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    stream = sdk(proxy_core, "nousage").chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    )
    chunks = [c.to_dict() for c in stream]
    assert all(c["choices"] for c in chunks)  # injection is off by default: no extra chunk
    assert "stream_options" not in upstream.last().json()
    [event] = events_of("nousage", 1)
    assert event["status"] == "ok" and event["tags"] == {"usage": "missing"}
    assert event["input_tokens"] == 0 and event["output_tokens"] == 0


def test_responses_stream_usage_from_completed_event(proxy_core: Core, events_of: Events) -> None:
    stream = sdk(proxy_core, "resp").responses.create(model="gpt-4o-mini", input="hi", stream=True)
    kinds = [event.type for event in stream]
    assert kinds == ["response.created", "response.output_text.delta", "response.completed"]
    [event] = events_of("resp", 1)
    assert (event["input_tokens"], event["output_tokens"]) == (1000, 300)
    assert (event["cache_read_tokens"], event["reasoning_tokens"]) == (200, 100)
    assert event["request_id"].startswith("resp_fake")


def test_embeddings(proxy_core: Core, events_of: Events) -> None:
    result = sdk(proxy_core, "embed").embeddings.create(
        model="text-embedding-3-small", input=["one", "two", "three"], encoding_format="float"
    )
    assert [d.embedding for d in result.data] == [[0.25, -0.5, 0.125]] * 3
    [event] = events_of("embed", 1)
    assert event["model"] == "text-embedding-3-small"
    assert (event["input_tokens"], event["output_tokens"]) == (24, 0)
    assert event["priced"] and event["cost_usd"] > 0


def test_named_upstream_with_v1_in_its_url(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    completion = sdk(proxy_core, "routed", upstream="router").chat.completions.create(
        model="openai/gpt-4o", messages=MESSAGES
    )
    assert completion.model == "openai/gpt-4o"
    assert upstream.last().path == "/api/v1/chat/completions"
    [event] = events_of("routed", 1)
    assert event["provider"] == "openrouter" and event["priced"]


def test_model_list_passes_through_and_is_not_a_call(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    client = sdk(proxy_core, "listing")
    assert [m.id for m in client.models.list()] == [OPENAI_MODEL]
    assert upstream.last().method == "GET" and upstream.last().path == "/v1/models"
    client.embeddings.create(model="text-embedding-3-small", input="sentinel")
    [event] = events_of("listing", 1)  # only the embedding: listing models costs nothing
    assert event["model"] == "text-embedding-3-small"


def test_arbitrary_path_query_and_binary_body_pass_through(
    proxy_core: Core, upstream: FakeUpstream
) -> None:
    payload = bytes(range(256)) * 300
    r = httpx.post(
        f"{proxy_core.url}/p/files/openai/v1/echo/a%2Fb/c?x=%2F1&y=two",
        content=payload,
        headers={"content-type": "application/octet-stream", "authorization": "Bearer k"},
    )
    assert r.status_code == 200
    assert r.json() == {
        "method": "POST",
        "path": "/v1/echo/a%2Fb/c",
        "query": "x=%2F1&y=two",
        "length": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    assert r.headers["x-fake-custom"] == "kept"
    blob = httpx.get(f"{proxy_core.url}/p/files/openai/v1/blob")
    assert blob.content == bytes(range(256)) * 64
    assert blob.headers["content-length"] == str(256 * 64)


def test_gzip_body_passes_compressed_and_usage_is_read(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    raw = gzip.compress(json.dumps(chat_completion(9001, "gpt-4o")).encode())
    upstream.push(
        lambda got: Response(
            raw, media_type="application/json", headers={"content-encoding": "gzip"}
        )
    )
    with httpx.stream(
        "POST",
        f"{proxy_core.url}/p/zipped/openai/v1/chat/completions",
        json={"model": "gpt-4o", "messages": MESSAGES},
        headers={"accept-encoding": "gzip, br, zstd"},
    ) as r:
        assert r.headers["content-encoding"] == "gzip"
        assert b"".join(r.iter_raw()) == raw
    # br/zstd cannot be read by the proxy, so only gzip was offered upstream
    assert upstream.last().header("accept-encoding") == "gzip"
    [event] = events_of("zipped", 1)
    assert event["request_id"] == "chatcmpl-fake9001" and event["input_tokens"] == 1200


def test_header_route_and_spendtray_headers_stay_behind(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    client = openai.OpenAI(
        api_key=OPENAI_KEY,
        base_url=f"{proxy_core.url}/proxy/openai/v1",
        default_headers={"X-Spendtray-Project": "by-header", "X-Spendtray-Agent": "planner"},
        max_retries=0,
    )
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    names = {name for name, _ in upstream.last().headers}
    assert not any(name.startswith("x-spendtray") for name in names)
    assert "authorization" in names
    [event] = events_of("by-header", 1)
    assert event["agent"] == "planner"


def test_header_route_defaults_to_the_default_project(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    r = httpx.post(
        f"{proxy_core.url}/proxy/openai/v1/embeddings",
        json={"model": "text-embedding-3-small", "input": "x"},
    )
    assert r.status_code == 200
    [event] = events_of("default", 1)
    assert event["input_tokens"] == 8


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"host": "evil.example:8719"}, 403), ({"origin": "https://evil.example"}, 403)],
)
def test_guard_still_applies(
    proxy_core: Core, upstream: FakeUpstream, headers: dict[str, str], status: int
) -> None:
    before = len(upstream.received)
    r = httpx.get(f"{proxy_core.url}/p/x/openai/v1/models", headers=headers)
    assert r.status_code == status
    assert len(upstream.received) == before


def test_unknown_upstream_and_bad_project(proxy_core: Core) -> None:
    r = httpx.get(f"{proxy_core.url}/p/x/nowhere/v1/models")
    assert r.status_code == 404
    assert "no upstream named 'nowhere'" in r.json()["error"]["message"]
    assert "anthropic, openai, router" in r.json()["error"]["message"]
    r = httpx.get(f"{proxy_core.url}/p/*/openai/v1/models")
    assert r.status_code == 400 and "'*'" in r.json()["error"]["message"]
