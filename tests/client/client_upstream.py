"""A fake OpenAI + Anthropic API on 127.0.0.1 (a real HTTP server on its own thread).

It answers the endpoints the client watches with fixed, realistic bodies (the wire shapes of
docs research §1), plainly or as SSE, optionally gzip'd, and remembers exactly which bytes it
sent so tests can check the SDK got them unchanged. ``gate`` lets a test hold a stream after
its first chunk to prove the wrapper does not read ahead of the SDK. Model ids, usage blocks and
SSE framing are tests/sharedkit.py's, the same the proxy tests' fake upstream sends.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sharedkit import (
    ANTHROPIC_FINAL_OUTPUT,
    ANTHROPIC_MODEL,
    ANTHROPIC_START_USAGE,
    CHAT_USAGE,
    OPENAI_MODEL,
    sse,
)

PROMPT_SECRET = "PROMPT-TEXT-never-leaves-7f3a"
COMPLETION_SECRET = "COMPLETION-TEXT-never-leaves-91bc"
API_KEY = "sk-test-KEY-never-leaves-55d1"

RESPONSES_USAGE = {
    "input_tokens": 900,
    "input_tokens_details": {"cached_tokens": 100},
    "output_tokens": 300,
    "output_tokens_details": {"reasoning_tokens": 250},
    "total_tokens": 1200,
}


def openai_chat_body() -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1760000000,
        "model": OPENAI_MODEL,
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": COMPLETION_SECRET, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": CHAT_USAGE,
    }


def openai_chat_stream(include_usage: bool) -> list[bytes]:
    base = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1760000000,
        "model": OPENAI_MODEL,
    }
    usage_null = {"usage": None} if include_usage else {}
    events: list[tuple[str | None, Any]] = []
    pieces = [COMPLETION_SECRET[:10], COMPLETION_SECRET[10:20], COMPLETION_SECRET[20:]]
    for i, piece in enumerate(pieces):
        delta = {"content": piece} if i else {"role": "assistant", "content": piece}
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        events.append((None, {**base, "choices": [choice], **usage_null}))
    choice = {"index": 0, "delta": {}, "finish_reason": "stop"}
    events.append((None, {**base, "choices": [choice], **usage_null}))
    if include_usage:
        events.append((None, {**base, "choices": [], "usage": CHAT_USAGE}))
    events.append((None, "[DONE]"))
    return sse(events)


def responses_body() -> dict[str, Any]:
    return {
        "id": "resp_123",
        "object": "response",
        "created_at": 1760000000,
        "status": "completed",
        "model": "o3-2025-04-16",
        "service_tier": "default",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": COMPLETION_SECRET, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": RESPONSES_USAGE,
    }


def responses_stream() -> list[bytes]:
    created = {**responses_body(), "status": "in_progress", "output": [], "usage": None}
    return sse(
        [
            ("response.created", {"type": "response.created", "response": created}),
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": COMPLETION_SECRET,
                },
            ),
            ("response.completed", {"type": "response.completed", "response": responses_body()}),
        ]
    )


def anthropic_body() -> dict[str, Any]:
    return {
        "id": "msg_01XYZ",
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [{"type": "text", "text": COMPLETION_SECRET}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {**ANTHROPIC_START_USAGE, "output_tokens": ANTHROPIC_FINAL_OUTPUT},
    }


def anthropic_stream() -> list[bytes]:
    message = {
        "id": "msg_01XYZ",
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": ANTHROPIC_START_USAGE,
    }
    pieces = [COMPLETION_SECRET[:12], COMPLETION_SECRET[12:]]
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    for piece in pieces:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        # An intermediate cumulative delta, then the final one: only the last may count.
        (
            "message_delta",
            {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 200}},
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
    return sse(events)


@dataclass
class Sent:
    path: str
    status: int
    body: bytes  # decoded bytes as the SDK should see them
    headers: dict[str, str]


@dataclass
class Upstream:
    url: str
    server: ThreadingHTTPServer
    gzip_json: bool = False
    gate: threading.Event | None = None
    first_chunk_sent: threading.Event = field(default_factory=threading.Event)
    sent: list[Sent] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def last(self) -> Sent:
        return self.sent[-1]


def _handler(up: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            up.requests.append((self.path, dict(self.headers.items()), raw))
            request = json.loads(raw or b"{}")
            path = self.path.split("?", 1)[0]
            stream = bool(request.get("stream"))
            if path.endswith("/chat/completions"):
                if stream:
                    include = bool((request.get("stream_options") or {}).get("include_usage"))
                    return self._stream(openai_chat_stream(include))
                return self._json(openai_chat_body())
            if path.endswith("/responses"):
                return self._stream(responses_stream()) if stream else self._json(responses_body())
            if path.endswith("/messages"):
                return self._stream(anthropic_stream()) if stream else self._json(anthropic_body())
            self._json({"error": {"message": "unknown path"}}, status=404)

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            wire = data
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if up.gzip_json and "gzip" in self.headers.get("Accept-Encoding", ""):
                wire = gzip.compress(data)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(wire)))
            self.end_headers()
            up.sent.append(Sent(self.path, status, data, {}))  # before the client can see it
            self.wfile.write(wire)

        def _stream(self, chunks: list[bytes]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            up.sent.append(Sent(self.path, 200, b"".join(chunks), {}))
            for i, chunk in enumerate(chunks):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                if i == 0:
                    up.first_chunk_sent.set()
                    if up.gate is not None:
                        up.gate.wait(10)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


@contextmanager
def start_upstream() -> Iterator[Upstream]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    up = Upstream(url=f"http://127.0.0.1:{server.server_address[1]}", server=server)
    server.RequestHandlerClass = _handler(up)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield up
    finally:
        server.shutdown()
        server.server_close()
