"""Canonical event validation and provider usage normalisation (SPEC §5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from spendtray.ingest.event import MAX_TOKENS, EventError, normalize_event

NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)


def norm(raw: dict[str, Any]) -> Any:
    return normalize_event(raw, NOW)


def test_anthropic_input_excludes_cache_so_total_adds_them() -> None:
    e = norm(
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 2000,
                "cache_read_input_tokens": 5000,
                "output_tokens": 300,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 500,
                    "ephemeral_1h_input_tokens": 1500,
                },
            },
        }
    )
    c = e.counts
    assert (c.input_tokens, c.cache_read_tokens, c.cache_write_tokens) == (7010, 5000, 2000)
    assert (c.cache_write_5m_tokens, c.cache_write_1h_tokens, c.output_tokens) == (500, 1500, 300)
    assert e.raw_usage is not None and e.raw_usage["input_tokens"] == 10


def test_openai_chat_usage_includes_cache_and_reasoning() -> None:
    e = norm(
        {
            "model": "o3",
            "usage": {
                "prompt_tokens": 1200,
                "completion_tokens": 800,
                "prompt_tokens_details": {"cached_tokens": 1000},
                "completion_tokens_details": {"reasoning_tokens": 600},
            },
        }
    )
    assert e.provider == "openai"
    c = e.counts
    assert (c.input_tokens, c.cache_read_tokens, c.output_tokens, c.reasoning_tokens) == (
        1200,
        1000,
        800,
        600,
    )


def test_openai_responses_usage() -> None:
    e = norm(
        {
            "provider": "openai",
            "model": "gpt-5",
            "usage": {
                "input_tokens": 900,
                "input_tokens_details": {"cached_tokens": 100},
                "output_tokens": 50,
                "output_tokens_details": {"reasoning_tokens": 20},
            },
        }
    )
    c = e.counts
    assert (c.input_tokens, c.cache_read_tokens, c.output_tokens, c.reasoning_tokens) == (
        900,
        100,
        50,
        20,
    )


def test_gemini_response_body() -> None:
    e = norm(
        {
            "provider": "google",
            "response": {
                "modelVersion": "gemini-2.5-pro",
                "responseId": "abc",
                "usageMetadata": {
                    "promptTokenCount": 100,
                    "candidatesTokenCount": 10,
                    "thoughtsTokenCount": 30,
                    "cachedContentTokenCount": 40,
                },
                "candidates": [{"content": {"parts": [{"text": "never stored"}]}}],
            },
        }
    )
    assert e.model == "gemini-2.5-pro" and e.request_id == "abc"
    assert (e.counts.input_tokens, e.counts.output_tokens, e.counts.reasoning_tokens) == (
        100,
        40,
        30,
    )
    assert "never stored" not in repr(e.raw_usage)


def test_whole_openai_response_takes_model_and_id() -> None:
    e = norm(
        {
            "provider": "openai",
            "response": {
                "id": "chatcmpl-1",
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"message": {"content": "secret text"}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 7},
            },
        }
    )
    assert (e.model, e.request_id, e.counts.output_tokens) == (
        "gpt-4o-mini-2024-07-18",
        "chatcmpl-1",
        7,
    )
    assert "secret text" not in repr(e.raw_usage)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"input_tokens": 1}, "model"),
        ({"model": "gpt-4o", "input_tokens": -1}, "input_tokens"),
        ({"model": "gpt-4o", "input_tokens": 1.5}, "input_tokens"),
        ({"model": "gpt-4o", "input_tokens": "12"}, "input_tokens"),
        ({"model": "gpt-4o", "output_tokens": True}, "output_tokens"),
        ({"model": "gpt-4o", "input_tokens": 10, "cache_read_tokens": 11}, "input_tokens"),
        ({"model": "gpt-4o", "output_tokens": 1, "reasoning_tokens": 2}, "reasoning_tokens"),
        ({"model": "gpt-4o", "timestamp": "yesterday-ish"}, "timestamp"),
        ({"model": "gpt-4o", "timestamp": 12345}, "timestamp"),
        ({"model": "gpt-4o", "timestamp": "2030-01-01T00:00:00Z"}, "timestamp"),
        ({"model": "gpt-4o", "cost_usd": "NaN"}, "cost_usd"),
        ({"model": "gpt-4o", "cost_usd": -1}, "cost_usd"),
        ({"model": "gpt-4o", "tags": ["a"]}, "tags"),
        ({"model": "gpt-4o", "input_token": 5}, "input_token"),
        ({"model": "gpt-4o", "usage": {"foo": 1}}, "usage"),
        ({"model": "gpt-4o", "usage": {"prompt_tokens": -3}}, "usage.prompt_tokens"),
        ({"model": "x" * 300}, "model"),
        ({"model": "gpt-4o", "batch": "yes"}, "batch"),
    ],
)
def test_bad_fields_are_named(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(EventError) as info:
        norm(raw)
    assert info.value.field == field


def test_timestamps_iso_epoch_and_default() -> None:
    assert norm({"model": "gpt-4o"}).timestamp == NOW
    assert norm({"model": "gpt-4o", "timestamp": 1_763_000_000}).timestamp.year == 2025
    assert norm({"model": "gpt-4o", "timestamp": 1_763_000_000_000}).timestamp.year == 2025
    local = norm({"model": "gpt-4o", "timestamp": "2026-11-22T09:00:00+09:00"}).timestamp
    assert local == dt.datetime(2026, 11, 22, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        # Python callers (importers, receivers) can pass ints too big for a float.
        ("timestamp", 10**400, "out of range"),
        ("timestamp", 1e300, "out of range"),
        ("latency_ms", 10**400, "implausibly large"),
        ("latency_ms", float("nan"), "milliseconds"),
        ("input_tokens", 10**400, "implausibly large"),
        ("output_tokens", MAX_TOKENS + 1, "implausibly large"),
        ("cache_read_tokens", -1, "must be ≥ 0"),
    ],
)
def test_huge_numbers_are_named_errors(field: str, value: Any, problem: str) -> None:
    with pytest.raises(EventError) as info:
        norm({"model": "gpt-4o", field: value})
    assert info.value.field == field
    assert problem in info.value.problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (True, "milliseconds"),
        (-1, "milliseconds"),
        (-0.5, "milliseconds"),
        (float("inf"), "milliseconds"),
        ("1500", "milliseconds"),
        (10**12 + 1, "implausibly large"),
        (1e12 + 0.5, "implausibly large"),
    ],
)
def test_a_latency_not_a_plausible_number_of_milliseconds_is_refused(
    value: Any, problem: str
) -> None:
    with pytest.raises(EventError) as info:
        norm({"model": "gpt-4o", "latency_ms": value})
    assert info.value.field == "latency_ms"
    assert problem in info.value.problem


def test_latencies_are_kept_as_milliseconds() -> None:
    for value in (0, 1500, 2.5, 10**12, 1e12):
        assert norm({"model": "gpt-4o", "latency_ms": value}).latency_ms == float(value)


def test_the_largest_plausible_count_is_kept() -> None:
    e = norm({"model": "gpt-4o", "input_tokens": MAX_TOKENS, "output_tokens": MAX_TOKENS})
    assert (e.counts.input_tokens, e.counts.output_tokens) == (MAX_TOKENS, MAX_TOKENS)


def test_reported_cost_is_kept_exactly() -> None:
    e = norm({"model": "gpt-4o", "cost_usd": 0.1})
    assert e.reported_cost_nanos == 100_000_000
