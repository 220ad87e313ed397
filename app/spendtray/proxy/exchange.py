"""One proxied call, as far as Spendtray keeps it, and the usage event it becomes. Pure; runs
on the server's event loop (small bodies) or a worker thread (large ones).

What is kept: project, agent, upstream/provider, model, usage, ids, status, latency. Never the
request or response text, never a header value other than the upstream's request id.

Which calls become events:
- a response carrying usage (JSON body or stream) -> an event with those tokens;
- a failed call (upstream error status, error inside a stream, unreachable upstream, client
  gone mid-stream) whose model is known -> an event with ``status`` saying what failed;
- a successful stream without usage (OpenAI Chat without ``include_usage``) -> an event with
  no tokens, tagged ``{"usage": "missing"}`` so the gap is visible;
- anything else (model lists, file uploads, token counting) -> nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spendtray.proxy.json_fields import PARSE_WHOLE_BYTES, text_field, usage_object
from spendtray.proxy.stream_usage import StreamUsage
from spendtray.proxy.upstreams import Upstream

OK = "ok"
CLIENT_CLOSED = "client closed"
UNREACHABLE = "upstream unreachable"


@dataclass
class Exchange:
    upstream: Upstream
    project: str
    agent: str | None
    request_model: str | None
    started: float = field(default_factory=time.perf_counter)
    http_status: int | None = None
    header_request_id: str | None = None
    body: bytes | None = None  # decoded JSON response body (non-streamed responses only)
    stream: StreamUsage | None = None
    failure: str | None = None  # CLIENT_CLOSED, UNREACHABLE
    latency_ms: float | None = None
    # Releases the call's budget reservation: once its cost is stored, or known to be none.
    release: Callable[[], object] | None = None

    def settle(self) -> None:
        """Release the reservation (once; any thread)."""
        release, self.release = self.release, None
        if release is not None:
            release()

    def finish(self) -> None:
        self.latency_ms = round((time.perf_counter() - self.started) * 1000, 1)

    def status(self, stream_error: str | None) -> str:
        if self.failure is not None:
            return self.failure
        if self.http_status is not None and not 200 <= self.http_status < 300:
            return f"error {self.http_status}"
        if stream_error:
            return f"stream error: {stream_error}"
        return OK

    def to_event(self) -> dict[str, Any] | None:
        """The raw event for ``IngestService.prepare`` (source "proxy"), or None."""
        usage: dict[str, Any] | None = None
        model = response_id = tier = stream_error = None
        if self.stream is not None:
            s = self.stream
            usage, model, response_id, tier, stream_error = (
                s.usage,
                s.model,
                s.response_id,
                s.service_tier,
                s.error,
            )
        elif self.body:
            usage, model, response_id, tier = _from_json(self.body)
        model = model or self.request_model
        if not model:
            return None
        status = self.status(stream_error)
        tags: dict[str, Any] | None = None
        if usage is None:
            if status == OK and self.stream is None:
                return None  # a free call (token counting, model info)
            if status == OK:
                tags = {"usage": "missing"}
        if isinstance(usage, dict) and tier is None:
            inner = usage.get("service_tier")  # Anthropic keeps it in usage
            tier = inner if isinstance(inner, str) else None
        event: dict[str, Any] = {
            "model": model,
            "provider": self.upstream.provider,
            "project": self.project,
            "request_id": response_id or self.header_request_id,
            "status": status,
            "latency_ms": self.latency_ms,
            "tags": tags,
        }
        if self.agent:
            event["agent"] = self.agent
        if usage is not None:
            event["usage"] = usage
        if tier:
            event["service_tier"] = tier
        return event


def _from_json(body: bytes) -> tuple[dict[str, Any] | None, str | None, str | None, str | None]:
    """usage, model, id, service tier of a whole JSON response (OpenAI or Anthropic); a large
    one (embeddings) is searched rather than parsed (json_fields)."""
    if len(body) > PARSE_WHOLE_BYTES:
        return (
            usage_object(body),
            text_field(body, "model"),
            text_field(body, "id"),
            text_field(body, "service_tier"),
        )
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None, None, None
    if not isinstance(obj, dict):
        return None, None, None, None
    usage = obj.get("usage")
    model, rid, tier = obj.get("model"), obj.get("id"), obj.get("service_tier")
    return (
        usage if isinstance(usage, dict) else None,
        model if isinstance(model, str) and model else None,
        rid if isinstance(rid, str) and rid else None,
        tier if isinstance(tier, str) and tier else None,
    )
