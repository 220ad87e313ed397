"""Transport classes for ``httpx`` clients (openai 3.x still accepts them; older SDKs need them).

Imported only when a client built on ``httpx`` is tracked. The classes are the ``wire`` mixins
on httpx's own base classes; they run where ``wire`` says (the caller's thread or event loop).
"""

from __future__ import annotations

import httpx

from spendtray.client.wire import AsyncTee, AsyncTransportMixin, SyncTee, SyncTransportMixin

LIBRARY = "httpx"
Client = httpx.Client
AsyncClient = httpx.AsyncClient


class SyncStream(SyncTee, httpx.SyncByteStream):
    pass


class AsyncStream(AsyncTee, httpx.AsyncByteStream):
    pass


class Transport(SyncTransportMixin[httpx.Request, httpx.Response], httpx.BaseTransport):
    tee_class = SyncStream


class AsyncTransport(AsyncTransportMixin[httpx.Request, httpx.Response], httpx.AsyncBaseTransport):
    tee_class = AsyncStream
