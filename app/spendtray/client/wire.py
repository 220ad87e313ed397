"""The transport and byte-stream wrappers, written once for httpx and httpx2.

``transport_classes(lib)`` combines these mixins with the library's own base classes (the
libraries check ``isinstance`` on response streams), once per library and only when a client
built on it is tracked. ``handle_request`` runs on the caller's thread (sync) or its event loop
(async); the stream methods run wherever the SDK reads
the body. The wrapped transport is always called exactly as before and its response, headers
and bytes are handed back untouched: the stream is iterated in step with the SDK's own reads,
never ahead of them and never buffered. Errors of the upstream call propagate unchanged; errors
of our own bookkeeping never do.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, MutableMapping
from types import ModuleType
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from spendtray.client.capture import Attribution, Call, Submit, open_call

log = logging.getLogger("spendtray.client")


class _URL(Protocol):
    @property
    def host(self) -> str: ...

    @property
    def path(self) -> str: ...


class RequestLike(Protocol):
    @property
    def method(self) -> str: ...

    @property
    def url(self) -> _URL: ...

    @property
    def headers(self) -> MutableMapping[str, str]: ...


class ResponseLike(Protocol):
    stream: Any

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> MutableMapping[str, str]: ...


Req = TypeVar("Req", bound=RequestLike)
Resp = TypeVar("Resp", bound=ResponseLike)
ReqIn = TypeVar("ReqIn", bound=RequestLike, contravariant=True)
RespOut = TypeVar("RespOut", bound=ResponseLike, covariant=True)


class Hooks:
    """What a wrapped transport needs from the tracker: attribution and the sender's queue."""

    def __init__(
        self,
        attribution: Attribution,
        defaults: Callable[[], tuple[str | None, str | None]],
        submit: Submit,
        library: str,
    ) -> None:
        self.attribution = attribution
        self.defaults = defaults
        self.submit = submit
        self.library = library

    def open(self, request: RequestLike) -> Call | None:
        try:
            url = request.url
            return open_call(
                self.attribution,
                self.defaults,
                request.method,
                url.host,
                url.path,
                request.headers,
                self.submit,
                self.library,
            )
        except Exception as exc:
            log.debug("spendtray: not recording this call: %s", exc)
            return None

    @staticmethod
    def watch(call: Call, response: ResponseLike, tee_class: Callable[[Any, Call], Any]) -> None:
        """Read along the body when the call wants it: the response's stream becomes a tee."""
        try:
            headers = response.headers
            if call.start(
                response.status_code,
                headers.get("content-type", ""),
                headers.get("content-encoding", ""),
            ):
                response.stream = tee_class(response.stream, call)
        except Exception as exc:
            log.debug("spendtray: not recording this call: %s", exc)


class SyncTee:
    """Yields the wrapped stream's chunks as they come, letting the ``Call`` see each one."""

    def __init__(self, inner: Iterable[bytes], call: Call) -> None:
        self._inner = inner
        self._call = call

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._call.feed(chunk)
            yield chunk
        self._call.finish()

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._call.finish()


class AsyncTee:
    def __init__(self, inner: Any, call: Call) -> None:
        self._inner = inner
        self._call = call

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._call.feed(chunk)
            yield chunk
        self._call.finish()

    async def aclose(self) -> None:
        try:
            aclose = getattr(self._inner, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            self._call.finish()


class _InnerSync(Protocol[ReqIn, RespOut]):
    def handle_request(self, request: ReqIn) -> RespOut: ...

    def close(self) -> None: ...


class _InnerAsync(Protocol[ReqIn, RespOut]):
    async def handle_async_request(self, request: ReqIn) -> RespOut: ...

    async def aclose(self) -> None: ...


class SyncTransportMixin(Generic[Req, Resp]):
    tee_class: ClassVar[type[SyncTee]]

    def __init__(self, inner: _InnerSync[Req, Resp], hooks: Hooks) -> None:
        self.inner = inner
        self.hooks = hooks

    def handle_request(self, request: Req) -> Resp:
        call = self.hooks.open(request)
        response = self.inner.handle_request(request)
        if call is not None:
            self.hooks.watch(call, response, self.tee_class)
        return response

    def __enter__(self) -> Self:
        enter = getattr(self.inner, "__enter__", None)
        if enter is not None:
            enter()
        return self

    def __exit__(self, *exc: Any) -> None:
        leave = getattr(self.inner, "__exit__", None)
        if leave is not None:
            leave(*exc)
        else:
            self.inner.close()

    def close(self) -> None:
        self.inner.close()


class AsyncTransportMixin(Generic[Req, Resp]):
    tee_class: ClassVar[type[AsyncTee]]

    def __init__(self, inner: _InnerAsync[Req, Resp], hooks: Hooks) -> None:
        self.inner = inner
        self.hooks = hooks

    async def handle_async_request(self, request: Req) -> Resp:
        call = self.hooks.open(request)
        response = await self.inner.handle_async_request(request)
        if call is not None:
            self.hooks.watch(call, response, self.tee_class)
        return response

    async def __aenter__(self) -> Self:
        enter = getattr(self.inner, "__aenter__", None)
        if enter is not None:
            await enter()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        leave = getattr(self.inner, "__aexit__", None)
        if leave is not None:
            await leave(*exc)
        else:
            await self.inner.aclose()

    async def aclose(self) -> None:
        await self.inner.aclose()


@functools.cache
def transport_classes(
    lib: ModuleType,
) -> tuple[type[SyncTransportMixin[Any, Any]], type[AsyncTransportMixin[Any, Any]]]:
    """The sync and async transport wrappers for ``lib`` (the ``httpx`` or ``httpx2`` module),
    on its own base classes; made once per library."""
    http: Any = lib

    class SyncStream(SyncTee, http.SyncByteStream):  # type: ignore[misc]
        pass

    class AsyncStream(AsyncTee, http.AsyncByteStream):  # type: ignore[misc]
        pass

    class Transport(SyncTransportMixin[Any, Any], http.BaseTransport):  # type: ignore[misc]
        tee_class = SyncStream

    class AsyncTransport(AsyncTransportMixin[Any, Any], http.AsyncBaseTransport):  # type: ignore[misc]
        tee_class = AsyncStream

    return Transport, AsyncTransport
