"""A stream that has sent its end marker is complete: the OpenAI SDK hangs up right after
``[DONE]``, and an upstream that leaves a short gap before ending the body must not turn that
finished call into ``client closed``. A stream that reported no usage is stored tagged
``usage: missing`` and unpriced — its cost is unknown, not $0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import anthropic
import openai
import pytest
from fake_llm_upstream import FakeUpstream, anthropic_events, chat_chunks, sse
from proxykit import ANTHROPIC_KEY, OPENAI_KEY
from starlette.responses import StreamingResponse

from spendtray.core import Core
from spendtray.ingest.service import USAGE_MISSING

Events = Callable[[str, int], list[dict[str, Any]]]
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
GAP = 1.5  # seconds between the end marker and the end of the body


def with_gap_after_the_end(upstream: FakeUpstream, frames: list[bytes]) -> None:
    async def body() -> AsyncIterator[bytes]:
        for frame in frames:
            yield frame
        await asyncio.sleep(GAP)  # the end marker is out; the body is not over yet
        yield b"\n"

    upstream.push(lambda got: StreamingResponse(body(), media_type="text/event-stream"))


def openai_sdk(core: Core, project: str) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=OPENAI_KEY, base_url=f"{core.url}/p/{project}/openai/v1", max_retries=0
    )


@pytest.mark.parametrize("include_usage", [True, False])
def test_done_then_a_gap_is_a_completed_call(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events, include_usage: bool
) -> None:
    project = f"donegap-{include_usage}".lower()
    chunks = chat_chunks(7100 + include_usage, include_usage)  # unique response ids
    with_gap_after_the_end(upstream, sse([(None, c) for c in chunks] + [(None, "[DONE]")]))
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    stream = openai_sdk(proxy_core, project).chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, **options
    )
    assert len(list(stream)) == len(chunks)
    stream.close()  # what the SDK does once [DONE] is read: the client hangs up in the gap
    [event] = events_of(project, 1)
    assert event["status"] == "ok"
    if include_usage:
        assert event["priced"] is True and event["cost_usd"] > 0 and event["tags"] is None
    else:
        assert event["tags"] == {"usage": "missing"}
        assert event["priced"] is False and event["cost_usd"] is None
        assert event["unpriced_reason"] == USAGE_MISSING


def test_anthropic_message_stop_then_a_gap_is_a_completed_call(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    with_gap_after_the_end(upstream, sse(list(anthropic_events(7200))))
    client = anthropic.Anthropic(
        api_key=ANTHROPIC_KEY, base_url=f"{proxy_core.url}/p/stopgap/anthropic", max_retries=0
    )
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=5, messages=MESSAGES
    ) as stream:
        stream.get_final_message()
    [event] = events_of("stopgap", 1)
    assert event["status"] == "ok" and event["priced"] is True


def test_a_client_leaving_before_the_end_marker_is_still_client_closed(
    proxy_core: Core, upstream: FakeUpstream, events_of: Events
) -> None:
    frames = sse([(None, c) for c in chat_chunks(7300, False)])  # no [DONE] yet
    with_gap_after_the_end(upstream, frames)
    stream = openai_sdk(proxy_core, "cutshort").chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    )
    next(iter(stream))
    stream.close()
    [event] = events_of("cutshort", 1)
    assert event["status"] == "client closed"
