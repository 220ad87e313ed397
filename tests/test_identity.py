"""spendtray.identity against the real server and against squatters on a loopback port: only
the Spendtray holding this folder's token passes, and the token never goes on the wire."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from spendtray import identity
from spendtray.core import Core


class _Squatter(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(handler: Callable[[http.server.BaseHTTPRequestHandler], None]) -> Iterator[str]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path + " " + str(dict(self.headers)))
            handler(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = _Squatter(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _reply(status: int, body: bytes) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    identity._verified.clear()
    yield
    identity._verified.clear()


def test_the_real_server_proves_itself(core: Core) -> None:
    identity.verify(core.url, core.token)
    assert (core.url, core.token) in identity._verified


def test_another_homes_server_is_refused(core: Core) -> None:
    with pytest.raises(identity.NotSpendtray, match="not the Spendtray of this data folder"):
        identity.verify(core.url, "the-token-of-another-home")


def test_the_proof_reveals_no_token(core: Core) -> None:
    nonce = "ab" * 16
    reply = httpx.get(f"{core.url}/v1/identity", params={"nonce": nonce}).json()
    assert reply["app"] == "spendtray"
    assert core.token not in str(reply)
    port = int(core.url.rsplit(":", 1)[1])
    assert reply["proof"] == identity.proof(core.token, nonce, port)
    bad = httpx.get(f"{core.url}/v1/identity", params={"nonce": "x"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "answer",
    [
        _reply(200, b'{"status": "ok"}'),
        _reply(200, b'{"app": "spendtray", "proof": "00"}'),
        _reply(404, b"not here"),
        _reply(200, b"x" * 10_000_000),
    ],
    ids=["healthz-lookalike", "wrong-proof", "404", "huge-reply"],
)
def test_a_squatter_is_refused(
    answer: Callable[[http.server.BaseHTTPRequestHandler], None],
) -> None:
    for url in _serve(answer):
        with pytest.raises(identity.NotSpendtray) as caught:
            identity.verify(url, "secret-token-value")
        message = str(caught.value)
        assert "\n" not in message and "nothing was sent" in message
        assert "secret-token-value" not in message


def test_a_squatter_relaying_to_the_real_app_is_refused(core: Core) -> None:
    """The challenge forwarded to the real app on its own port: the proof names that port."""

    def relay(h: http.server.BaseHTTPRequestHandler) -> None:
        real = httpx.get(core.url + h.path)
        _reply(real.status_code, real.content)(h)

    for url in _serve(relay):
        with pytest.raises(identity.NotSpendtray, match="does not match"):
            identity.verify(url, core.token)


def test_nothing_listening_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(identity.Unreachable):
        identity.verify(f"http://127.0.0.1:{port}", "t")


def test_a_success_is_remembered_until_forgotten(core: Core) -> None:
    url = core.url
    identity.verify(url, core.token)
    core.stop()
    identity.verify(url, core.token)  # remembered: no round trip
    identity.forget(url)
    with pytest.raises(identity.Unreachable):
        identity.verify(url, core.token)


def test_importing_it_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, spendtray.identity; "
        "heavy = [m for m in ('httpx', 'starlette', 'sqlite3', 'spendtray.config') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
