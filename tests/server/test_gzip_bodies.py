"""gzip request bodies against the real server: `POST /v1/usage` takes them like the
receivers do, and a body of countless empty gzip members is refused at once."""

from __future__ import annotations

import gzip
import json
import time

import httpx
import pytest


def test_usage_takes_a_gzip_body(client: httpx.Client) -> None:
    events = [
        {"model": "gpt-4o-mini", "input_tokens": 10 + i, "output_tokens": 1} for i in range(3)
    ]
    r = client.post(
        "/v1/usage",
        content=gzip.compress(json.dumps(events).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 3


@pytest.mark.parametrize(
    ("path", "media"),
    [("/v1/usage", "application/json"), ("/v1/traces", "application/json")],
)
def test_many_gzip_members_are_refused_quickly(client: httpx.Client, path: str, media: str) -> None:
    empty_member = gzip.compress(b"")
    body = empty_member * (10 * 1024 * 1024 // len(empty_member))  # ~500,000 members, 10 MB
    started = time.monotonic()
    r = client.post(path, content=body, headers={"Content-Type": media, "Content-Encoding": "gzip"})
    assert r.status_code == 400, r.text
    assert "members" in r.json()["error"]["message"]
    assert time.monotonic() - started < 5
