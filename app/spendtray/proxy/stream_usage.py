"""Reads the usage of a server-sent-events stream as it passes through the proxy. Runs on the
server's event loop, one instance per streamed response; keeps only the last usage seen and a
partial line, never the stream itself (no prompt or completion text is kept).

SPEC §5 stream rules, never summing chunks:
- OpenAI Chat Completions: usage is on the last chunk (``choices: []``), and only when the
  request had ``stream_options.include_usage``; the last usage object seen wins.
- OpenAI Responses: ``response.completed`` / ``.incomplete`` / ``.failed`` carry
  ``response.usage``.
- Anthropic Messages: ``message_start.message.usage``, then each ``message_delta.usage`` is
  cumulative: its non-null fields are laid over what we have.
An error event inside a stream (Anthropic ``event: error``, an OpenAI ``{"error": ...}`` chunk,
``response.failed``) marks the call failed.
``complete`` turns true at the stream's own end marker (OpenAI ``[DONE]``, Anthropic
``message_stop``, a terminal ``response.*`` event): a client hanging up after it has the whole
answer (the OpenAI SDK closes right after ``[DONE]``) did not cut the call short.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Only data payloads that can carry something we keep are parsed: usage objects, errors,
# and the first payload (for the response id and model).
_INTERESTING = re.compile(rb'"usage"\s*:\s*\{|"error"|"message_start"|"response\.(created|failed)')
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")
MAX_LINE = 1 << 20  # a longer partial line is dropped (no usage payload is that long)


class StreamUsage:
    """Feed it the decoded body bytes in order; read ``usage``, ``model``, ``response_id``,
    ``service_tier`` and ``error`` when the stream has ended."""

    def __init__(self) -> None:
        self.usage: dict[str, Any] | None = None
        self.model: str | None = None
        self.response_id: str | None = None
        self.service_tier: str | None = None
        self.error: str | None = None
        self.complete = False
        self._partial = b""
        self._data: list[bytes] = []
        self._seen_payload = False

    # -- SSE framing ------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        data = self._partial + chunk if self._partial else chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_LINE:
            self._partial = b""
        for line in lines:
            self._line(line[:-1] if line.endswith(b"\r") else line)

    def finish(self) -> None:
        """The stream ended: a last event without its blank line still counts."""
        if self._partial:
            self._line(self._partial.rstrip(b"\r"))
            self._partial = b""
        self._dispatch()

    def _line(self, line: bytes) -> None:
        if not line:
            self._dispatch()
        elif line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)

    def _dispatch(self) -> None:
        if not self._data:
            return
        payload = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        self._data = []
        if payload == b"[DONE]":
            self.complete = True
            return
        if b'"message_stop"' in payload:
            self.complete = True
        first = not self._seen_payload
        self._seen_payload = True
        if not first and not _INTERESTING.search(payload):
            return
        try:
            obj = json.loads(payload)
        except ValueError:
            return
        if isinstance(obj, dict):
            self._payload(obj)

    # -- payloads ---------------------------------------------------------------------------

    def _identify(self, obj: dict[str, Any]) -> None:
        model, rid = obj.get("model"), obj.get("id")
        if isinstance(model, str) and model and self.model is None:
            self.model = model
        if isinstance(rid, str) and rid and self.response_id is None:
            self.response_id = rid

    def _payload(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if kind == "message_start" and isinstance(obj.get("message"), dict):
            message = obj["message"]
            self._identify(message)
            if isinstance(message.get("usage"), dict):
                self.usage = dict(message["usage"])
        elif kind == "message_delta":
            delta_usage = obj.get("usage")
            if isinstance(delta_usage, dict):
                merged = dict(self.usage or {})
                merged.update({k: v for k, v in delta_usage.items() if v is not None})
                self.usage = merged
        elif isinstance(kind, str) and kind.startswith("response."):
            response = obj.get("response")
            if isinstance(response, dict):
                self._identify(response)
                if kind in _TERMINAL:
                    self.complete = True
                if kind in _TERMINAL and isinstance(response.get("usage"), dict):
                    self.usage = response["usage"]
                    self._tier(response.get("service_tier"))
                if kind == "response.failed":
                    error = response.get("error")
                    code = error.get("code") if isinstance(error, dict) else None
                    self.error = str(code or "response.failed")
        elif kind == "error" or ("error" in obj and kind is None):
            error = obj.get("error")
            etype = error.get("type") or error.get("code") if isinstance(error, dict) else None
            self.error = str(etype or "error")
        else:
            self._identify(obj)
            usage = obj.get("usage")
            if isinstance(usage, dict):
                self.usage = usage
                self._tier(obj.get("service_tier"))

    def _tier(self, tier: Any) -> None:
        if isinstance(tier, str) and tier:
            self.service_tier = tier
