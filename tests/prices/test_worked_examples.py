"""Worked examples from the providers' published rules, checked against genai-prices.

Each expected figure is computed by hand from the unit prices the engine reports, so a test
fails if either our rule or the engine's data changes under us.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from genai_prices import calc_price

from spendtray.prices.book import PriceBook, TokenCounts
from spendtray.prices.calc import to_nanos

WHEN = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def book() -> PriceBook:
    return PriceBook.load(user_file=None)


def engine_nanos(
    model: str, provider: str, counts: TokenCounts, context: dict[str, str] | None = None
) -> int:
    result = calc_price(
        counts.engine_usage(),
        model,
        provider_id=provider,
        genai_request_timestamp=WHEN,
        price_context=context,
    )
    return to_nanos(result.total_price)


def test_openai_cached_input_is_billed_at_the_cache_rate() -> None:
    # gpt-4o: $2.50 input, $1.25 cached input, $10 output per million.
    counts = TokenCounts(input_tokens=10_000, cache_read_tokens=4_000, output_tokens=1_000)
    price = book().resolve("gpt-4o-2024-08-06", "openai", WHEN)
    up = price.unit_prices
    expected = (
        6_000 * up["input_mtok"] + 4_000 * up["cache_read_mtok"] + 1_000 * up["output_mtok"]
    ) / 10**6
    assert price.cost_nanos(counts) == to_nanos(expected)
    assert price.cost_nanos(counts) == engine_nanos("gpt-4o", "openai", counts)
    assert price.cost_nanos(counts) == to_nanos(Decimal("0.0300"))  # 0.015 + 0.005 + 0.010


def test_anthropic_5m_and_1h_cache_writes_are_priced_apart() -> None:
    # claude-sonnet-4-5: $3 input, $3.75 5-minute write, $6 1-hour write, $0.30 read, $15 out.
    counts = TokenCounts(
        input_tokens=10 + 2_000 + 5_000,
        cache_read_tokens=5_000,
        cache_write_tokens=2_000,
        cache_write_5m_tokens=500,
        cache_write_1h_tokens=1_500,
        output_tokens=300,
    )
    price = book().resolve("claude-sonnet-4-5-20250929", "anthropic", WHEN)
    expected = (
        Decimal("0.00003")
        + Decimal("0.0015")
        + Decimal("0.001875")
        + Decimal("0.009")
        + Decimal("0.0045")
    )
    assert price.cost_nanos(counts) == to_nanos(expected)
    assert price.cost_nanos(counts) == engine_nanos("claude-sonnet-4-5", "anthropic", counts)


def test_reasoning_is_billed_as_output() -> None:
    plain = TokenCounts(input_tokens=1_000, output_tokens=5_000)
    reasoning = TokenCounts(input_tokens=1_000, output_tokens=5_000, reasoning_tokens=4_000)
    price = book().resolve("o3", "openai", WHEN)
    assert price.cost_nanos(reasoning) == price.cost_nanos(plain)
    assert price.cost_nanos(reasoning) == engine_nanos("o3", "openai", reasoning)


def test_long_context_tier_is_a_cliff_on_the_whole_prompt() -> None:
    price = book().resolve("claude-sonnet-4-5", "anthropic", WHEN)
    assert 200_000 in price.tier_thresholds
    at = TokenCounts(input_tokens=200_000, output_tokens=1_000)
    over = TokenCounts(input_tokens=200_001, output_tokens=1_000)
    # At the threshold: $3/M in, $15/M out. One token over: every token at $6 / $22.50.
    assert price.cost_nanos(at) == to_nanos(Decimal("0.6") + Decimal("0.015"))
    assert price.cost_nanos(over) == to_nanos(
        Decimal(200_001) * 6 / 10**6 + Decimal(1_000) * Decimal("22.5") / 10**6
    )
    assert price.cost_nanos(over) == engine_nanos("claude-sonnet-4-5", "anthropic", over)


def test_batch_is_half_price_where_the_provider_says_so() -> None:
    counts = TokenCounts(input_tokens=100_000, output_tokens=10_000)
    b = book()
    standard = b.resolve("gpt-4o", "openai", WHEN)
    batch = b.resolve("gpt-4o", "openai", WHEN, batch=True)
    assert batch.price_context == "batch"
    assert batch.cost_nanos(counts) * 2 == standard.cost_nanos(counts)
    assert batch.cost_nanos(counts) == engine_nanos(
        "gpt-4o", "openai", counts, {"processing": "batch"}
    )


def test_gemini_thoughts_count_as_output() -> None:
    from spendtray.ingest.provider_usage import gemini_tokens

    tokens = gemini_tokens(
        {
            "promptTokenCount": 1200,
            "cachedContentTokenCount": 200,
            "candidatesTokenCount": 300,
            "thoughtsTokenCount": 700,
        }
    )
    counts = TokenCounts(**tokens)
    assert counts.output_tokens == 1000 and counts.reasoning_tokens == 700
    price = book().resolve("gemini-2.5-flash", "google", WHEN)
    assert price.cost_nanos(counts) == engine_nanos("gemini-2.5-flash", "google", counts)
