"""The request side of the proxy: which headers go upstream, the body, and what we learn from
it (model, stream flag). Runs on the server's event loop; a large JSON body is parsed on a
worker thread.

- Provider keys (``Authorization``, ``x-api-key``, ``api-key``) are forwarded as they came and
  never stored or logged; ``X-Spendtray-*`` headers are ours and are not forwarded.
- Hop-by-hop headers (RFC 9110 §7.6.1, plus those named in ``Connection``) stay behind.
- ``Accept-Encoding`` is narrowed to gzip/deflate so the proxy can read usage out of a
  compressed body while passing the compressed bytes on unchanged.
- JSON bodies are read whole (they are needed for the model name) up to ``MAX_JSON_REQUEST``
  and parsed only up to ``PARSE_WHOLE_BYTES``: above that the model and stream flag are
  searched for (``json_fields``), so memory stays near the body's own size; any other body
  (file uploads, audio) streams through.
- Optional ``include_usage`` injection, see ``spendtray.proxy`` for the trade-off.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from spendtray.proxy.json_fields import (
    PARSE_WHOLE_BYTES,
    has_stream_options,
    stream_flag,
    text_field,
)
from spendtray.server.guard import read_body

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# "expect: 100-continue" was already answered by our own server when we read the body.
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "accept-encoding", "expect"}
DECODABLE = frozenset({"gzip", "deflate", "identity"})
INLINE_PARSE_BYTES = PARSE_WHOLE_BYTES  # larger response bodies are read on a worker thread
_INJECT_PATHS = ("/chat/completions", "/completions")


def _dropped(raw: list[tuple[bytes, bytes]], base: frozenset[str]) -> set[str]:
    """``base`` plus every header the ``Connection`` header names."""
    drop = set(base)
    for name, value in raw:
        if name.lower() == b"connection":
            drop.update(t.strip().lower() for t in value.decode("latin-1").split(",") if t.strip())
    return drop


def narrow_accept_encoding(value: str) -> str | None:
    """Keep the codings we can decode (with their q-values); None when none is left."""
    kept = [
        part.strip()
        for part in value.split(",")
        if part.split(";", 1)[0].strip().lower() in DECODABLE
    ]
    return ", ".join(kept) or None


def upstream_headers(
    raw: list[tuple[bytes, bytes]], content_length: int | None
) -> list[tuple[bytes, bytes]]:
    drop = _dropped(raw, _NOT_FORWARDED)
    out: list[tuple[bytes, bytes]] = []
    for name, value in raw:
        lower = name.lower()
        text = lower.decode("latin-1")
        if lower == b"accept-encoding":
            narrowed = narrow_accept_encoding(value.decode("latin-1"))
            if narrowed:
                out.append((b"accept-encoding", narrowed.encode("latin-1")))
            continue
        if text in drop or text.startswith("x-spendtray-"):
            continue
        out.append((name, value))
    if content_length is not None:
        out.append((b"content-length", str(content_length).encode()))
    return out


def client_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream response's headers minus hop-by-hop ones (``Content-Length`` and
    ``Content-Encoding`` stay: the body is passed on byte for byte)."""
    drop = _dropped(raw, HOP_BY_HOP)
    return [(n, v) for n, v in raw if n.lower().decode("latin-1") not in drop]


@dataclass
class Outgoing:
    """The body to send upstream and what it told us."""

    content: bytes | AsyncIterator[bytes]
    length: int | None
    model: str | None = None
    stream: bool = False
    parsed: dict[str, Any] | None = None  # the JSON body as sent (the call's worst case)


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _passthrough(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def read_outgoing(
    request: Request, api: str, rest: str, inject_usage: bool, limit: int
) -> Outgoing:
    """Read (or arrange to stream) the client's body. Raises ``ApiError`` 413 past ``limit``."""
    if not _is_json(request):
        declared = request.headers.get("content-length")
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        if declared is None and not chunked:
            return Outgoing(b"", None)
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            length = None
        return Outgoing(_passthrough(request), length)
    body = await read_body(request, limit)
    if not body:
        return Outgoing(body, None)
    if len(body) > PARSE_WHOLE_BYTES:
        return await run_in_threadpool(_large_outgoing, body, api, rest, inject_usage)
    parsed: Any
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Outgoing(body, len(body))  # not our business: the upstream will say what's wrong
    if not isinstance(parsed, dict):
        return Outgoing(body, len(body))
    model = parsed.get("model")
    stream = parsed.get("stream") is True
    if inject_usage and api == "openai" and stream and rest.endswith(_INJECT_PATHS):
        body = with_include_usage(body, parsed)
    return Outgoing(
        body, len(body), model if isinstance(model, str) and model else None, stream, parsed
    )


def _large_outgoing(body: bytes, api: str, rest: str, inject_usage: bool) -> Outgoing:
    """A JSON body above ``PARSE_WHOLE_BYTES``: its model and stream flag searched for rather
    than parsed (json_fields); the call's worst case is then estimated from its size."""
    model = text_field(body, "model")
    stream = stream_flag(body)
    inject = inject_usage and api == "openai" and stream and rest.endswith(_INJECT_PATHS)
    if inject and not has_stream_options(body) and body.lstrip()[:1] == b"{":
        start = body.index(b"{") + 1
        body = body[:start] + b'"stream_options":{"include_usage":true},' + body[start:]
    return Outgoing(body, len(body), model, stream, None)


def with_include_usage(body: bytes, parsed: dict[str, Any]) -> bytes:
    """``body`` asking for ``stream_options.include_usage`` unless the client chose a value.
    The common case (no ``stream_options``) is a byte splice, so the rest stays as sent."""
    if "stream_options" not in parsed:
        start = body.index(b"{") + 1
        return body[:start] + b'"stream_options":{"include_usage":true},' + body[start:]
    options = parsed["stream_options"]
    if options is None:
        options = {}
    if isinstance(options, dict) and "include_usage" not in options:
        changed = {**parsed, "stream_options": {**options, "include_usage": True}}
        return json.dumps(changed, ensure_ascii=False, separators=(",", ":")).encode()
    return body
