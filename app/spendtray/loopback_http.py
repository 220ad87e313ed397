"""One HTTP/1.1 request to the local app over a plain socket: the transport of the commands
that run before every prompt or tool call (``check``, the Claude Code hook, the identity
check). Standard library ``socket`` only; caller's thread.

Why not ``http.client``: importing it pulls in ``ssl`` (OpenSSL's shared libraries) and the
``email`` parser, about 50 ms of a command whose whole budget is 60 ms; a loopback request to
our own server needs neither. One request per connection (``Connection: close``); the answer
is read to its ``Content-Length``, through a chunked body, or to the end of the connection.
"""

from __future__ import annotations

import socket

MAX_HEAD = 64 * 1024


class BadReply(ValueError):
    """What came back is not a complete HTTP response."""


def request(
    host: str,
    port: int,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 2.0,
    max_bytes: int = 8 * 1024 * 1024,
) -> tuple[int, bytes]:
    """(status, body). Raises ``ConnectionRefusedError`` when nothing listens, ``TimeoutError``,
    another ``OSError``, or ``BadReply``."""
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {hostport}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(message)
        return _read_reply(sock, max_bytes)


def _read_reply(sock: socket.socket, max_bytes: int) -> tuple[int, bytes]:
    data = bytearray()
    status: int | None = None
    length: int | None = None
    chunked = False
    start = 0
    while True:
        part = sock.recv(65536)
        if part:
            data += part
        if status is None:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if not part or len(data) > MAX_HEAD:
                    raise BadReply("no complete HTTP header")
                continue
            status, length, chunked = _head(bytes(data[:end]))
            start = end + 4
        if length is not None and len(data) - start >= length:
            return status, bytes(data[start : start + length])
        if len(data) - start > max_bytes:
            raise BadReply(f"reply over {max_bytes} bytes")
        if not part:
            if length is not None:
                raise BadReply("reply shorter than its Content-Length")
            body = bytes(data[start:])
            return status, _dechunk(body) if chunked else body


def _head(head: bytes) -> tuple[int, int | None, bool]:
    first, *fields = head.split(b"\r\n")
    parts = first.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise BadReply("not an HTTP/1.x status line")
    length: int | None = None
    chunked = False
    for line in fields:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            if not value.strip().isdigit():
                raise BadReply("bad Content-Length")
            length = int(value)
        elif key == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return int(parts[1]), None if chunked else length, chunked


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    at = 0
    while True:
        end = body.find(b"\r\n", at)
        if end < 0:
            raise BadReply("truncated chunked body")
        try:
            size = int(body[at:end].split(b";", 1)[0], 16)
        except ValueError:
            raise BadReply("bad chunk size") from None
        if size == 0:
            return bytes(out)
        out += body[end + 2 : end + 2 + size]
        at = end + 2 + size + 2
