"""DNS rebinding: only an exact loopback Host (name or address, optional port) reaches any
route of the real server; every spelling a resolver might still read as loopback is refused."""

from __future__ import annotations

import socket

import httpx
import pytest

from spendtray.core import Core

REFUSED = [
    "127.0.0.1.evil.com",
    "127.0.0.1.evil.com:8719",
    "localhost.evil.com",
    "localhost.",
    "localhost.:8719",
    "127.0.0.1.",
    "127.1",
    "127.0.0.2",
    "127.000.000.001",
    "0x7f.1",
    "0x7f000001",
    "2130706433",
    "[::ffff:127.0.0.1]",
    "[::1].evil.com",
    "[::1]x",
    "::1",
    "127.0.0.1:abc",
    "127.0.0.1:8719:1",
    "evil.com",
    "",
]
ACCEPTED = ["127.0.0.1", "127.0.0.1:8719", "localhost", "localhost:1", "[::1]", "[::1]:8719",
            "LOCALHOST", "LocalHost:8719"]  # fmt: skip


@pytest.mark.parametrize("host", REFUSED)
def test_tricks_are_refused(client: httpx.Client, host: str) -> None:
    for path in ("/healthz", "/v1/summary"):
        r = client.get(path, headers={"Host": host})
        assert r.status_code in (400, 403), (host, r.status_code)
        if r.status_code == 403:
            assert "Host" in r.json()["error"]["message"]


@pytest.mark.parametrize("host", ACCEPTED)
def test_exact_loopback_names_are_accepted(client: httpx.Client, host: str) -> None:
    assert client.get("/v1/summary", headers={"Host": host}).status_code == 200


def test_a_request_without_host_is_refused(core: Core) -> None:
    port = int(core.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 403"), reply[:100]
