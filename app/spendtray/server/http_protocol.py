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
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
HEADER_SECONDS = 10.0
BODY_IDLE_SECONDS = 30.0


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


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with header size, header time and body idle bounds.

    A connection keeps the loop time it must make progress by (``_deadline``: None while a
    request is being answered or the connection idles between requests under uvicorn's own
    keep-alive timeout); one sweep per server, every ``SWEEP_SECONDS``, closes those past it.
    Setting a float per state change is what a request pays — a timer per request cost
    ~10 us of the event loop.
    """

    _awaiting_headers = True
    _header_bytes = 0
    _deadline: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeldWrites(transport, self.loop))  # type: ignore[arg-type]
        self._deadline = self.loop.time() + HEADER_SECONDS
        _ensure_sweep(self)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._header_bytes += len(data)
            if self._deadline is None:  # the first byte of a request on a kept-alive connection
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

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._deadline = self.loop.time() + BODY_IDLE_SECONDS
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._deadline = None
        self._awaiting_headers = True
        self._header_bytes = 0
        super().on_message_complete()

    def expire(self) -> None:
        """Past the deadline: headers too slow (408 when some came) or a body stalled."""
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
