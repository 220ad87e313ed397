"""A fake OpenAI + Anthropic API on a real loopback port, for the proxy tests and bench.

It answers like the real APIs do (same JSON and SSE shapes, ids, request-id headers) with
deterministic content, remembers every request it got, and can be told what to answer next
(``push``). Runs uvicorn on a background thread ("spendtray-http" runner), or as a process:
``python fake_llm_upstream.py`` prints its URL and serves until killed (the bench uses that).
Model ids, usage blocks and SSE framing are tests/sharedkit.py's, the same the client tests'
fake upstream sends.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT / "app", ROOT / "tests"):  # also when run as a script (the bench)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from sharedkit import (  # noqa: E402
    ANTHROPIC_FINAL_OUTPUT,
    ANTHROPIC_MODEL,
    ANTHROPIC_START_USAGE,
    CHAT_USAGE,
    OPENAI_MODEL,
    sse,
)
from spendtray.server.runner import ServerRunner  # noqa: E402

WORDS = ["Hello", " from", " the", " fake", " upstream", "."]


@dataclass
class Received:
    method: str
    path: str  # raw, percent-encoded as sent
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


Reply = Callable[[Received], Response]


def chat_completion(n: int, model: str = OPENAI_MODEL) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake{n}",
        "object": "chat.completion",
        "created": 1_763_800_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(WORDS), "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": CHAT_USAGE,
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def chat_chunks(n: int, include_usage: bool, model: str = OPENAI_MODEL) -> list[dict[str, Any]]:
    base = {
        "id": f"chatcmpl-fake{n}",
        "object": "chat.completion.chunk",
        "created": 1_763_800_000,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }
    extra: dict[str, Any] = {"usage": None} if include_usage else {}
    chunks = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": word}
                    if i == 0
                    else {"content": word},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
            **extra,
        }
        for i, word in enumerate(WORDS)
    ]
    chunks.append(
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
            **extra,
        }
    )
    if include_usage:
        chunks.append({**base, "choices": [], "usage": CHAT_USAGE})
    return chunks


def embedding(n: int, inputs: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": [0.25, -0.5, 0.125]}
            for i in range(inputs)
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8 * inputs, "total_tokens": 8 * inputs},
    }


def anthropic_message(n: int, model: str = ANTHROPIC_MODEL) -> dict[str, Any]:
    return {
        "id": f"msg_fake{n}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "".join(WORDS)}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {**ANTHROPIC_START_USAGE, "output_tokens": ANTHROPIC_FINAL_OUTPUT},
    }


def anthropic_events(n: int, model: str = ANTHROPIC_MODEL) -> list[tuple[str, dict[str, Any]]]:
    message = {
        "id": f"msg_fake{n}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": ANTHROPIC_START_USAGE,
    }
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    events += [
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": word},
            },
        )
        for word in WORDS
    ]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": ANTHROPIC_FINAL_OUTPUT // 2},
            },
        ),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": ANTHROPIC_FINAL_OUTPUT},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def responses_events(n: int, model: str = OPENAI_MODEL) -> list[tuple[str, dict[str, Any]]]:
    response = {
        "id": f"resp_fake{n}",
        "object": "response",
        "model": model,
        "status": "in_progress",
    }
    usage = {
        "input_tokens": 1000,
        "input_tokens_details": {"cached_tokens": 200},
        "output_tokens": 300,
        "output_tokens_details": {"reasoning_tokens": 100},
        "total_tokens": 1300,
    }
    done = {**response, "status": "completed", "usage": usage, "output": []}
    return [
        ("response.created", {"type": "response.created", "response": {**response, "usage": None}}),
        (
            "response.output_text.delta",
            {"type": "response.output_text.delta", "item_id": "msg_1", "delta": "Hi"},
        ),
        ("response.completed", {"type": "response.completed", "response": done}),
    ]


class FakeUpstream:
    """``push(reply)`` queues an answer for the next request; otherwise it answers like the
    API. ``gap`` seconds pass between stream frames (0: none)."""

    def __init__(self, gap: float = 0.0) -> None:
        self.received: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.gap = gap
        self.stream_cancelled = threading.Event()
        self._ids = itertools.count(1)
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=methods)])
        self.runner = ServerRunner(app, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        return self.runner.url

    def start(self) -> FakeUpstream:
        self.runner.start_in_thread()
        if not self.runner.wait_started():
            raise RuntimeError("fake upstream did not start")
        return self

    def stop(self) -> None:
        self.runner.stop()

    def push(self, reply: Reply) -> None:
        self.replies.append(reply)

    def last(self) -> Received:
        return self.received[-1]

    async def _stream(self, frames: list[bytes]) -> AsyncIterator[bytes]:
        try:
            for frame in frames:
                yield frame
                await asyncio.sleep(self.gap)
        except (asyncio.CancelledError, GeneratorExit):
            self.stream_cancelled.set()
            raise

    def _sse(self, frames: list[bytes], request_id: str, header: str) -> Response:
        return StreamingResponse(
            self._stream(frames),
            media_type="text/event-stream; charset=utf-8",
            headers={header: request_id, "cache-control": "no-cache"},
        )

    async def _handle(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        got = Received(
            request.method,
            raw_path.decode("latin-1"),
            request.scope.get("query_string", b"").decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            await request.body(),
        )
        self.received.append(got)
        if self.replies:
            return self.replies.popleft()(got)
        n = next(self._ids)
        path = request.url.path
        rid = f"req_fake{n}"
        if path.endswith("/chat/completions"):
            body = got.json()
            if body.get("stream"):
                options = body.get("stream_options") or {}
                chunks = chat_chunks(n, bool(options.get("include_usage")), body["model"])
                return self._sse(
                    sse([(None, c) for c in chunks] + [(None, "[DONE]")]), rid, "x-request-id"
                )
            return JSONResponse(chat_completion(n, body["model"]), headers={"x-request-id": rid})
        if path.endswith("/embeddings"):
            body = got.json()
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            return JSONResponse(embedding(n, len(inputs)), headers={"x-request-id": rid})
        if path.endswith("/responses"):
            return self._sse(sse(list(responses_events(n))), rid, "x-request-id")
        if path.endswith("/messages"):
            body = got.json()
            if body.get("stream"):
                return self._sse(sse(list(anthropic_events(n, body["model"]))), rid, "request-id")
            return JSONResponse(anthropic_message(n, body["model"]), headers={"request-id": rid})
        if path.endswith("/models"):
            data = [{"id": OPENAI_MODEL, "object": "model", "created": 1, "owned_by": "fake"}]
            return JSONResponse({"object": "list", "data": data}, headers={"x-request-id": rid})
        if path.startswith("/v1/echo"):
            echo = {
                "method": got.method,
                "path": got.path,
                "query": got.query,
                "length": len(got.body),
                "sha256": hashlib.sha256(got.body).hexdigest(),
            }
            return Response(
                json.dumps(echo).encode(),
                media_type="application/json",
                headers={"x-fake-custom": "kept", "x-request-id": rid},
            )
        if path.startswith("/v1/blob"):
            return Response(bytes(range(256)) * 64, media_type="application/octet-stream")
        return JSONResponse({"error": {"message": f"fake: no route {path}"}}, status_code=404)


if __name__ == "__main__":
    gap = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    fake = FakeUpstream(gap)
    print(fake.url, flush=True)
    fake.runner.run()
