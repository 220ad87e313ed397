"""Stand-ins for a Spendtray app that misbehaves, and one that records what it is sent.

Real sockets on 127.0.0.1, each on its own daemon thread: ``refused`` (a closed port), ``500``,
``html`` (a 200 that is not Spendtray's JSON), ``junk`` (bytes that are not HTTP), ``hang``
(accepts, reads, never answers), ``401``, ``record`` (proves the identity of the client's
home and answers 202 like the app, keeping each body) and ``squat`` (the same, proving another
home's identity), ``huge`` (proves the client's identity, then answers a 3 GB body).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from spendtray import identity


@dataclass
class Sink:
    url: str
    port: int
    bodies: list[bytes] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    token: str = "t0k3n"  # what "record" proves it holds
    sent: int = 0  # bytes of the "huge" reply the client took


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_request(conn: socket.socket) -> tuple[str, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return "", b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head.decode("latin-1"), body


def _answer(mode: str, sink: Sink, conn: socket.socket, stop: threading.Event) -> None:
    with conn:
        conn.settimeout(10)
        while not stop.is_set():
            try:
                head, body = _read_request(conn)
            except OSError:
                return
            if not head:
                return
            if mode == "hang":
                stop.wait(30)
                return
            if mode == "junk":
                conn.sendall(b"\x00\xff garbage that is not HTTP at all \x13\x37\r\n\r\n")
                return
            if mode == "huge" and not head.startswith("GET /v1/identity?nonce="):
                # The app's own identity, then a reply of (claimed) 3 GB: sent until the client
                # hangs up; ``sent`` says how much it took.
                conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 3000000000\r\n\r\n")
                chunk = b"0" * (1 << 20)
                try:
                    while sink.sent < 3_000_000_000:
                        conn.sendall(chunk)
                        sink.sent += len(chunk)
                except OSError:
                    pass
                return
            if mode in ("record", "squat", "huge") and head.startswith("GET /v1/identity?nonce="):
                # The app's identity answer (spendtray.identity), with the sink's own token:
                # "record" holds the client's token, "squat" another one.
                sink.headers.append(head)
                nonce = head.split("nonce=", 1)[1].split(" ", 1)[0]
                token = sink.token if mode == "record" else "a squatter's token"
                proof = identity.proof(token, nonce, sink.port)
                payload = json.dumps({"app": "spendtray", "proof": proof}).encode()
                status, ctype = "200 OK", "application/json"
            elif mode in ("record", "squat"):
                sink.bodies.append(body)
                sink.headers.append(head)
                n = len(json.loads(body)["events"])
                payload = json.dumps({"accepted": n, "duplicates": 0, "events": []}).encode()
                status, ctype = "202 Accepted", "application/json"
            elif mode == "500":
                payload, status, ctype = (
                    b'{"error":{"message":"boom"}}',
                    "500 Oops",
                    "application/json",
                )
            elif mode == "401":
                payload = b'{"error":{"message":"missing or wrong token"}}'
                status, ctype = "401 Unauthorized", "application/json"
            else:  # html
                payload, status, ctype = b"<html>hello</html>", "200 OK", "text/html"
            conn.sendall(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n".encode()
                + payload
            )


@contextlib.contextmanager
def sink(mode: str) -> Iterator[Sink]:
    if mode == "refused":
        port = free_port()
        yield Sink(f"http://127.0.0.1:{port}", port)
        return
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    port = server.getsockname()[1]
    result = Sink(f"http://127.0.0.1:{port}", port)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_answer, args=(mode, result, conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        server.close()
