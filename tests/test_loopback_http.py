"""The socket transport of the quick commands: Content-Length, chunked and read-to-close
replies, a refused port, and replies that are not HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from spendtray.loopback_http import BadReply, request


@pytest.fixture
def raw_server() -> Iterator[tuple[int, list[bytes], list[bytes]]]:
    """Answers each connection with the next canned reply; records what it was sent."""
    replies: list[bytes] = []
    seen: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                seen.append(conn.recv(65536))
                conn.sendall(replies.pop(0))

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], replies, seen
    listener.close()


def test_reply_shapes(raw_server: tuple[int, list[bytes], list[bytes]]) -> None:
    port, replies, seen = raw_server
    replies += [
        b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}',
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"b"\r\n3\r\n:2}\r\n0\r\n\r\n',
        b"HTTP/1.1 404 Not Found\r\n\r\nno length, read to close",
    ]
    assert request("127.0.0.1", port, "GET", "/x?y=1", {"Authorization": "Bearer t"}) == (
        200,
        b'{"a":1}',
    )
    first = seen[0].decode()
    assert first.startswith("GET /x?y=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{port}\r\n" in first and "Authorization: Bearer t\r\n" in first
    assert request("127.0.0.1", port, "POST", "/p", body=b"{}") == (201, b'{"b":2}')
    assert seen[1].endswith(b"Content-Length: 2\r\n\r\n{}")
    assert request("127.0.0.1", port, "GET", "/") == (404, b"no length, read to close")


def test_not_http_and_nothing_listening(raw_server: tuple[int, list[bytes], list[bytes]]) -> None:
    port, replies, _ = raw_server
    replies += [b"SSH-2.0-OpenSSH_9.6\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort"]
    with pytest.raises(BadReply):
        request("127.0.0.1", port, "GET", "/")
    with pytest.raises(BadReply, match="shorter than its Content-Length"):
        request("127.0.0.1", port, "GET", "/")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        request("127.0.0.1", free, "GET", "/")
