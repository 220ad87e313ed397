"""`..` in a proxied path never leaves the upstream's base path: the real proxy refuses '.'
and '..' segments however they are spelled, and forwards nothing."""

from __future__ import annotations

import http.client

import pytest
from fake_llm_upstream import FakeUpstream
from proxykit import OPENAI_KEY

from spendtray.core import Core

CLIMBS = [
    "/p/acme/router/chat/../../../v1/echo",
    "/p/acme/router/../v1/echo",
    "/p/acme/router/%2e%2e/%2E%2E/v1/echo",
    "/p/acme/router/..%2f..%2fv1/echo",
    "/p/acme/router/..%5c..%5cv1/echo",
    "/p/acme/router/./echo",
    "/proxy/router/../../v1/echo",
]


def _post(core: Core, path: str) -> tuple[int, bytes]:
    port = int(core.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            path,
            body=b'{"model":"gpt-4o"}',
            headers={
                "Authorization": f"Bearer {OPENAI_KEY}",
                "Content-Type": "application/json",
                "X-Spendtray-Project": "acme",
            },
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", CLIMBS)
def test_dot_segments_are_refused(proxy_core: Core, upstream: FakeUpstream, path: str) -> None:
    before = len(upstream.received)
    status, body = _post(proxy_core, path)
    assert status == 400, (path, body[:200])
    assert b"'..' path segments" in body
    assert len(upstream.received) == before


def test_a_plain_path_under_the_base_still_goes_through(
    proxy_core: Core, upstream: FakeUpstream
) -> None:
    before = len(upstream.received)
    _post(proxy_core, "/p/acme/router/echo")  # the fake answers 404 there; it was asked
    assert len(upstream.received) == before + 1
    assert upstream.last().path == "/api/v1/echo"
