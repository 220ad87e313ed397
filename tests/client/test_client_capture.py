"""Reading usage along a response, whatever the chunking: the ``Call`` and the extractors."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from client_upstream import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    anthropic_stream,
    openai_chat_body,
    openai_chat_stream,
    responses_stream,
)

from spendtray.client.capture import Call, CallInfo, Captured, endpoint_flavour, host_provider


def run(
    chunks: list[bytes],
    content_type: str = "text/event-stream",
    encoding: str = "",
    flavour: str = "openai",
    close_early: int | None = None,
) -> dict[str, Any] | None:
    got: list[Captured] = []
    call = Call(CallInfo(flavour, "p", None, None), got.append, "httpx2")
    assert call.start(200, content_type, encoding)
    for i, chunk in enumerate(chunks):
        if close_early is not None and i == close_early:
            break
        call.feed(chunk)
    call.finish()
    call.finish()  # once only
    assert len(got) <= 1
    return got[0].to_event() if got else None


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_openai_stream_any_chunking(size: int) -> None:
    event = run(split(b"".join(openai_chat_stream(True)), size))
    assert event is not None
    assert event["model"] == OPENAI_MODEL
    assert event["usage"]["prompt_tokens"] == 1200 and event["usage"]["completion_tokens"] == 85


@pytest.mark.parametrize("size", [1, 13, 10_000])
def test_anthropic_stream_last_cumulative_delta(size: int) -> None:
    event = run(split(b"".join(anthropic_stream()), size), flavour="anthropic")
    assert event is not None
    assert event["model"] == ANTHROPIC_MODEL and event["provider"] == "anthropic"
    usage = event["usage"]
    assert usage["output_tokens"] == 500  # the last delta; not 1 + 200 + 500
    assert usage["input_tokens"] == 2000 and usage["cache_read_input_tokens"] == 6000


def test_anthropic_stream_cut_short_keeps_the_input_side() -> None:
    chunks = anthropic_stream()
    event = run(chunks, flavour="anthropic", close_early=3)
    assert event is not None and event["usage"]["output_tokens"] == 1
    assert event["usage"]["cache_creation_input_tokens"] == 2000


def test_responses_stream_uses_completed_event() -> None:
    event = run(split(b"".join(responses_stream()), 5))
    assert event is not None and event["model"] == "o3-2025-04-16"
    assert event["usage"]["output_tokens_details"]["reasoning_tokens"] == 250


def test_stream_crlf_and_gzip() -> None:
    raw = b"".join(openai_chat_stream(True)).replace(b"\n", b"\r\n")
    event = run(split(gzip.compress(raw), 9), encoding="gzip")
    assert event is not None and event["usage"]["total_tokens"] == 1285


def test_json_body_deflate_and_plain() -> None:
    import json

    body = json.dumps(openai_chat_body()).encode()
    for data, encoding in ((body, ""), (zlib.compress(body), "deflate")):
        event = run(split(data, 100), content_type="application/json", encoding=encoding)
        assert event is not None
        assert event["usage"]["prompt_tokens"] == 1200 and event["service_tier"] == "default"
        assert event["tags"] == {"response_id": "chatcmpl-abc123"}


def test_not_watched() -> None:
    call = Call(CallInfo("openai", None, None, None), lambda c: None, "httpx2")
    assert not call.start(500, "application/json", "")
    assert not call.start(200, "audio/mpeg", "")
    assert not call.start(200, "application/json", "compress")  # cannot undo: skip quietly
    assert run([b"data: [DONE]\n\n"]) is None  # a stream without usage records nothing
    assert endpoint_flavour("POST", "/v1/chat/completions") == "openai"
    assert endpoint_flavour("POST", "/v1/messages") == "anthropic"
    assert endpoint_flavour("GET", "/v1/chat/completions") is None
    assert endpoint_flavour("POST", "/v1/models") is None
    assert endpoint_flavour("POST", "/v1/messages/count_tokens") is None
    assert host_provider("myres.openai.azure.com") == "azure"
    assert host_provider("openrouter.ai") == "openrouter"
    assert host_provider("127.0.0.1") is None


def test_calls_through_the_spendtray_proxy_are_left_to_it() -> None:
    from spendtray.client.capture import Attribution, open_call

    def opened(host: str, path: str, headers: dict[str, str]) -> Call | None:
        return open_call(
            Attribution(), lambda: (None, None), "POST", host, path, headers, print, "httpx2"
        )

    headers = {"x-spendtray-project": "acme", "authorization": "Bearer sk"}
    assert opened("127.0.0.1", "/p/acme/openai/v1/chat/completions", headers) is None
    assert headers["x-spendtray-project"] == "acme"  # the proxy needs it
    headers = {"x-spendtray-project": "acme"}
    call = opened("api.openai.com", "/v1/chat/completions", headers)
    assert call is not None and call.info.project == "acme" and call.info.provider == "openai"
    assert headers == {}  # never sent to the provider
