"""Upstream errors pass through unchanged and are recorded as failed calls; an unreachable
upstream, a client that hangs up mid-stream and an error inside a stream are recorded too; and
no provider key ever reaches the database or the log."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from fake_llm_upstream import ANTHROPIC_START_USAGE, FakeUpstream, anthropic_events, sse
from proxykit import ANTHROPIC_KEY, OPENAI_KEY, start_core, wait_events, write_config
from starlette.responses import Response, StreamingResponse

from spendtray.core import Core

Events = Callable[[str, int], list[dict[str, Any]]]
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
OPENAI_429 = {
    "error": {
        "message": "Rate limit reached for gpt-4o in organization org-x on tokens per min.",
        "type": "tokens",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
ANTHROPIC_529 = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def reply(status: int, body: Any, headers: dict[str, str]) -> Callable[[Any], Response]:
    raw = json.dumps(body).encode()
    return lambda got: Response(raw, status, headers=headers, media_type="application/json")


def test_openai_429_passes_through_unchanged(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    headers = {"retry-after": "7", "x-ratelimit-remaining-tokens": "0"}
    upstream.push(reply(429, OPENAI_429, {**headers, "x-request-id": "req_err_1"}))
    upstream.push(reply(429, OPENAI_429, {**headers, "x-request-id": "req_err_2"}))
    client = openai.OpenAI(
        api_key=OPENAI_KEY, base_url=f"{proxy_core.url}/p/limited/openai/v1", max_retries=0
    )
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.body == OPENAI_429["error"]
    assert caught.value.request_id == "req_err_1"

    raw = httpx.post(
        f"{proxy_core.url}/p/limited/openai/v1/chat/completions",
        json={"model": "gpt-4o", "messages": MESSAGES},
    )
    assert raw.status_code == 429
    assert raw.content == json.dumps(OPENAI_429).encode()
    assert raw.headers["retry-after"] == "7"
    assert raw.headers["x-ratelimit-remaining-tokens"] == "0"
    assert "x-should-retry" not in raw.headers  # the SDK's own retry policy still applies

    first, second = events_of("limited", 2)
    for event, rid in ((first, "req_err_1"), (second, "req_err_2")):
        assert event["status"] == "error 429" and event["model"] == "gpt-4o"
        assert event["request_id"] == rid  # the upstream's request-id header
        assert event["input_tokens"] == 0 and event["source"] == "proxy"


def test_anthropic_529_and_openai_400(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    upstream.push(reply(529, ANTHROPIC_529, {"request-id": "req_overloaded"}))
    client = anthropic.Anthropic(
        api_key=ANTHROPIC_KEY, base_url=f"{proxy_core.url}/p/busy/anthropic", max_retries=0
    )
    with pytest.raises(anthropic.OverloadedError) as caught:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=MESSAGES)
    assert caught.value.status_code == 529 and caught.value.body == ANTHROPIC_529
    bad = {
        "error": {
            "message": "bad model",
            "type": "invalid_request_error",
            "param": "model",
            "code": None,
        }
    }
    upstream.push(reply(400, bad, {"x-request-id": "req_bad"}))
    with pytest.raises(openai.BadRequestError) as bad_caught:
        openai.OpenAI(
            api_key=OPENAI_KEY, base_url=f"{proxy_core.url}/p/busy/openai/v1", max_retries=0
        ).chat.completions.create(model="gpt-nope", messages=MESSAGES)
    assert bad_caught.value.body == bad["error"]
    overloaded, invalid = events_of("busy", 2)
    assert (overloaded["status"], overloaded["model"]) == ("error 529", "claude-sonnet-4-6")
    assert overloaded["request_id"] == "req_overloaded" and overloaded["provider"] == "anthropic"
    assert (invalid["status"], invalid["model"]) == ("error 400", "gpt-nope")
    assert not invalid["priced"]  # an unknown model is flagged, never priced $0 silently


def test_error_event_inside_a_stream(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    start = anthropic_events(777)[0]
    frames = sse([start, ("error", ANTHROPIC_529)])
    upstream.push(lambda got: Response(b"".join(frames), media_type="text/event-stream"))
    client = anthropic.Anthropic(
        api_key=ANTHROPIC_KEY, base_url=f"{proxy_core.url}/p/midstream/anthropic", max_retries=0
    )
    with pytest.raises(anthropic.APIStatusError):
        for _ in client.messages.create(
            model="claude-sonnet-4-6", max_tokens=5, messages=MESSAGES, stream=True
        ):
            pass
    [event] = events_of("midstream", 1)
    assert event["status"] == "stream error: overloaded_error"
    assert event["input_tokens"] == 10_000  # message_start's usage was seen before the error
    assert event["output_tokens"] == ANTHROPIC_START_USAGE["output_tokens"]


def test_client_hanging_up_mid_stream_closes_the_upstream(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    cancelled = threading.Event()
    first = sse([anthropic_events(4242)[0]])[0]

    async def endless() -> AsyncIterator[bytes]:
        try:
            yield first
            for _ in range(200):
                await asyncio.sleep(0.02)
                yield b": keep-alive\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            cancelled.set()
            raise

    upstream.push(lambda got: StreamingResponse(endless(), media_type="text/event-stream"))
    with httpx.stream(
        "POST",
        f"{proxy_core.url}/p/hangup/anthropic/v1/messages",
        json={"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": MESSAGES, "stream": True},
    ) as r:
        assert next(r.iter_raw()) == first
    assert cancelled.wait(3), "the upstream kept streaming after the client left"
    [event] = events_of("hangup", 1)
    assert event["status"] == "client closed"
    assert event["request_id"] == "msg_fake4242" and event["input_tokens"] == 10_000


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_upstream_from_env(
    tmp_path: Path,
    upstream: FakeUpstream,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPENDTRAY_UPSTREAM_OPENAI", f"http://127.0.0.1:{closed_port}/v1")
    write_config(tmp_path / "home", upstream.url)
    core = start_core(tmp_path / "home")
    try:
        client = openai.OpenAI(
            api_key=OPENAI_KEY, base_url=f"{core.url}/p/offline/openai/v1", max_retries=0
        )
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert caught.value.status_code == 502
        assert "could not reach upstream 'openai' (127.0.0.1)" in str(caught.value)
        [event] = wait_events(core, "offline", 1)
        assert event["status"] == "upstream unreachable" and event["model"] == "gpt-4o"
    finally:
        core.stop()


@pytest.fixture
def all_logs(tmp_path: Path) -> Iterator[Path]:
    """Everything the server side logs at DEBUG: Spendtray, its HTTP client, uvicorn."""
    path = tmp_path / "everything.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    loggers = [logging.getLogger(n) for n in ("spendtray", "httpx", "httpcore", "uvicorn")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    try:
        yield path
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()


def test_keys_never_reach_the_database_or_the_log(
    tmp_path: Path, upstream: FakeUpstream, all_logs: Path
) -> None:
    home = tmp_path / "home"
    write_config(home, upstream.url)
    core = start_core(home)
    try:
        oa = openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{core.url}/p/k/openai/v1", max_retries=0)
        an = anthropic.Anthropic(
            api_key=ANTHROPIC_KEY, base_url=f"{core.url}/p/k/anthropic", max_retries=0
        )
        oa.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        list(oa.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
        an.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=MESSAGES)
        upstream.push(reply(401, {"error": {"message": "bad key"}}, {}))
        with pytest.raises(openai.AuthenticationError):
            oa.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        wait_events(core, "k", 4)
        assert upstream.received[-1].header("authorization") == f"Bearer {OPENAI_KEY}"
    finally:
        core.stop()
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert b"chatcmpl-fake" in stored  # the events really are in these files
    logged = all_logs.read_bytes()
    assert b"carried no usage" in logged  # the proxy's warning for the stream without usage
    assert b"HTTP Request: POST" in logged  # its HTTP client logs each upstream call
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, "SECRET"):
        assert secret.encode() not in stored
        assert secret.encode() not in logged
    # and no prompt or completion text either
    assert b"Hello from the fake" not in stored and b'"content"' not in stored


def test_upstream_breaking_off_mid_stream_is_not_a_clean_end(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    first = sse([anthropic_events(5150)[0]])[0]

    async def broken() -> AsyncIterator[bytes]:
        yield first
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream crashed mid-stream")

    upstream.push(lambda got: StreamingResponse(broken(), media_type="text/event-stream"))
    received = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),  # the proxy ends without the final chunk
        httpx.stream(
            "POST",
            f"{proxy_core.url}/p/broken/anthropic/v1/messages",
            json={"model": "claude-sonnet-4-6", "max_tokens": 5, "stream": True, "messages": []},
        ) as r,
    ):
        for chunk in r.iter_raw():
            received += chunk
    assert received == first
    [event] = events_of("broken", 1)
    assert event["status"] == "upstream broke off" and event["input_tokens"] == 10_000
