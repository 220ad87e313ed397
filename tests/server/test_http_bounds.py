"""The real server under connection abuse: a huge header is cut off at the bound, and sockets
that send nothing, headers a line at a time (slowloris) or a body that stalls are closed, while
ingestion keeps answering."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from spendtray.config import Settings
from spendtray.core import Core
from spendtray.server import http_protocol

EVENT = {"model": "gpt-4o-mini", "input_tokens": 10, "output_tokens": 1}


@pytest.fixture
def quick_core(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    """The app with the header, body and keep-alive clocks at half a second."""
    monkeypatch.setattr(http_protocol, "HEADER_SECONDS", 0.5)
    monkeypatch.setattr(http_protocol, "BODY_IDLE_SECONDS", 0.5)
    monkeypatch.setattr(http_protocol, "KEEP_ALIVE_SECONDS", 0.5)
    core = Core(settings, warm_tokenizers=False)
    core.start_background()
    try:
        yield core
    finally:
        core.stop()


def _port(core: Core) -> int:
    return int(core.url.rsplit(":", 1)[1])


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server sent before closing; fails if it is still open after ``seconds``."""
    sock.settimeout(seconds)
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except TimeoutError:
        pytest.fail(f"still open after {seconds} s; got {got[:80]!r}")
    except ConnectionResetError:
        pass
    return got


def _ingest_ok(core: Core) -> None:
    headers = {"Authorization": f"Bearer {core.token}"}
    started = time.monotonic()
    r = httpx.post(f"{core.url}/v1/usage", json=EVENT, headers=headers, timeout=10)
    assert r.status_code == 202, r.text
    assert time.monotonic() - started < 2


def test_a_huge_header_is_refused_at_the_bound(core: Core) -> None:
    with socket.create_connection(("127.0.0.1", _port(core))) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        chunk = b"a" * 65536
        with pytest.raises(OSError):  # the server closes while we are still sending
            while sent < 150 * 1024 * 1024:
                s.sendall(chunk)
                sent += len(chunk)
        assert sent <= 8 * 1024 * 1024
    _ingest_ok(core)


def test_the_431_answer(core: Core) -> None:
    with socket.create_connection(("127.0.0.1", _port(core))) as s:
        big = b"X-Big: " + b"a" * (http_protocol.MAX_HEADER_BYTES + 10) + b"\r\n"
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big)
        assert _closed_within(s, 5).startswith(b"HTTP/1.1 431")


def test_idle_and_slowloris_sockets_are_closed_and_ingestion_goes_on(quick_core: Core) -> None:
    port = _port(quick_core)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    try:
        for s in slow:
            s.sendall(b"POST /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        _ingest_ok(quick_core)
        time.sleep(0.2)
        for s in slow:
            s.sendall(b"X-Drip: 1\r\n")  # a line now and then does not keep it open
        for s in idle:
            assert _closed_within(s, 3) == b""
        for s in slow:
            assert _closed_within(s, 3).startswith(b"HTTP/1.1 408")
        _ingest_ok(quick_core)
    finally:
        for s in idle + slow:
            s.close()


def test_a_stalled_body_is_dropped_and_nothing_is_stored(quick_core: Core) -> None:
    body = b'{"model":"gpt-4o-mini","input_tokens":5,"output_tokens":1}'
    with socket.create_connection(("127.0.0.1", _port(quick_core))) as s:
        s.sendall(
            b"POST /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + quick_core.token.encode() + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:20]
        )
        assert _closed_within(s, 3) == b""
    headers = {"Authorization": f"Bearer {quick_core.token}"}
    summary = httpx.get(f"{quick_core.url}/v1/summary", headers=headers).json()
    assert summary["total"]["calls"] == 0


def test_a_kept_alive_connection_still_serves_many_requests(quick_core: Core) -> None:
    headers = {"Authorization": f"Bearer {quick_core.token}"}
    with httpx.Client(base_url=quick_core.url, headers=headers) as client:
        for _ in range(3):
            assert client.post("/v1/usage", json=EVENT).status_code == 202
            time.sleep(0.3)  # under the keep-alive timeout, over nothing else
        assert client.get("/v1/summary").json()["total"]["calls"] == 3


def test_a_kept_alive_connection_idle_after_its_answer_is_closed(quick_core: Core) -> None:
    body = b'{"model":"gpt-4o-mini","input_tokens":5,"output_tokens":1}'
    post = (
        b"POST /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + quick_core.token.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    health = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for request, status in ((post, b"202"), (health, b"200"), (post + health, b"202")):
        with socket.create_connection(("127.0.0.1", _port(quick_core))) as s:
            s.sendall(request)
            started = time.monotonic()
            got = _closed_within(s, 3)  # its answers, then closed without a 408
            assert got.startswith(b"HTTP/1.1 " + status) and b"408" not in got, got
            assert got.count(b"HTTP/1.1 ") == request.count(b" HTTP/1.1")
            assert time.monotonic() - started >= 0.4
