"""Deeply nested JSON is a 400 on every JSON route of the real server (it was a 500 on the
estimator, budgets, traces and the proxy), and a real 500 is logged with its traceback."""

from __future__ import annotations

import logging

import httpx
import pytest

from spendtray.core import Core

DEPTH = 30_000  # deeper than Python's recursion limit, within the budgets' 64 KB body limit
NESTED = b"[" * DEPTH + b"]" * DEPTH
IN_A_FIELD = b'{"model":"gpt-4o","messages":' + NESTED + b"}"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/usage", NESTED),
        ("POST", "/v1/usage", b'{"events":[' + IN_A_FIELD + b"]}"),
        ("POST", "/v1/estimate", IN_A_FIELD),
        ("PUT", "/v1/budgets/acme", b'{"period":' + NESTED + b"}"),
        ("POST", "/v1/traces", NESTED),
        ("POST", "/v1/integrations/litellm", NESTED),
        ("POST", "/v1/limits", NESTED),
        ("POST", "/v1/statusline", NESTED),
        ("POST", "/p/acme/openai/v1/chat/completions", IN_A_FIELD),
    ],
)
def test_nested_json_is_a_400(client: httpx.Client, method: str, path: str, body: bytes) -> None:
    r = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (path, r.status_code, r.text[:200])
    assert "nested" in r.text or "not valid JSON" in r.text or "must be" in r.text


def test_a_500_reaches_the_log(
    core: Core,
    client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the summary")

    monkeypatch.setattr(core.reader, "summary", broken)
    with caplog.at_level(logging.ERROR, logger="spendtray"):
        r = client.get("/v1/summary")
    assert r.status_code == 500
    assert "see the spendtray log" in r.json()["error"]["message"]
    assert "GET /v1/summary failed" in caplog.text
    assert "a bug in the summary" in caplog.text
