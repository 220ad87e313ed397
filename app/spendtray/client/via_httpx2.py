"""Transport classes for ``httpx2`` clients (openai>=3 and anthropic>=1 are built on httpx2).

Imported only when a client built on ``httpx2`` is tracked. The classes are the ``wire`` mixins
on httpx2's own base classes; they run where ``wire`` says (the caller's thread or event loop).
"""

from __future__ import annotations

import httpx2

from spendtray.client.wire import AsyncTee, AsyncTransportMixin, SyncTee, SyncTransportMixin

LIBRARY = "httpx2"
Client = httpx2.Client
AsyncClient = httpx2.AsyncClient


class SyncStream(SyncTee, httpx2.SyncByteStream):
    pass


class AsyncStream(AsyncTee, httpx2.AsyncByteStream):
    pass


class Transport(SyncTransportMixin[httpx2.Request, httpx2.Response], httpx2.BaseTransport):
    tee_class = SyncStream


class AsyncTransport(
    AsyncTransportMixin[httpx2.Request, httpx2.Response], httpx2.AsyncBaseTransport
):
    tee_class = AsyncStream
