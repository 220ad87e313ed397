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
        super().connection_made(transport)
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
