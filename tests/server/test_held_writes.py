"""A response's head and body leave in one socket write (``http_protocol.HeldWrites``), and
nothing held is lost or reordered: a lone write leaves at the end of the loop's turn, closing
sends what is held first, aborting drops it."""

from __future__ import annotations

import asyncio
import json
import socket

from spendtray.core import Core
from spendtray.server.http_protocol import HeldWrites


class _Recorded(asyncio.Transport):
    """A transport that keeps what was written and what was done, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[object] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.log.append(bytes(data))

    def close(self) -> None:
        self.log.append("close")

    def abort(self) -> None:
        self.log.append("abort")

    def is_closing(self) -> bool:
        return "close" in self.log

    def get_write_buffer_size(self) -> int:
        return 7


def _run(steps: object) -> list[object]:
    async def main() -> list[object]:
        transport = _Recorded()
        held = HeldWrites(transport, asyncio.get_running_loop())
        await steps(held, transport)  # type: ignore[operator]
        return transport.log

    return asyncio.run(main())


def test_a_head_and_a_body_written_in_one_turn_leave_as_one_write() -> None:
    async def steps(held: HeldWrites, transport: _Recorded) -> None:
        held.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n")
        assert transport.log == []  # held until the body comes
        held.write(b"{}")
        await asyncio.sleep(0)

    assert _run(steps) == [b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}"]


def test_a_lone_write_leaves_at_the_end_of_the_turn() -> None:
    async def steps(held: HeldWrites, transport: _Recorded) -> None:
        held.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await asyncio.sleep(0)
        assert transport.log == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        held.write(b"chunk 1")
        held.write(b", 2")
        held.write(b"chunk 3")
        await asyncio.sleep(0)

    assert _run(steps) == [b"HTTP/1.1 100 Continue\r\n\r\n", b"chunk 1, 2", b"chunk 3"]


def test_closing_writes_what_is_held_first_and_aborting_drops_it() -> None:
    async def close(held: HeldWrites, transport: _Recorded) -> None:
        held.write(b"head")
        held.close()
        await asyncio.sleep(0)

    async def abort(held: HeldWrites, transport: _Recorded) -> None:
        held.write(b"head")
        held.abort()
        await asyncio.sleep(0)

    assert _run(close) == [b"head", "close"]
    assert _run(abort) == ["abort"]


def test_other_transport_calls_reach_the_transport() -> None:
    async def steps(held: HeldWrites, transport: _Recorded) -> None:
        assert held.get_write_buffer_size() == 7  # type: ignore[attr-defined]
        assert not held.is_closing()

    assert _run(steps) == []


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response's head and body (by its content-length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def test_the_real_server_answers_posts_100_continue_and_close(core: Core) -> None:
    port = int(core.url.rsplit(":", 1)[1])
    event = json.dumps({"model": "gpt-4o-mini", "input_tokens": 10, "output_tokens": 1})
    post = (
        f"POST /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {core.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(event)}\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for _ in range(3):  # kept alive: each answer complete before the next request
            s.sendall(post.encode() + b"\r\n" + event.encode())
            head, body = _read_response(s)
            assert head.startswith(b"HTTP/1.1 202"), head
            assert json.loads(body)["accepted"] == 1
        # The client sends its body only after the interim answer, written alone.
        s.sendall(post.encode() + b"Expect: 100-continue\r\n\r\n")
        assert s.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(event.encode())
        head, body = _read_response(s)
        assert head.startswith(b"HTTP/1.1 202"), head
        assert json.loads(body)["accepted"] == 1
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        got = b""
        while chunk := s.recv(65536):  # the whole answer, then the server closes
            got += chunk
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert json.loads(body)["status"] == "ok"
