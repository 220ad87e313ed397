"""uvicorn's httptools protocol with the bounds a loopback server still needs. Runs on the
server's event loop, one instance per connection.

Any local process (or a web page, through the browser) can open connections. uvicorn itself
bounds neither the size of a request's headers nor the time they take, and only times out a
connection idle *between* requests: one connection streaming a 150 MB header slowed every
other request to seconds and grew memory, and about a thousand sockets that connect and send
nothing (or a header line now and then: slowloris) used up the process's file descriptors,
so no sender could connect. Here:

- a request's headers may be at most ``MAX_HEADER_BYTES`` (else ``431`` and the connection
  closes) and must arrive within ``HEADER_SECONDS`` of the connection or of the request's
  first byte (else ``408``) — which also closes a connection that never sends anything;
- a body may pause at most ``BODY_IDLE_SECONDS`` between chunks (else the connection closes
  and the handler sees the client gone: nothing is stored).

And a response's head and body leave in one ``send`` instead of two (``HeldWrites``).

One route may be answered in the protocol itself rather than through uvicorn's ASGI cycle
(``DirectRoute``, ``Exchange``): ``POST /v1/usage``, which agents post one event at a time.
uvicorn builds, per request, a ``RequestResponseCycle``, an ``asyncio.Event``, a Task, the
scope's path fields and the messages of ``receive`` and ``send``, and checks each message it
is sent: answered here, a single-event POST costs the server about 7 µs (a tenth) less CPU
(bench/ingest.py --only single: 74 vs 81 µs in the same rounds). An exchange takes
the place of the cycle in uvicorn's bookkeeping (``self.cycle``, the pipeline queue), so
pipelined requests on either path are still answered one after the other, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
HEADER_SECONDS = 10.0
BODY_IDLE_SECONDS = 30.0
# How long a kept-alive connection may idle between requests (uvicorn's default).
KEEP_ALIVE_SECONDS = 5.0


def _reply(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\nconnection: close\r\n\r\n" + text
    )


_TOO_LARGE = _reply(b"431 Request Header Fields Too Large", b"request headers too large")
_TOO_SLOW = _reply(b"408 Request Timeout", b"request headers took too long")


SWEEP_SECONDS = 0.25


class HeldWrites:
    """The connection's transport, holding each write until the next one or the end of the
    loop's turn, so that a response's head and body go out in one socket write.

    uvicorn writes the status line and headers as the handler sends ``http.response.start``
    and the body as it sends ``http.response.body``, which for a single-event POST follow in
    the same turn: two ``send`` system calls, and two wake-ups of the client reading them.
    Those writes were about a third of the event loop's time under 8 connections posting
    single events. Closing or aborting first writes what is held (``close``); a lone write
    (a streamed chunk, ``100 Continue``) leaves at the end of the turn.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._held = None
            self._transport.write(held + data)

    def write_whole(self, data: bytes) -> None:
        """A whole response: out now, after anything held (a ``100 Continue``)."""
        held = self._held
        if held is not None:
            self._held = None
            data = held + data
        self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> object:  # the transport's other methods, unchanged
        return getattr(self._transport, name)


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_CLOSE = b"connection: close\r\n"


class DirectRoute:
    """A route the connection's protocol answers without uvicorn's ASGI cycle (the ASGI app
    given to uvicorn is one). The request line must be exactly ``method`` and ``path``;
    other spellings (a query string, an absolute URL) go through ASGI as before."""

    method: bytes
    path: bytes

    def start(self, exchange: Exchange) -> int | None:
        """Check the request's head, before any of its body is used: the body size limit,
        or None when the request was answered already (refused)."""
        raise NotImplementedError

    def too_large(self, exchange: Exchange, limit: int) -> None:
        """The body passed ``limit`` bytes: answer it."""
        raise NotImplementedError

    def body(self, exchange: Exchange, body: bytes) -> None:
        """The whole body has arrived: answer it (``exchange.reply``), now or later."""
        raise NotImplementedError


class Exchange:
    """One request on a ``DirectRoute`` and its answer. It stands where uvicorn keeps its
    ``RequestResponseCycle`` (``protocol.cycle``, ``protocol.pipeline``) and has the fields
    uvicorn reads there (``response_complete``, ``keep_alive``, ``disconnected``), so
    uvicorn's own code orders it among the connection's other requests.

    Started (``start``) when every earlier request on the connection has been answered,
    as uvicorn starts a cycle's Task. Its body is kept as it arrives (at most the route's
    limit once started: a queued request's reading is paused, as for a cycle).
    """

    __slots__ = (
        "_chunks",
        "_limit",
        "_more_body",
        "_protocol",
        "_route",
        "_size",
        "disconnected",
        "expect_100_continue",
        "headers",
        "keep_alive",
        "response_complete",
        "state",
    )

    def __init__(
        self,
        protocol: BoundedHttpToolsProtocol,
        route: DirectRoute,
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
        expect_100_continue: bool,
    ) -> None:
        self._protocol = protocol
        self._route = route
        self.headers = headers  # as uvicorn's scope has them: lower-case names
        self.keep_alive = keep_alive
        self.expect_100_continue = expect_100_continue
        self.response_complete = False
        self.disconnected = False
        self.state: Any = None  # the route's, between its calls
        self._chunks: list[bytes] = []
        self._size = 0
        self._more_body = True
        self._limit: int | None = None  # None until started

    def start(self) -> None:
        limit = self._route.start(self)
        if limit is None or self.response_complete:
            return
        transport = self._protocol.transport
        if self.expect_100_continue and not transport.is_closing():
            # As uvicorn does when the app first receives: only a request that passed the
            # checks is asked for its body.
            transport.write(_CONTINUE)
        self._limit = limit
        if self._size > limit:
            self._route.too_large(self, limit)
        elif not self._more_body:
            self._body()

    def on_body(self, body: bytes) -> None:
        if self.response_complete:
            return
        self._chunks.append(body)
        self._size += len(body)
        limit = self._limit
        if limit is not None and self._size > limit:
            self._route.too_large(self, limit)

    def on_message_complete(self) -> None:
        self._more_body = False
        if self._limit is not None and not self.response_complete:
            self._body()

    def _body(self) -> None:
        chunks = self._chunks
        self._chunks = []
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._route.body(self, body)

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        """``work`` as a Task that uvicorn's shutdown waits for, as it does a cycle's."""
        tasks = self._protocol.tasks
        task = self._protocol.loop.create_task(work)
        task.add_done_callback(tasks.discard)
        tasks.add(task)

    def reply(self, status: int, headers: bytes, body: bytes) -> None:
        """The response (``headers``: its header lines, each ending in CRLF), byte for byte
        what uvicorn writes for the same ASGI messages; not written when the client has gone."""
        if self.response_complete:
            return
        self.response_complete = True
        protocol = self._protocol
        transport = protocol.transport
        if transport.is_closing():
            self.disconnected = True
            return
        if self.keep_alive:
            response = STATUS_LINE[status] + headers + b"\r\n" + body
        else:
            response = STATUS_LINE[status] + headers + _CLOSE + b"\r\n" + body
        if protocol.flow.write_paused:
            # The client reads its answers slower than it sends requests: wait for its
            # buffer to drain as uvicorn's ``send`` does, so pipelining cannot grow it.
            self.run(self._drained(response))
            return
        self._sent(response)

    async def _drained(self, response: bytes) -> None:
        await self._protocol.flow.drain()
        if not self._protocol.transport.is_closing():
            self._sent(response)

    def _sent(self, response: bytes) -> None:
        protocol = self._protocol
        protocol.transport.write_whole(response)  # type: ignore[attr-defined]
        if not self.keep_alive:
            protocol.transport.close()
        protocol.on_response_complete()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with header size, header time and body idle bounds.

    A connection keeps the loop time it must make progress by (``_deadline``: None while a
    request is being answered; ``KEEP_ALIVE_SECONDS`` after an answer while it idles, in place
    of uvicorn's keep-alive timer); one sweep per server, every ``SWEEP_SECONDS``, closes
    those past it. Setting a float per state change is what a request pays — a timer per
    request cost ~10 us of the event loop.
    """

    _awaiting_headers = True
    _header_bytes = 0
    _deadline: float | None = None
    _idle = False  # the deadline is the keep-alive one
    _direct: DirectRoute | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = self.config.app
        if isinstance(app, DirectRoute) and self.limit_concurrency is None and not self.root_path:
            self._direct = app

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeldWrites(transport, self.loop))  # type: ignore[arg-type]
        self._deadline = self.loop.time() + HEADER_SECONDS
        _ensure_sweep(self)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._header_bytes += len(data)
            if self._deadline is None or self._idle:  # a request's first byte
                self._idle = False
                self._deadline = self.loop.time() + HEADER_SECONDS
        elif self._deadline is not None:  # a body chunk: the idle clock starts again
            self._deadline = self.loop.time() + BODY_IDLE_SECONDS
        super().data_received(data)
        if (
            self._awaiting_headers
            and self._header_bytes > MAX_HEADER_BYTES
            and not self.transport.is_closing()
        ):
            self._deadline = None
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_message_begin(self) -> None:
        # uvicorn builds the request's ASGI scope here; an exchange needs none, so it is
        # built once the head turns out not to be one (``on_headers_complete``).
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._deadline = self.loop.time() + BODY_IDLE_SECONDS
        direct = self._direct
        parser = self.parser
        if (
            direct is not None
            and self.url == direct.path
            and parser.get_method() == direct.method
            and not parser.should_upgrade()
        ):
            self._exchange(direct)
        else:
            url, headers, expect = self.url, self.headers, self.expect_100_continue
            super().on_message_begin()
            self.url, self.expect_100_continue = url, expect
            self.headers = self.scope["headers"] = headers
            super().on_headers_complete()

    def _exchange(self, route: DirectRoute) -> None:
        """What uvicorn's ``on_headers_complete`` does with a new cycle, for an exchange."""
        parser = self.parser
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        exchange = Exchange(self, route, self.headers, keep_alive, self.expect_100_continue)
        existing = self.cycle
        self.cycle = exchange  # type: ignore[assignment]
        if existing is None or existing.response_complete:
            exchange.start()
        else:
            self.flow.pause_reading()
            self.pipeline.appendleft((exchange, None))  # type: ignore[arg-type]

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        # uvicorn starting the next pipelined request, which may be an exchange.
        if type(cycle) is Exchange:
            cycle.start()
        else:
            super()._start_asgi_task(cycle, app)

    def on_body(self, body: bytes) -> None:
        cycle: Any = self.cycle
        if type(cycle) is Exchange:
            cycle.on_body(body)
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._deadline = None
        self._awaiting_headers = True
        self._header_bytes = 0
        cycle: Any = self.cycle
        if type(cycle) is Exchange:
            cycle.on_message_complete()
        else:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive deadline instead of its timer (a ``TimerHandle``
        per answer, cancelled by the next request's first bytes)."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._deadline is None:  # nothing of a next request yet
            self._idle = True
            self._deadline = self.loop.time() + KEEP_ALIVE_SECONDS

    def connection_lost(self, exc: Exception | None) -> None:
        cycle: Any = self.cycle
        if type(cycle) is Exchange:
            # uvicorn's ``connection_lost`` wakes its own cycle's receive; an exchange
            # learns that its client has gone from the closed transport when it answers.
            if not cycle.response_complete:
                cycle.disconnected = True
            self.cycle = None  # type: ignore[assignment]
        super().connection_lost(exc)

    def expire(self) -> None:
        """Past the deadline: headers too slow (408 when some came), a body stalled, or
        idle too long between requests."""
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._awaiting_headers and self._header_bytes:
            self.transport.write(_TOO_SLOW)
        self.transport.close()


def _ensure_sweep(protocol: BoundedHttpToolsProtocol) -> None:
    """One sweep per server (its ``server_state``), started by its first connection."""
    state = protocol.server_state
    if getattr(state, "spendtray_sweep", None) is not None:
        return
    loop = protocol.loop

    def sweep() -> None:
        now = loop.time()
        for connection in list(state.connections):
            if isinstance(connection, BoundedHttpToolsProtocol):
                deadline = connection._deadline
                if deadline is not None and now > deadline:
                    connection.expire()
        state.spendtray_sweep = loop.call_later(SWEEP_SECONDS, sweep)  # type: ignore[attr-defined]

    state.spendtray_sweep = loop.call_later(SWEEP_SECONDS, sweep)  # type: ignore[attr-defined]


def raise_open_file_limit() -> None:
    """The soft limit on open files up to the hard one (often 1,024 -> far more): connections
    that are closed soon still each hold a descriptor meanwhile."""
    try:
        import resource  # POSIX only
    except ImportError:
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = 65_536 if hard == resource.RLIM_INFINITY else hard
        if soft != resource.RLIM_INFINITY and target > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        pass
