"""The response side of the proxy: an ASGI response that passes the upstream's answer to the
client chunk by chunk, unchanged, while a tap reads the usage. Runs on the server's event loop.

- Status, headers (minus hop-by-hop) and the raw body bytes go on as they came: a gzip body
  stays gzip, an SSE stream is never buffered (each upstream chunk is sent as it arrives).
- The tap decodes a copy (gzip/deflate) only to read usage: SSE streams through
  ``StreamUsage`` (a partial line at most is kept); JSON bodies are copied up to
  ``MAX_JSON_COPY`` for parsing once the response has ended.
- For streams a watcher notices the client going away and closes the upstream at once (the
  upstream then stops generating), and the call is recorded as ``client closed`` — unless the
  stream had already sent its end marker (``[DONE]``, ``message_stop``…): then the client has
  the whole answer and only the upstream's last bytes were still on their way.
- After the last byte (or a break) the call is recorded via ``on_done``, shielded from
  cancellation; recording never raises into the response.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Awaitable, Callable

import anyio
import httpx
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from spendtray.proxy.exchange import CLIENT_CLOSED, Exchange
from spendtray.proxy.forward import client_headers
from spendtray.proxy.stream_usage import StreamUsage

MAX_JSON_COPY = 64 * 1024 * 1024
UPSTREAM_BROKE = "upstream broke off"


class BodyTap:
    """A decoded side copy of the body, just enough to read usage from."""

    def __init__(self, content_type: str, content_encoding: str, exchange: Exchange) -> None:
        media = content_type.split(";", 1)[0].strip().lower()
        self.stream: StreamUsage | None = None
        # The decoded chunks, joined once at the end: a growing bytearray reallocates (twice
        # the body at its peak) and bytes() of it is one more copy.
        self.copy: list[bytes] | None = None
        self.copied = 0
        self.exchange = exchange
        if media == "text/event-stream":
            self.stream = StreamUsage()
            exchange.stream = self.stream
        elif media == "application/json" or media.endswith("+json"):
            self.copy = []
        encoding = content_encoding.strip().lower()
        self._decoder: zlib._Decompress | None = None
        self._raw_deflate_tried = False
        if encoding == "gzip":
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._decoder = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            self.stream = self.copy = None  # cannot read it; pass it on untouched
            exchange.stream = None
        self.active = self.stream is not None or self.copy is not None

    def _decode(self, chunk: bytes) -> bytes:
        if self._decoder is None:
            return chunk
        try:
            return self._decoder.decompress(chunk)
        except zlib.error:
            if self._raw_deflate_tried:
                raise
            # "deflate" is meant to be zlib-wrapped; some servers send raw deflate.
            self._raw_deflate_tried = True
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._decoder.decompress(chunk)

    def feed(self, chunk: bytes) -> None:
        try:
            data = self._decode(chunk)
        except zlib.error:
            self.active = False
            return
        if self.stream is not None:
            self.stream.feed(data)
        elif self.copy is not None:
            self.copied += len(data)
            if self.copied > MAX_JSON_COPY:
                self.copy = None
                self.active = False
            elif data:
                self.copy.append(data)

    def finish(self) -> None:
        if self.stream is not None:
            if self.active and self._decoder is not None:
                with contextlib.suppress(zlib.error):
                    self.stream.feed(self._decoder.flush())
            self.stream.finish()
        elif self.copy is not None and self.active:
            if self._decoder is not None:
                try:
                    self.copy.append(self._decoder.flush())
                except zlib.error:
                    return
            chunks, self.copy = self.copy, None
            self.exchange.body = b"".join(chunks)


class Relay(Response):
    """The upstream's response, relayed; ``on_done(exchange)`` runs once it has ended."""

    def __init__(
        self,
        upstream: httpx.Response,
        exchange: Exchange,
        on_done: Callable[[Exchange], Awaitable[None]],
    ) -> None:
        self.status_code = upstream.status_code
        self.raw_headers = client_headers(upstream.headers.raw)
        self.background = None
        self._upstream = upstream
        self._exchange = exchange
        self._on_done = on_done
        self._ended = False  # the upstream body is over (the client's disconnect is not news)
        headers = upstream.headers
        self._tap = BodyTap(
            headers.get("content-type", ""), headers.get("content-encoding", ""), exchange
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self._tap.stream is not None:
                await self._relay_watched(receive, send)
            else:
                await self._relay(send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._upstream.aclose()
                self._tap.finish()
                self._exchange.finish()
                await self._on_done(self._exchange)

    async def _relay(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        tap = self._tap
        try:
            async for chunk in self._upstream.aiter_raw():
                if not chunk:
                    continue
                if tap.active:
                    tap.feed(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError:
            # Headers are out: all we can do is end without completing the body, so the
            # client sees a truncated response rather than a complete-looking one.
            self._exchange.failure = UPSTREAM_BROKE
            self._ended = True
            return
        self._ended = True
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _relay_watched(self, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                while True:
                    message: Message = await receive()
                    if message["type"] == "http.disconnect":
                        if not self._ended:
                            stream = self._tap.stream
                            if stream is None or not stream.complete:
                                self._exchange.failure = CLIENT_CLOSED
                            group.cancel_scope.cancel()
                        return

            group.start_soon(watch)
            await self._relay(send)
            group.cancel_scope.cancel()
