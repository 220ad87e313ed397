"""The ingest shortcuts in the price code answer exactly what the general code answers:
``CompiledPrice.cost_nanos`` (a precomputed plan) against the costing it replaced, including
the usages it refuses, and ``PriceBook.price_at`` (a cached look-up by day or minute) against
``PriceBook.resolve``."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from genai_prices.data_snapshot import get_snapshot

from sharedkit import reference_cost
from spendtray.prices.book import PriceBook, ResolvedPrice, UnknownModel
from spendtray.prices.calc import CompiledPrice, PricingError, TokenCounts

WHEN = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def _outcome(cost: Callable[[TokenCounts], int], counts: TokenCounts) -> tuple[str, object]:
    try:
        return "cost", cost(counts)
    except PricingError as exc:
        return "refused", str(exc)


def _counts(rng: random.Random) -> TokenCounts:
    # Not only consistent usage: parts larger than their totals must be refused the same way.
    def n() -> int:
        return rng.choice([0, 0, 1, rng.randint(0, 5000), rng.randint(0, 400_000)])

    return TokenCounts(n(), n(), n(), n(), n(), n(), n())


@pytest.mark.slow
def test_cost_plan_matches_the_step_by_step_costing_over_the_catalogue() -> None:
    rng = random.Random(11)
    costed = refused = 0
    for provider in get_snapshot().providers:
        for model in provider.models:
            for context in (None, {"processing": "batch"}):
                compiled = CompiledPrice(model.get_prices(WHEN, context))
                # Prompts on either side of each tier's start, where the rate changes.
                edges = [
                    TokenCounts(start + d, 1000, 1000)
                    for start in compiled.tier_thresholds()
                    for d in (0, 1)
                ]
                for counts in [*edges, *(_counts(rng) for _ in range(6))]:
                    got = _outcome(compiled.cost_nanos, counts)
                    want = _outcome(partial(reference_cost, compiled), counts)
                    assert got == want, (provider.id, model.id, context, counts)
                    costed += got[0] == "cost"
                    refused += got[0] == "refused"
    assert costed > 1000 and refused > 1000, (costed, refused)


def test_token_counts_keep_their_dataclass_behaviour() -> None:
    a = TokenCounts(1, 2, reasoning_tokens=3)
    assert a == TokenCounts(1, 2, 0, 0, 0, 0, 3) and hash(a) == hash(
        TokenCounts(1, 2, 0, 0, 0, 0, 3)
    )
    assert TokenCounts() == TokenCounts(0, 0, 0, 0, 0, 0, 0)
    assert a.reasoning_tokens == 3 and a.cache_write_1h_tokens == 0
    with pytest.raises(AttributeError):
        a.input_tokens = 5  # type: ignore[misc]


def _reference(book: PriceBook, model: str, when: dt.datetime, **kw: object) -> object:
    try:
        return book.resolve(model, None, when, **kw)  # type: ignore[arg-type]
    except UnknownModel as exc:
        return exc.reason


@pytest.mark.parametrize(
    "when",
    [
        WHEN,
        dt.datetime(2026, 11, 1, 0, 29, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 1, 16, 29, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 1, 16, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 2, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo")),
        dt.datetime(2026, 11, 1, 8, 30, tzinfo=ZoneInfo("UTC")),
        dt.datetime(2026, 11, 1, 8, 30),
    ],
)
def test_price_at_answers_what_resolve_answers(when: dt.datetime) -> None:
    fast, general = PriceBook.load(), PriceBook.load()
    when_ms = int(when.timestamp() * 1000)
    for model in ("gpt-4o", "deepseek-chat", "claude-sonnet-4-5", "no-such-model-x"):
        for tier, batch in ((None, False), ("flex", False), (None, True), ("batch", False)):
            for _ in range(2):  # the second answer comes from the cache
                got = fast.price_at(model, None, when, when_ms, tier, batch)
                want = _reference(general, model, when, service_tier=tier, batch=batch)
                if isinstance(want, ResolvedPrice):
                    assert isinstance(got, ResolvedPrice), (model, tier, batch, got)
                    assert (got.compiled.unit_prices(), got.stored_fields) == (
                        want.compiled.unit_prices(),
                        want.stored_fields,
                    ), (model, tier, batch)
                else:
                    assert got == want


def test_off_peak_prices_change_within_a_day() -> None:
    """The minute cache is what keeps deepseek's off-peak rate: the day cache alone would
    serve the first price of the day all day."""
    book = PriceBook.load()
    counts = TokenCounts(input_tokens=10**6)
    costs = set()
    for hour in (8, 20):
        when = dt.datetime(2026, 11, 1, hour, tzinfo=dt.UTC)
        price = book.price_at("deepseek-chat", None, when, int(when.timestamp() * 1000))
        assert isinstance(price, ResolvedPrice)
        costs.add(price.cost_nanos(counts))
    assert len(costs) == 2


def _at(day: str) -> tuple[dt.datetime, int]:
    when = dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.UTC)
    return when, int(when.timestamp() * 1000)


def test_days_of_one_price_share_one_compiled_price_and_a_change_is_kept() -> None:
    """A first import prices calls over hundreds of days: each day's look-up gives the price
    compiled for an earlier day when it did not change, and a new one where it did (o3's
    price changed on 2025-06-10), each equal to what a fresh book resolves for that day."""
    book = PriceBook.load()
    before = [book.price_at("o3", "openai", *_at(day)) for day in ("2025-05-01", "2025-06-09")]
    after = [book.price_at("o3", "openai", *_at(day)) for day in ("2025-06-10", "2025-11-30")]
    for day, price in zip(
        ("2025-05-01", "2025-06-09", "2025-06-10", "2025-11-30"), before + after, strict=True
    ):
        assert isinstance(price, ResolvedPrice)
        want = PriceBook.load().resolve("o3", "openai", _at(day)[0])
        assert (price.compiled.unit_prices(), price.stored_fields) == (
            want.compiled.unit_prices(),
            want.stored_fields,
        ), day
    assert before[0] is before[1] and after[0] is after[1]
    assert before[0] is not after[0]
    assert before[0].unit_prices != after[0].unit_prices
