"""Hard budgets hold under concurrency (SPEC §13): N parallel calls through the real proxy
against a hard budget that fits k of them. The fake upstream holds every answer back until
the calls are all in flight, so without reservations every call would see the same headroom
and all N would be forwarded. Also: streams that break mid-way and calls without an output cap
give their reservation back, ``/v1/budgets`` shows what is held, and ``/check`` counts it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fake_llm_upstream import FakeUpstream, Received
from proxykit import OPENAI_KEY, api
from starlette.responses import JSONResponse, Response, StreamingResponse

from sharedkit import sse
from spendtray.core import Core
from spendtray.proxy.worst_case import worst_case

MODEL = "gpt-4o-mini"
N = 24
K = 5
# The upstream holds every answer until the test opens this gate: once all the calls the proxy
# should refuse have been refused, so every call is in flight at once however slow the machine.
GATE = threading.Event()
MAX_HOLD = 20.0  # seconds; the gate opens on its own after that (a test that failed)


async def held() -> None:
    waited = 0.0
    while not GATE.is_set() and waited < MAX_HOLD:
        await asyncio.sleep(0.01)
        waited += 0.01


def request_body(tag: str, cap: int | None, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": f"Summarise the tale of {tag} in one line, please."},
        ],
    }
    if cap is not None:
        body["max_tokens"] = cap
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def completion(usage: dict[str, int]) -> bytes:
    return json.dumps(
        {
            "id": f"chatcmpl-{time.perf_counter_ns()}",
            "object": "chat.completion",
            "created": 1_763_800_000,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Done."},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
    ).encode()


def held_reply(usage: dict[str, int]) -> Callable[[Received], Response]:
    """A completion carrying ``usage``, sent once the gate opens."""

    def reply(got: Received) -> Response:
        async def body() -> AsyncIterator[bytes]:
            await held()
            yield completion(usage)

        return StreamingResponse(body(), media_type="application/json")

    return reply


def breaking_stream(got: Received) -> Response:
    """Two content chunks once the gate opens, then the connection drops."""

    async def frames() -> AsyncIterator[bytes]:
        await held()
        for word in ("Once", " upon"):
            chunk = {
                "id": "chatcmpl-broken",
                "object": "chat.completion.chunk",
                "created": 1_763_800_000,
                "model": MODEL,
                "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
            }
            yield sse([(None, chunk)])[0]
        raise RuntimeError("upstream fell over mid-stream")

    return StreamingResponse(frames(), media_type="text/event-stream")


def put_hard_budget(core: Core, project: str, limit_nanos: int) -> None:
    with api(core) as client:
        r = client.put(
            f"/v1/budgets/{project}",
            json={"period": "day", "limit_usd": limit_nanos / 1e9, "mode": "hard"},
        )
        assert r.status_code == 200, r.text


def budget_row(core: Core, project: str) -> dict[str, Any]:
    with api(core) as client:
        [row] = client.get("/v1/budgets", params={"project": project}).json()["budgets"]
    return dict(row)


async def fire(
    core: Core, project: str, bodies: list[dict[str, Any]], refusals: int | None
) -> list[httpx.Response]:
    """Sends all ``bodies`` at once; opens the gate once ``refusals`` calls were answered 429
    (or after a few seconds, when fewer are: the test then fails on the count); with None the
    caller opens it."""
    url = f"{core.url}/p/{project}/openai/v1/chat/completions"
    headers = {"Authorization": f"Bearer {OPENAI_KEY}"}
    refused = 0
    GATE.clear()
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(body: dict[str, Any]) -> httpx.Response:
            nonlocal refused
            async with client.stream("POST", url, json=body, headers=headers) as r:
                if r.status_code == 429:
                    refused += 1
                with contextlib.suppress(httpx.HTTPError):  # a stream the upstream broke off
                    await r.aread()
            return r

        async def gatekeeper() -> None:
            if refusals is None:
                return
            waited = 0.0
            while refused < refusals and waited < 5.0:
                await asyncio.sleep(0.01)
                waited += 0.01
            GATE.set()

        keeper = asyncio.ensure_future(gatekeeper())
        answers = list(await asyncio.gather(*(one(b) for b in bodies)))
        await keeper
        return answers


def forwarded(upstream: FakeUpstream, tag: str) -> int:
    return sum(1 for got in upstream.received if tag.encode() in got.body)


def wait_settled(core: Core, project: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        row = budget_row(core, project)
        if row["reserved_usd"] == 0 or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def assert_refusals(responses: list[httpx.Response], project: str) -> None:
    for r in responses:
        assert r.status_code == 429
        message = r.json()["error"]["message"]
        assert f"hard day budget of project '{project}'" in message
        assert "has no room for this call" in message
        assert r.json()["error"]["code"] == "spendtray_budget_exceeded"


def test_parallel_calls_never_pass_a_hard_budget(proxy_core: Core, upstream: FakeUpstream) -> None:
    project, tag, cap = "parallel", "tag-parallel", 400
    bodies = [request_body(tag, cap) for _ in range(N)]
    worst = worst_case(proxy_core.prices, MODEL, "openai", bodies[0], 0)
    assert worst.output_tokens == cap and worst.input_tokens > 20
    limit = K * worst.nanos + worst.nanos // 2  # room for K calls and a half
    put_hard_budget(proxy_core, project, limit)
    # Each answer costs exactly its worst case: the same input, every output token used.
    usage = {"prompt_tokens": worst.input_tokens, "completion_tokens": cap}
    for _ in range(N):
        upstream.push(held_reply(usage))

    async def run() -> tuple[list[httpx.Response], dict[str, Any], dict[str, Any]]:
        calls = asyncio.ensure_future(fire(proxy_core, project, bodies, None))
        waited = 0.0
        while forwarded(upstream, tag) < K and waited < 10:
            await asyncio.sleep(0.01)
            waited += 0.01
        await asyncio.sleep(0.3)  # any call the proxy wrongly forwards beyond K arrives too
        # Mid-flight: the budget shows what the K calls hold, and /check counts it.
        row = await asyncio.to_thread(budget_row, proxy_core, project)
        with api(proxy_core) as client:
            check = client.get(
                f"/v1/budgets/{project}/check", params={"estimate_usd": worst.nanos / 1e9}
            ).json()
        GATE.set()
        return await calls, row, check

    responses, mid_row, mid_check = asyncio.run(run())
    upstream.replies.clear()
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == forwarded(upstream, tag) == K
    assert_refusals([r for r in responses if r.status_code != 200], project)
    assert mid_row["reserved_usd"] == pytest.approx(K * worst.nanos / 1e9)
    assert mid_row["spent_usd"] == 0
    assert mid_check["allow"] is False and mid_check["reserved_usd"] > 0

    row = wait_settled(proxy_core, project)
    assert row["reserved_usd"] == 0
    assert row["spent_usd"] == pytest.approx(K * worst.nanos / 1e9)
    assert row["spent_usd"] <= limit / 1e9


@pytest.mark.slow
def test_broken_streams_give_their_reservation_back(
    proxy_core: Core, upstream: FakeUpstream
) -> None:
    project, tag, cap = "breaking", "tag-breaking", 300
    bodies = [request_body(tag, cap, stream=True) for _ in range(N)]
    worst = worst_case(proxy_core.prices, MODEL, "openai", bodies[0], 0)
    put_hard_budget(proxy_core, project, K * worst.nanos + worst.nanos // 2)
    for _ in range(N):
        upstream.push(breaking_stream)
    responses = asyncio.run(fire(proxy_core, project, bodies, N - K))
    assert sum(r.status_code == 200 for r in responses) == forwarded(upstream, tag) == K
    assert_refusals([r for r in responses if r.status_code != 200], project)

    # The broken streams carried no usage: nothing spent, and the money they held is free
    # again, so the next wave gets the same K calls through.
    row = wait_settled(proxy_core, project)
    assert (row["reserved_usd"], row["spent_usd"]) == (0, 0)
    for _ in range(N):
        upstream.push(breaking_stream)
    again = asyncio.run(fire(proxy_core, project, bodies, N - K))
    upstream.replies.clear()
    assert sum(r.status_code == 200 for r in again) == K
    assert forwarded(upstream, tag) == 2 * K
    assert wait_settled(proxy_core, project)["reserved_usd"] == 0


def test_calls_without_an_output_cap_reserve_the_context_window(
    proxy_core: Core, upstream: FakeUpstream
) -> None:
    project, tag = "uncapped", "tag-uncapped"
    bodies = [request_body(tag, None) for _ in range(N)]
    worst = worst_case(proxy_core.prices, MODEL, "openai", bodies[0], 0)
    window = proxy_core.prices.resolve(MODEL, "openai").context_window
    assert window and worst.output_tokens == window - worst.input_tokens
    put_hard_budget(proxy_core, project, 3 * worst.nanos + worst.nanos // 2)
    usage = {"prompt_tokens": worst.input_tokens, "completion_tokens": 50}
    for _ in range(N):
        upstream.push(held_reply(usage))
    responses = asyncio.run(fire(proxy_core, project, bodies, N - 3))
    upstream.replies.clear()
    assert sum(r.status_code == 200 for r in responses) == forwarded(upstream, tag) == 3
    assert_refusals([r for r in responses if r.status_code != 200], project)
    row = wait_settled(proxy_core, project)
    assert row["reserved_usd"] == 0
    assert 0 < row["spent_usd"] < 3 * worst.nanos / 1e9  # real costs replaced the worst cases


def test_a_client_that_leaves_mid_stream_gives_its_reservation_back(
    proxy_core: Core, upstream: FakeUpstream
) -> None:
    project, tag = "leaving", "tag-leaving"
    body = request_body(tag, 200, stream=True)
    worst = worst_case(proxy_core.prices, MODEL, "openai", body, 0)
    put_hard_budget(proxy_core, project, 10 * worst.nanos)
    upstream.gap = 0.2  # the default stream, slowly
    try:
        url = f"{proxy_core.url}/p/{project}/openai/v1/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=10) as r:
            assert r.status_code == 200
            chunks = r.iter_raw()  # kept: a dropped iterator closes the response
            next(chunks)
            assert budget_row(proxy_core, project)["reserved_usd"] > 0
        row = wait_settled(proxy_core, project)
    finally:
        upstream.gap = 0.0
    assert row["reserved_usd"] == 0


def test_free_calls_pass_a_tight_budget(proxy_core: Core, upstream: FakeUpstream) -> None:
    """Token counting costs nothing, so a budget with room left lets it through even though a
    generation of the same body would not fit."""
    project = "free-counting"
    body = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}
    put_hard_budget(proxy_core, project, 1_000)  # $0.000001: no generation fits
    base = f"{proxy_core.url}/p/{project}/anthropic/v1/messages"
    refused = httpx.post(base, json={**body, "max_tokens": 100})
    assert refused.status_code == 429
    before = len(upstream.received)
    counted = httpx.post(f"{base}/count_tokens", json=body)
    assert counted.status_code != 429, counted.text
    assert len(upstream.received) == before + 1


def test_an_upstream_error_gives_the_reservation_back(
    proxy_core: Core, upstream: FakeUpstream
) -> None:
    project = "erring"
    body = request_body("tag-erring", 300)
    worst = worst_case(proxy_core.prices, MODEL, "openai", body, 0)
    put_hard_budget(proxy_core, project, worst.nanos + worst.nanos // 2)  # room for one
    upstream.push(
        lambda got: JSONResponse(
            {"error": {"message": "overloaded", "type": "server_error"}}, status_code=500
        )
    )
    url = f"{proxy_core.url}/p/{project}/openai/v1/chat/completions"
    assert httpx.post(url, json=body).status_code == 500
    assert wait_settled(proxy_core, project)["reserved_usd"] == 0
    assert httpx.post(url, json=body).status_code == 200  # the room is there again
    assert wait_settled(proxy_core, project)["reserved_usd"] == 0
