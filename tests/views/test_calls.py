"""Recent calls as text: failures and missing usage never read like a free success."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from spendtray.views.calls import call_columns, call_status, cost_text, http_code

UTC = ZoneInfo("UTC")


def _event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "timestamp": "2026-12-06T10:00:00Z",
        "project": "acme",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "source": "proxy",
        "agent": None,
        "input_tokens": 1200,
        "output_tokens": 300,
        "cache_read_tokens": 1024,
        "cost_usd": 0.000387,
        "priced": True,
        "unpriced_reason": None,
        "price": {"source": "genai-prices"},
        "status": "ok",
        "tags": None,
    }
    event.update(fields)
    return event


@pytest.mark.parametrize(
    ("fields", "text", "tone"),
    [
        ({}, "ok", None),
        ({"status": None}, "ok", None),
        ({"status": "200"}, "ok", None),
        ({"status": "error 429", "cost_usd": 0.0}, "429 rate limited", "error"),
        ({"status": "429"}, "429 rate limited", "error"),
        ({"status": "503 Service Unavailable"}, "503 unavailable", "error"),
        ({"status": "error 418"}, "418 client error", "error"),
        ({"status": "client closed"}, "client closed", "error"),
        ({"status": "upstream unreachable"}, "upstream unreachable", "error"),
        ({"status": "stream error: overloaded"}, "stream error: overloaded", "error"),
        ({"tags": {"usage": "missing"}, "priced": False}, "usage missing", "warning"),
        ({"priced": False, "unpriced_reason": "no price for x"}, "unpriced", "warning"),
    ],
)
def test_status_says_what_happened(fields: dict[str, Any], text: str, tone: str | None) -> None:
    status = call_status(_event(**fields))
    assert (status.text, status.tone) == (text, tone)
    assert status.tip


def test_http_code_reads_the_shapes_sources_send() -> None:
    assert [http_code(s) for s in ("429", "error 429", "404 Not Found", "ok", "4290")] == [
        429,
        429,
        404,
        None,
        None,
    ]


def test_cost_of_a_call_without_usage_is_unknown_not_zero() -> None:
    assert cost_text(_event(tags={"usage": "missing"}, priced=False, cost_usd=None), 2) == (
        "unknown"
    )
    assert cost_text(_event(priced=False, cost_usd=None), 2) == "unpriced"
    assert cost_text(_event(), 2) == "$0.000387"
    failed = _event(status="client closed", input_tokens=0, output_tokens=0, cost_usd=0.0)
    assert cost_text(failed, 2) == "—"
    assert cost_text(_event(status="client closed", cost_usd=0.0002), 2) == "$0.0002"


def test_columns_read_a_row_with_status_and_source() -> None:
    now = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
    columns = call_columns(UTC, lambda: now, lambda: 2)
    titles = [c.title for c in columns]
    assert titles[:2] == ["Time", "Status"] and "Source" in titles and "Cached" in titles
    failed = _event(status="error 429", cost_usd=0.0)
    texts = {c.title: c.text(failed) for c in columns}
    assert texts["Status"] == "429 rate limited"
    assert texts["Source"] == "proxy"
    assert texts["Time"] == "10:00:00"
    assert texts["Cached"] == "1,024"
    tones = {c.title: c.tone(failed) for c in columns if c.tone is not None}
    assert tones == {"Status": "error", "Cost": "error"}
    older = _event(timestamp="2026-11-03T15:04:05Z")
    assert columns[0].text(older) == "Nov 3, 15:04"
