"""Watching one LLM API call through a wrapped transport, without slowing it down.

Runs on whatever thread reads the response: the caller's thread for a sync SDK client, the
event loop for an async one. The work done there is kept to a minimum and never raises:

- a JSON answer: the chunks the SDK reads are kept by reference (no copy, no parsing);
- an SSE stream: each chunk is scanned for ``"usage"`` in C (``bytes.find``) and only the first
  and the last ``data:`` line that mention it are kept; the rest of the stream is not stored.

When the body ends (or the SDK closes the response early) one ``Captured`` item goes on the
sender's queue; the JSON parsing and the event building happen on the sender thread
(``Captured.to_event``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from spendtray.client.decoding import Decoder, make_decoder
from spendtray.client.events import iso_time, make_event
from spendtray.client.extract import Found, from_json_body, from_sse_lines
from spendtray.datadir import LOOPBACK_HOSTS

log = logging.getLogger("spendtray.client")

# POST endpoints whose answers carry usage (OpenAI-compatible and Anthropic).
OPENAI_PATHS = ("/chat/completions", "/completions", "/responses", "/embeddings")
ANTHROPIC_PATHS = ("/messages",)
PROJECT_HEADER = "x-spendtray-project"
AGENT_HEADER = "x-spendtray-agent"
MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_SSE_LINE = 4 * 1024 * 1024
_USAGE = b'"usage"'

# Hosts whose provider the model name alone may not tell (gateways, clouds, re-hosts).
HOST_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("api.openai.com", "openai"),
    ("api.anthropic.com", "anthropic"),
    (".openai.azure.com", "azure"),
    (".cognitiveservices.azure.com", "azure"),
    (".services.ai.azure.com", "azure"),
    ("openrouter.ai", "openrouter"),
    ("api.deepseek.com", "deepseek"),
    ("api.mistral.ai", "mistral"),
    ("generativelanguage.googleapis.com", "google"),
    ("api.x.ai", "xai"),
    ("api.groq.com", "groq"),
    ("api.together.xyz", "together"),
    ("api.fireworks.ai", "fireworks"),
)


def host_provider(host: str) -> str | None:
    host = host.lower()
    for suffix, provider in HOST_PROVIDERS:
        if host == suffix or (suffix.startswith(".") and host.endswith(suffix)):
            return provider
    return None


def endpoint_flavour(method: str, path: str) -> str | None:
    """``openai`` / ``anthropic`` for a POST to an endpoint that reports usage, else None."""
    if method.upper() != "POST":
        return None
    path = path.rstrip("/")
    if path.endswith(ANTHROPIC_PATHS):
        return "anthropic"
    if path.endswith(OPENAI_PATHS):
        return "openai"
    return None


def via_spendtray_proxy(host: str, path: str) -> bool:
    """A request to Spendtray's own forwarding proxy (``/proxy/...``, ``/p/...`` on loopback)."""
    return host.strip("[]") in LOOPBACK_HOSTS and path.startswith(("/proxy/", "/p/"))


@dataclass
class CallInfo:
    """What is known when the request leaves: attribution, where it went, when."""

    flavour: str
    project: str | None
    agent: str | None
    provider: str | None
    called_at: float = field(default_factory=time.time)  # formatted on the sender thread
    started: float = field(default_factory=time.monotonic)


@dataclass
class Captured:
    """One finished call as the sender receives it; turned into an event off the hot path."""

    info: CallInfo
    status: int
    latency_ms: float
    json_chunks: list[bytes] | None = None
    json_decoder: Decoder | None = None
    first_line: bytes | None = None
    last_line: bytes | None = None

    def found(self) -> Found | None:
        if self.json_chunks is not None:
            body = b"".join(self.json_chunks)
            decoder = self.json_decoder
            if decoder is not None:
                body = decoder.decode(body) + decoder.flush()
            return from_json_body(body)
        return from_sse_lines(self.first_line, self.last_line)

    def to_event(self) -> dict[str, Any] | None:
        found = self.found()
        if found is None or not found.model:
            log.debug("spendtray: no usage in the %s answer; nothing recorded", self.info.flavour)
            return None
        info = self.info
        provider = info.provider
        if provider is None and info.flavour == "anthropic":
            provider = "anthropic"  # Anthropic-shaped usage: input excludes the cache tokens
        extra: dict[str, Any] = {  # make_event adds the request_id, off the caller's thread
            "timestamp": iso_time(info.called_at),
            "latency_ms": round(self.latency_ms, 3),
            "status": self.status,
            "service_tier": found.service_tier,
        }
        if found.response_id:
            extra["tags"] = {"response_id": found.response_id[:128]}
        return make_event(
            found.model,
            found.usage,
            project=info.project,
            provider=provider,
            agent=info.agent,
            extra=extra,
        )


Submit = Callable[[Captured], None]


class Call:
    """The bytes of one response as the SDK reads them. Every method swallows its errors."""

    def __init__(self, info: CallInfo, submit: Submit, library: str) -> None:
        self.info = info
        self._submit = submit
        self._library = library
        self._status = 0
        self._active = False
        self._finished = False
        self._sse = False
        self._decoder: Decoder | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._partial = b""
        self._first: bytes | None = None
        self._last: bytes | None = None

    def start(self, status: int, content_type: str, content_encoding: str) -> bool:
        """Look at the response head; True when its body is worth reading along."""
        try:
            if not 200 <= status < 300:
                return False
            media = content_type.split(";", 1)[0].strip().lower()
            if media == "text/event-stream":
                self._sse = True
            elif not (media == "application/json" or media.endswith("+json")):
                return False
            self._decoder = make_decoder(content_encoding, self._library)  # raises if we cannot
            self._status = status
            self._active = True
            return True
        except Exception as exc:  # e.g. an encoding we cannot undo
            log.debug("spendtray: not recording this call: %s", exc)
            return False

    def feed(self, chunk: bytes) -> None:
        if not self._active or not chunk:
            return
        try:
            if self._sse:
                self._scan(self._decoder.decode(chunk) if self._decoder else chunk)
            else:
                self._size += len(chunk)
                if self._size > MAX_JSON_BYTES:
                    log.debug("spendtray: answer larger than %d bytes; not recorded", self._size)
                    self._active = False
                    self._chunks = []
                    return
                self._chunks.append(chunk)
        except Exception as exc:
            log.debug("spendtray: stopped reading along: %s", exc)
            self._active = False

    def _scan(self, data: bytes) -> None:
        buffer = self._partial + data if self._partial else data
        end = buffer.rfind(b"\n")
        if end < 0:
            self._partial = buffer if len(buffer) <= MAX_SSE_LINE else b""
            return
        self._partial = buffer[end + 1 :]
        # Only whole lines up to ``end``; the searches run in C, whatever the chunk size.
        if self._first is None:
            self._first = _first_usage_line(buffer, end)
        last = _last_usage_line(buffer, end)
        if last is not None:
            self._last = last

    def finish(self) -> None:
        """End of body or close: hand the call to the sender, once."""
        if self._finished:
            return
        self._finished = True
        if not self._active:
            return
        self._active = False
        try:
            if self._sse:
                if self._decoder is not None:
                    self._scan(self._decoder.flush())
                if self._partial:
                    self._scan(b"\n")
                if self._first is None:
                    _warn_no_usage(self.info.flavour)
                    return
            latency = (time.monotonic() - self.info.started) * 1000.0
            self._submit(
                Captured(
                    info=self.info,
                    status=self._status,
                    latency_ms=latency,
                    json_chunks=None if self._sse else self._chunks,
                    json_decoder=None if self._sse else self._decoder,
                    first_line=self._first,
                    last_line=self._last,
                )
            )
        except Exception as exc:
            log.debug("spendtray: could not queue the call: %s", exc)
        finally:
            self._chunks = []


_no_usage_warned = threading.Event()  # once per process: a loop of streams is one mistake


def _warn_no_usage(flavour: str) -> None:
    """A stream that ended without usage is not recorded; say so once, with the fix."""
    if _no_usage_warned.is_set():
        log.debug("spendtray: a %s stream carried no usage; not recorded", flavour)
        return
    _no_usage_warned.set()
    log.warning(
        "spendtray: a streamed %s call reported no token usage, so it was not recorded; "
        'OpenAI streams report it only with stream_options={"include_usage": True} '
        "(said once per process)",
        flavour,
    )


def _line_at(buffer: bytes, hit: int) -> tuple[int, int]:
    return buffer.rfind(b"\n", 0, hit) + 1, buffer.find(b"\n", hit)


def _first_usage_line(buffer: bytes, end: int) -> bytes | None:
    pos = 0
    while (hit := buffer.find(_USAGE, pos, end)) >= 0:
        start, stop = _line_at(buffer, hit)
        if buffer.startswith(b"data:", start):
            return buffer[start:stop].rstrip(b"\r")
        pos = stop + 1
    return None


def _last_usage_line(buffer: bytes, end: int) -> bytes | None:
    stop_at = end
    while (hit := buffer.rfind(_USAGE, 0, stop_at)) >= 0:
        start, stop = _line_at(buffer, hit)
        if buffer.startswith(b"data:", start):
            return buffer[start:stop].rstrip(b"\r")
        stop_at = start
    return None


@dataclass
class Attribution:
    """Who a wrapped client's calls are billed to; ``track()`` may update it later."""

    project: str | None = None
    agent: str | None = None
    provider: str | None = None


def open_call(
    attribution: Attribution,
    defaults: Callable[[], tuple[str | None, str | None]],
    method: str,
    host: str,
    path: str,
    headers: MutableMapping[str, str],
    submit: Submit,
    library: str,
) -> Call | None:
    """A ``Call`` for a request to a usage-reporting endpoint, else None. Never raises.

    ``X-Spendtray-Project`` / ``X-Spendtray-Agent`` request headers (e.g. the SDKs'
    ``extra_headers=``) override the attribution for one call and are removed before the
    request leaves, so the provider never sees them. Calls through Spendtray's own proxy are
    left alone: the proxy records them (from the same headers), and counting them here too
    would count them twice.
    """
    try:
        if via_spendtray_proxy(host, path):
            return None  # the proxy records the call itself (and reads these headers)
        project = headers.pop(PROJECT_HEADER, None)
        agent = headers.pop(AGENT_HEADER, None)
        flavour = endpoint_flavour(method, path)
        if flavour is None:
            return None
        default_project, default_agent = defaults()
        info = CallInfo(
            flavour=flavour,
            project=project or attribution.project or default_project,
            agent=agent or attribution.agent or default_agent,
            provider=attribution.provider or host_provider(host),
        )
        return Call(info, submit, library)
    except Exception as exc:
        log.debug("spendtray: not recording this call: %s", exc)
        return None
