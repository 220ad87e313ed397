"""Model, usage and response id out of what an LLM API answered. Pure; the sender thread.

Two inputs, both produced by ``capture``:

- a JSON body (OpenAI Chat / Completions / Embeddings / Responses, Anthropic Messages): the
  top-level ``usage`` with the response's ``model`` and ``id``;
- the two SSE ``data:`` lines of a stream that mention ``"usage"``: the first and the last.
  OpenAI Chat puts the whole usage on its last chunk (``stream_options.include_usage``);
  OpenAI Responses on ``response.completed`` (or ``.incomplete`` / ``.failed``); Anthropic
  sends the input side on ``message_start`` and a CUMULATIVE ``message_delta.usage``, laid
  over it field by field. Chunks are never summed (SPEC §5).

Only the usage object, the model, the id and the service tier are kept; the text next to them
is dropped here and never reaches the queue's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_RESPONSE_DONE = ("response.completed", "response.incomplete", "response.failed")


@dataclass(frozen=True)
class Found:
    model: str | None
    usage: dict[str, Any]
    response_id: str | None = None
    service_tier: str | None = None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _from_object(obj: Any) -> Found | None:
    """A response object with a top-level ``usage`` (JSON body or Responses-API event)."""
    if not isinstance(obj, dict):
        return None
    usage = obj.get("usage")
    if not isinstance(usage, dict) or not usage:
        return None
    return Found(
        model=_text(obj.get("model")),
        usage=usage,
        response_id=_text(obj.get("id")),
        # OpenAI reports the tier at the top level, Anthropic inside the usage.
        service_tier=_text(obj.get("service_tier")) or _text(usage.get("service_tier")),
    )


def from_json_body(body: bytes) -> Found | None:
    try:
        return _from_object(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return None


def _sse_json(line: bytes | None) -> Any:
    if not line:
        return None
    data = line[5:] if line.startswith(b"data:") else line
    data = data.strip()
    if not data or data == b"[DONE]":
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


def _anthropic(start: dict[str, Any], last: Any) -> Found | None:
    message = start.get("message")
    if not isinstance(message, dict):
        return None
    usage = dict(message.get("usage") or {})
    if isinstance(last, dict) and last.get("type") == "message_delta":
        delta_usage = last.get("usage")
        if isinstance(delta_usage, dict):
            # Cumulative: the delta's non-null fields replace the start's.
            usage.update({k: v for k, v in delta_usage.items() if v is not None})
    if not usage:
        return None
    return Found(
        model=_text(message.get("model")),
        usage=usage,
        response_id=_text(message.get("id")),
        service_tier=_text(usage.get("service_tier")),
    )


def from_sse_lines(first: bytes | None, last: bytes | None) -> Found | None:
    """The first and the last ``data:`` line that mention usage, from one stream."""
    start = _sse_json(first)
    end = _sse_json(last) if last is not first else start
    if isinstance(start, dict) and start.get("type") == "message_start":
        return _anthropic(start, end)
    if not isinstance(end, dict):
        return None
    if end.get("type") in _RESPONSE_DONE:
        return _from_object(end.get("response"))
    return _from_object(end)
