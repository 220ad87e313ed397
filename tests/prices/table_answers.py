"""Shared by the price-table tests (``test_table_cache``, ``test_seed_table``): a saved price
table answers exactly as a freshly loaded book, to the byte and the nano-dollar, on the days
around every date a key's price changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from spendtray.prices.book import PriceBook
from spendtray.prices.calc import PricingError, TokenCounts
from spendtray.prices.table_cache import PriceTable

PriceKey = tuple[str, str | None, str | None, bool]
_DAY_MS = 86_400_000
COUNTS = (
    TokenCounts(input_tokens=1000, output_tokens=200),
    TokenCounts(input_tokens=250_000, output_tokens=4000, cache_read_tokens=100_000),
    TokenCounts(
        input_tokens=90_000,
        output_tokens=3000,
        cache_read_tokens=20_000,
        cache_write_tokens=9000,
        cache_write_5m_tokens=4000,
        cache_write_1h_tokens=5000,
        reasoning_tokens=700,
    ),
    TokenCounts(
        input_tokens=250_000,
        output_tokens=4000,
        cache_read_tokens=100_000,
        cache_write_tokens=9000,
        cache_write_5m_tokens=4000,
        cache_write_1h_tokens=5000,
        reasoning_tokens=700,
    ),
)


def _cost(found: object, counts: TokenCounts) -> object:
    if isinstance(found, str):
        return found
    try:
        return found.cost_nanos(counts)  # type: ignore[attr-defined]
    except PricingError as exc:
        return f"PricingError: {exc}"


def same(live: object, cached: object) -> None:
    """The two answers of ``price_at`` (a price or the reason there is none) are equal."""
    assert type(live) is type(cached)
    if isinstance(live, str):
        assert live == cached
        return
    assert live.stored_fields == cached.stored_fields  # type: ignore[attr-defined]
    assert live.provider_id == cached.provider_id  # type: ignore[attr-defined]
    assert live.unit_prices_json() == cached.unit_prices_json()  # type: ignore[attr-defined]
    assert live.tier_thresholds == cached.tier_thresholds  # type: ignore[attr-defined]
    for counts in COUNTS:
        assert _cost(live, counts) == _cost(cached, counts)


def _days(book: PriceBook, key: PriceKey) -> list[dt.date]:
    """Days around every date this key's price changes on, and a few others."""
    days = {dt.date(2023, 1, 1), dt.date(2025, 6, 15), dt.date(2026, 12, 6)}
    found = book.timeline(*key)
    if isinstance(found, list):
        for first, _ in found:
            if first is not None:
                days |= {first - dt.timedelta(days=1), first, first + dt.timedelta(days=1)}
    return sorted(days)


def compare(table: PriceTable, keys: Sequence[PriceKey], user_file: Path | None = None) -> int:
    """``same`` for each key on each of its days, the table against a book loaded from the
    shipped files (and ``user_file``); how many answers were compared. A key the table lacks
    must be one kept out on purpose (a price by the time of day)."""
    builder = PriceBook.load(user_file=user_file)
    compared = 0
    for key in keys:
        live_book = PriceBook.load(user_file=user_file)  # nothing cached from other keys
        for day in _days(builder, key):
            # A time in the day's afternoon: the table was resolved at midnight.
            when = dt.datetime.combine(day, dt.time(15, 30), dt.UTC)
            when_ms = int(when.timestamp() * 1000)
            model, provider, tier, batch = key
            live = live_book.price_at(model, provider, when, when_ms, tier, batch)
            cached = table.lookup(model, provider, tier, batch, when_ms // _DAY_MS)
            if cached is None:
                assert builder.timeline(*key) is None  # kept out of the table on purpose
                continue
            same(live, cached)
            compared += 1
    return compared
