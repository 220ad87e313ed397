"""Large proxy bodies against a real `spendtray serve` process: a 20+ MB JSON request (a long
conversation) and a 20+ MB embeddings response cost about their own size in memory, not ten
times it, and the calls are still recorded with their model and usage."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fake_llm_upstream import FakeUpstream, Received
from proxykit import OPENAI_KEY, write_config
from starlette.responses import Response

from sharedkit import spawn_spendtray, wait_healthy

MB = 1024 * 1024

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {key}")


def _peak_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM")


def _now_mb(pid: int) -> float:
    """The resident size now, with the peak reset to it (the start-up peak is higher than
    what most requests add)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_mb(pid, "VmRSS")


def _settled_mb(url: str, pid: int, token: str) -> float:
    """``_now_mb`` once the server is done with what its first calls and its start-up cost,
    so the growth measured after is the large body's alone: a small chat call and a small
    embeddings call through the proxy and their events read back (the modules and caches a
    first call loads), then the resident size steady for half a second (the tokenizer
    warm-up thread loads its files after /healthz answers; on a loaded machine it was still
    at it when the measurement began, and its tens of MB were counted as the body's)."""
    headers = {"Authorization": f"Bearer {OPENAI_KEY}"}
    for path, body in (
        (
            "chat/completions",
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        ),
        ("embeddings", {"model": "text-embedding-3-small", "input": ["x"]}),
    ):
        r = httpx.post(f"{url}/p/warm/openai/v1/{path}", json=body, headers=headers, timeout=60)
        assert r.status_code == 200, r.text[:200]
    _events(url, token, "warm", 2)
    deadline = time.monotonic() + 30
    last = _status_mb(pid, "VmRSS")
    steady = 0
    while steady < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = _status_mb(pid, "VmRSS")
        steady = steady + 1 if abs(now - last) < 0.5 else 0
        last = now
    return _now_mb(pid)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int, str, FakeUpstream]]:
    fake = FakeUpstream().start()
    home = tmp_path / "home"
    write_config(home, fake.url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "SPENDTRAY_HOME": str(home),
        "SPENDTRAY_PORT": str(port),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "app"),
    }
    child = spawn_spendtray("serve", env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        token = (home / "token").read_text().strip()
        yield url, child.pid, token, fake
    finally:
        child.terminate()
        child.wait(20)
        fake.stop()


def _events(url: str, token: str, project: str, n: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        while True:
            events = c.get("/v1/usage", params={"project": project}).json()["events"]
            if len(events) >= n or time.monotonic() > deadline:
                return list(events)
            time.sleep(0.05)


def test_a_huge_json_request_is_not_parsed_into_memory(
    served: tuple[str, int, str, FakeUpstream],
) -> None:
    url, pid, token, _ = served
    # A long conversation: 600,000 short messages, as many small JSON values as a 40 MB body
    # holds (parsed, each is a dict and two strings).
    messages = [{"role": "user", "content": f"m{i}"} for i in range(600_000)]
    body = json.dumps({"model": "gpt-4o-mini", "messages": messages}).encode()
    del messages
    assert len(body) > 20 * MB
    before = _settled_mb(url, pid, token)
    r = httpx.post(
        f"{url}/p/big/openai/v1/chat/completions",
        content=body,
        headers={"Authorization": f"Bearer {OPENAI_KEY}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 200, r.text[:200]
    growth = _peak_mb(pid) - before
    # The body is held as bytes (and a copy in flight); parsed, it took ten times its size.
    print(f"request: {len(body) / MB:.0f} MB body, peak grew {growth:.0f} MB")
    assert growth < 4 * len(body) / MB, f"the server's peak memory grew by {growth:.0f} MB"
    [event] = _events(url, token, "big", 1)
    assert event["model"] == "gpt-4o-mini"
    assert event["input_tokens"] == 1200


def test_a_huge_embeddings_response_is_read_for_usage_only(
    served: tuple[str, int, str, FakeUpstream],
) -> None:
    url, pid, token, fake = served
    vectors = [
        {"object": "embedding", "index": i, "embedding": [0.001] * 1536} for i in range(2048)
    ]
    reply = json.dumps(
        {
            "object": "list",
            "data": vectors,
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 16384, "total_tokens": 16384},
        }
    ).encode()
    assert len(reply) > 20 * MB

    def answer(got: Received) -> Response:
        return Response(reply, media_type="application/json", headers={"x-request-id": "emb-1"})

    before = _settled_mb(url, pid, token)
    fake.push(answer)
    r = httpx.post(
        f"{url}/p/embed/openai/v1/embeddings",
        json={"model": "text-embedding-3-small", "input": ["x"] * 2048},
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        timeout=60,
    )
    assert r.status_code == 200
    assert len(r.content) == len(reply)
    [event] = _events(url, token, "embed", 1)
    growth = _peak_mb(pid) - before
    print(f"response: {len(reply) / MB:.0f} MB body, peak grew {growth:.0f} MB")
    # Parsed whole it grew ~9x the body (184 MB for 21 MB); now the copy and the chunks.
    assert growth < 4 * len(reply) / MB, f"the server's peak memory grew by {growth:.0f} MB"
    assert event["model"] == "text-embedding-3-small"
    assert event["input_tokens"] == 16384
