"""Costing: agreement with the price engine, order, context fit, tiers and the what-ifs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from spendtray.estimator.chat import InvalidMessages
from spendtray.estimator.counting import count_tokens
from spendtray.estimator.estimate import (
    DEFAULT_OUTPUT_TOKENS,
    EstimateError,
    EstimateResult,
    estimate,
)
from spendtray.prices.book import PriceBook, TokenCounts

WHEN = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
PROMPT = "Translate the following release notes into French, keeping the markdown.\n" * 40
MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "gemini-2.5-pro",
    "deepseek-chat",
]


def _by_model(results: list[EstimateResult]) -> dict[str, EstimateResult]:
    return {r.model: r for r in results}


def test_costs_agree_with_the_price_engine(book: PriceBook) -> None:
    results = estimate(PROMPT, MODELS, 700, book=book, calls=3, when=WHEN)
    assert [r.model for r in results] != [] and {r.model for r in results} == set(MODELS)
    for result in results:
        price = book.resolve(result.model, when=WHEN)
        assert result.input_tokens == count_tokens(PROMPT, result.model, price.provider_id).tokens
        per_call = price.cost_nanos(
            TokenCounts(input_tokens=result.input_tokens, output_tokens=700)
        )
        input_only = price.cost_nanos(TokenCounts(input_tokens=result.input_tokens))
        assert result.per_call_cost_nanos == per_call
        assert result.total_cost_nanos == per_call * 3
        assert result.input_cost_nanos == input_only * 3
        assert result.output_cost_nanos == (per_call - input_only) * 3
        assert result.provider == price.provider_id
        assert result.model_id == price.model_id
        assert result.context_window == price.context_window
        assert result.price_source == price.source


def test_gpt4o_cost_by_hand(book: PriceBook) -> None:
    """$2.50 / $10 per million tokens for gpt-4o in the shipped price data."""
    price = book.resolve("gpt-4o", when=WHEN)
    assert price.unit_prices["input_mtok"] == Decimal("2.5")
    assert price.unit_prices["output_mtok"] == Decimal("10")
    (result,) = estimate("hello world", ["gpt-4o"], 1_000, book=book, when=WHEN)
    assert result.input_tokens == 2 and result.exact
    assert result.input_cost_nanos == 2 * 2_500
    assert result.output_cost_nanos == 1_000 * 10_000
    assert result.to_dict()["total_cost_usd"] == pytest.approx(0.010005)


def test_user_override_from_the_book_is_used(tmp_path: Path) -> None:
    user_file = tmp_path / "prices.toml"
    user_file.write_text(
        "[[model]]\n"
        'provider = "openai"\n'
        'models = ["gpt-4o"]\n'
        "input_mtok = 1\n"
        "output_mtok = 2\n"
        "checked = 2026-11-01\n"
        'source = "negotiated rate, test"\n'
    )
    book = PriceBook.load(user_file)
    (result,) = estimate("hello world", ["openai/gpt-4o"], 1_000_000, book=book, when=WHEN)
    assert result.input_cost_nanos == 2 * 1_000
    assert result.output_cost_nanos == 2 * 10**9
    assert result.price_source is not None and "negotiated rate" in result.price_source


def test_sorted_cheapest_first(book: PriceBook) -> None:
    results = estimate(PROMPT, MODELS, 500, book=book, when=WHEN)
    totals = [r.total_cost_nanos for r in results]
    assert all(t is not None for t in totals)
    assert totals == sorted(totals)  # type: ignore[type-var]
    assert results[0].model != results[-1].model


def test_unknown_model_comes_last_with_reason(book: PriceBook) -> None:
    results = estimate(PROMPT, ["no-such-model-xyz", "gpt-4o"], 100, book=book, when=WHEN)
    assert [r.model for r in results] == ["gpt-4o", "no-such-model-xyz"]
    unknown = results[-1]
    assert not unknown.priced and unknown.total_cost_nanos is None
    assert unknown.error and "no-such-model-xyz" in unknown.error
    assert unknown.input_tokens > 0 and not unknown.exact
    assert unknown.to_dict()["total_cost_usd"] is None


def test_exactness_per_vendor(book: PriceBook) -> None:
    results = _by_model(estimate(PROMPT, MODELS, 100, book=book, when=WHEN))
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4"):
        assert results[model].exact, model
    for model in ("claude-sonnet-4-5", "claude-haiku-4-5", "gemini-2.5-pro", "deepseek-chat"):
        assert not results[model].exact, model
        assert results[model].method.startswith("≈"), model


def test_fits_marks_context_overflow(book: PriceBook, stdlib_text: str) -> None:
    text = stdlib_text[:60_000]  # ~14k tokens: over gpt-4's 8k window, inside gpt-4o's 128k
    results = _by_model(estimate(text, ["gpt-4", "gpt-4o"], 1_000, book=book, when=WHEN))
    assert results["gpt-4"].context_window == 8192
    assert results["gpt-4"].fits is False
    assert results["gpt-4o"].fits is True
    window = results["gpt-4o"].context_window
    assert window is not None
    # input + output must fit, not input alone
    tokens = results["gpt-4o"].input_tokens
    (squeezed,) = estimate(text, ["gpt-4o"], window - tokens + 1, book=book, when=WHEN)
    assert squeezed.fits is False


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "gemini-2.5-pro"])
def test_long_context_tier_cliff(model: str, book: PriceBook, stdlib_text: str) -> None:
    price = book.resolve(model, when=WHEN)
    assert price.tier_thresholds == [200_000]
    (big,) = estimate(stdlib_text, [model], 1_000, book=book, when=WHEN)
    assert big.input_tokens > 200_000
    assert big.tier_crossed and big.tier_threshold == 200_000
    # a cliff: every prompt token at the long-context rate, not just the excess
    tier_rate = price.unit_prices["input_mtok"]["tiers"][0][1]
    assert big.input_cost_nanos == int(tier_rate * big.input_tokens * 1000)
    (small,) = estimate(PROMPT, [model], 1_000, book=book, when=WHEN)
    assert not small.tier_crossed and small.tier_threshold is None


def test_no_tier_on_flat_priced_model(book: PriceBook, stdlib_text: str) -> None:
    (result,) = estimate(stdlib_text, ["gpt-4.1"], 1_000, book=book, when=WHEN)
    assert result.input_tokens > 200_000
    assert not result.tier_crossed
    assert result.fits is True


def test_default_output_when_not_given(book: PriceBook) -> None:
    (result,) = estimate(PROMPT, ["gpt-4o"], None, book=book, when=WHEN)
    assert result.output_tokens == DEFAULT_OUTPUT_TOKENS
    assert result.output_assumed
    (given,) = estimate(PROMPT, ["gpt-4o"], 0, book=book, when=WHEN)
    assert given.output_tokens == 0 and not given.output_assumed
    assert given.output_cost_nanos == 0


@pytest.mark.parametrize(
    ("ttl", "write_key"), [("5m", "cache_write_mtok"), ("1h", "cache_write_1h_mtok")]
)
def test_cached_prefix_what_if(ttl: str, write_key: str, book: PriceBook) -> None:
    model = "claude-haiku-4-5"
    price = book.resolve(model, when=WHEN)
    (result,) = estimate(
        PROMPT,
        [model],
        200,
        book=book,
        calls=10,
        calls_per_day=50,
        cached_prefix_tokens=400,
        cache_ttl=ttl,  # type: ignore[arg-type]
        when=WHEN,
    )
    cached = result.cached
    assert cached is not None and f"({ttl})" in cached.label
    units = price.unit_prices
    tokens = result.input_tokens
    nanos_per_token = {k: int(v * 1000) for k, v in units.items() if k.endswith("_mtok")}
    write = (
        (tokens - 400) * nanos_per_token["input_mtok"]
        + 400 * nanos_per_token[write_key]
        + 200 * nanos_per_token["output_mtok"]
    )
    read = (
        (tokens - 400) * nanos_per_token["input_mtok"]
        + 400 * nanos_per_token["cache_read_mtok"]
        + 200 * nanos_per_token["output_mtok"]
    )
    assert cached.total_cost_nanos == write + 9 * read
    assert result.total_cost_nanos is not None
    assert cached.savings_nanos == result.total_cost_nanos - cached.total_cost_nanos
    assert cached.monthly_cost_nanos == (write + 49 * read) * 30


def test_cache_what_if_needs_a_prefix_and_a_cache_price(book: PriceBook) -> None:
    results = _by_model(
        estimate(PROMPT, ["gpt-4o", "gpt-4"], 100, book=book, cached_prefix_tokens=0, when=WHEN)
    )
    assert results["gpt-4o"].cached is None
    results = _by_model(
        estimate(PROMPT, ["gpt-4o", "gpt-4"], 100, book=book, cached_prefix_tokens=50, when=WHEN)
    )
    assert results["gpt-4o"].cached is not None
    assert results["gpt-4"].cached is None  # the price data has no cache price for gpt-4


def test_batch_what_if(book: PriceBook) -> None:
    (plain,) = estimate(PROMPT, ["gpt-4o"], 300, book=book, calls=4, when=WHEN)
    assert plain.batch is None
    (result,) = estimate(
        PROMPT, ["gpt-4o"], 300, book=book, calls=4, calls_per_day=10, batch=True, when=WHEN
    )
    assert result.batch is not None
    batch_price = book.resolve("gpt-4o", when=WHEN, batch=True)
    per_call = batch_price.cost_nanos(
        TokenCounts(input_tokens=result.input_tokens, output_tokens=300)
    )
    assert result.batch.total_cost_nanos == per_call * 4
    assert result.total_cost_nanos is not None
    assert result.batch.total_cost_nanos < result.total_cost_nanos
    assert result.batch.monthly_cost_nanos == per_call * 10 * 30


def test_monthly_projection(book: PriceBook) -> None:
    (result,) = estimate(PROMPT, ["gpt-4o"], 300, book=book, calls_per_day=2.5, when=WHEN)
    assert result.per_call_cost_nanos is not None
    assert result.monthly_cost_nanos == round(result.per_call_cost_nanos * 2.5) * 30
    (none,) = estimate(PROMPT, ["gpt-4o"], 300, book=book, when=WHEN)
    assert none.monthly_cost_nanos is None


def test_chat_messages_are_priced_with_framing(book: PriceBook) -> None:
    messages = [{"role": "user", "content": "hello world"}]
    (result,) = estimate(messages, ["gpt-4o"], 0, book=book, when=WHEN)
    assert result.input_tokens == 3 + 1 + 2 + 3  # message + "user" + "hello world" + priming
    assert result.exact


def test_to_dict_carries_the_spec_fields(book: PriceBook) -> None:
    (result,) = estimate(PROMPT, ["gpt-4o"], 100, book=book, when=WHEN)
    data = result.to_dict()
    for key in (
        "model",
        "provider",
        "input_tokens",
        "exact",
        "method",
        "input_cost_usd",
        "output_cost_usd",
        "total_cost_usd",
        "context_window",
        "fits",
    ):
        assert key in data
    assert isinstance(data["total_cost_usd"], float)
    assert data["total_cost_usd"] == pytest.approx(data["input_cost_usd"] + data["output_cost_usd"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": []}, "models"),
        ({"models": "gpt-4o"}, "models"),
        ({"models": ["gpt-4o", " "]}, "model"),
        ({"output_tokens": -1}, "output_tokens"),
        ({"calls": 0}, "calls"),
        ({"calls_per_day": float("nan")}, "calls_per_day"),
        ({"calls_per_day": -1.0}, "calls_per_day"),
        ({"cached_prefix_tokens": -5}, "cached_prefix_tokens"),
        ({"cache_ttl": "10m"}, "cache_ttl"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str, book: PriceBook) -> None:
    arguments: dict[str, object] = {"models": ["gpt-4o"], "output_tokens": 10, **kwargs}
    with pytest.raises(EstimateError, match=message):
        estimate(PROMPT, book=book, **arguments)  # type: ignore[arg-type]


def test_bad_messages(book: PriceBook) -> None:
    with pytest.raises(InvalidMessages):
        estimate([{"content": "no role"}], ["gpt-4o"], 10, book=book)
