"""A broken or absent Spendtray never makes the caller's LLM call raise or wait, loses nothing,
and only usage (no key, no prompt, no completion) ever leaves the process."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import anthropic
import openai
import pytest
from client_sinks import sink
from client_upstream import API_KEY, COMPLETION_SECRET, PROMPT_SECRET, Upstream
from clientkit import spool_files, spooled_events

import spendtray.client as st

MESSAGES: list[dict[str, str]] = [{"role": "user", "content": PROMPT_SECRET}]
CALLS = 6


def timed_calls(client: openai.OpenAI) -> list[float]:
    times = []
    for i in range(CALLS):
        start = time.perf_counter()
        if i % 2:
            chunks = list(
                client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=MESSAGES,  # type: ignore[arg-type]
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            answer = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,  # type: ignore[arg-type]
            )
            text = answer.choices[0].message.content or ""
        times.append(time.perf_counter() - start)
        assert text == COMPLETION_SECRET
    return times


@pytest.mark.parametrize("mode", ["refused", "500", "html", "junk", "hang", "401", "squat"])
def test_broken_app_never_hurts_the_call(
    mode: str, home: Path, upstream: Upstream, reset_client: Callable[..., None]
) -> None:
    plain = openai.OpenAI(base_url=f"{upstream.url}/v1", api_key=API_KEY, max_retries=0)
    timed_calls(plain)  # warm up the SDK's lazy imports
    baseline = statistics.median(timed_calls(plain))
    with sink(mode) as app:
        reset_client(url=app.url, token="t0k3n", read_timeout=0.5, exit_timeout=1.0)
        tracked = st.track(
            openai.OpenAI(base_url=f"{upstream.url}/v1", api_key=API_KEY, max_retries=0),
            project=f"broken-{mode}",
        )
        times = timed_calls(tracked)
        # A hanging app would cost 0.5 s per delivery if the caller waited for it.
        assert max(times) < 0.4, times
        assert statistics.median(times) < baseline + 0.05, (times, baseline)
        assert st.flush(3) is False
    events = spooled_events(home)
    assert len(events) == CALLS  # not lost: on disk for later
    assert {e["project"] for e in events} == {f"broken-{mode}"}
    assert all(e["usage"]["prompt_tokens"] == 1200 for e in events)


# The point of the test: at exit, the sender stays stuck in its POST to the hung app.
@pytest.mark.slow
@pytest.mark.leaves_threads
def test_hung_app_at_exit_leaves_events_on_disk(
    home: Path, reset_client: Callable[..., None]
) -> None:
    with sink("hang") as app:
        reset_client(url=app.url, read_timeout=5.0, exit_timeout=0.5)
        for i in range(3):
            st.record(model="gpt-4o", input_tokens=i + 1, output_tokens=1, project="exit")
        start = time.perf_counter()
        st.default_recorder().close()  # what the atexit hook does
        assert time.perf_counter() - start < 1.5
        # The sender is still stuck in its POST; what it holds is on disk, ready for anyone.
        events = spooled_events(home)
        assert sorted(e["input_tokens"] for e in events) == [1, 2, 3]
        assert [p.suffix for p in spool_files(home)] == [".ndjson"]


def test_only_usage_leaves_the_process(
    home: Path, upstream: Upstream, reset_client: Callable[..., None]
) -> None:
    with sink("record") as app:
        reset_client(url=app.url, token="t0k3n")
        oa = st.track(openai.OpenAI(base_url=f"{upstream.url}/v1", api_key=API_KEY), project="p")
        oa.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
        list(
            oa.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        oa.responses.create(model="o3", input=PROMPT_SECRET)
        an = st.track(anthropic.Anthropic(base_url=upstream.url, api_key=API_KEY), project="p")
        an.messages.create(model="claude-fake", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
        with an.messages.stream(
            model="claude-fake",
            max_tokens=5,
            messages=MESSAGES,  # type: ignore[arg-type]
        ) as stream:
            "".join(stream.text_stream)

        async def run_async() -> None:
            client = st.track(
                anthropic.AsyncAnthropic(base_url=upstream.url, api_key=API_KEY), project="p"
            )
            await client.messages.create(model="claude-fake", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
            await client.close()

        asyncio.run(run_async())
        assert st.flush(5) is True
    body = b"".join(app.bodies)
    events = [e for b in app.bodies for e in json.loads(b)["events"]]
    assert len(events) == 6
    assert "Authorization: Bearer t0k3n" in app.headers[1]
    assert app.headers[0].startswith("GET /v1/identity?nonce=")
    assert "t0k3n" not in app.headers[0]
    for secret in (PROMPT_SECRET, COMPLETION_SECRET, API_KEY):
        assert secret.encode() not in body
    allowed = {
        "model", "provider", "usage", "project", "agent", "request_id", "timestamp",
        "source", "latency_ms", "status", "service_tier", "tags",
    }  # fmt: skip
    for event in events:
        assert set(event) <= allowed, set(event) - allowed
        assert set(event.get("tags", {})) <= {"response_id"}


def test_a_squatter_gets_neither_token_nor_events(
    home: Path, reset_client: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """Something else on the port that answers like the app (even its identity route, with
    another home's proof): it is sent nothing, and the events wait on disk."""
    with sink("squat") as app:
        reset_client(url=app.url, token="t0k3n")
        for i in range(3):
            st.record(model="gpt-4o", input_tokens=i + 1, output_tokens=1, project="squat")
        assert st.flush(3) is False
    assert app.bodies == []
    assert all("t0k3n" not in head for head in app.headers)
    assert all(head.startswith("GET /v1/identity?nonce=") for head in app.headers)
    assert sorted(e["input_tokens"] for e in spooled_events(home)) == [1, 2, 3]
    assert "not the Spendtray of this data folder" in caplog.text


def test_a_huge_reply_is_not_buffered(home: Path, reset_client: Callable[..., None]) -> None:
    """Even a server that proves the app's identity cannot make the client read 3 GB."""
    with sink("huge") as app:
        reset_client(url=app.url, token="t0k3n", read_timeout=5.0)
        st.record(model="gpt-4o", input_tokens=1, output_tokens=1, project="huge")
        assert st.flush(10) is False
        assert app.sent < 64 * 1024 * 1024
    assert [e["project"] for e in spooled_events(home)] == ["huge"]
