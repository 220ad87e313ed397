"""The what-if's fallback: price distinct stored token tuples in Python, minute by minute.

Any thread but the GUI's. Used for prices the SQL plan cannot express exactly (rates with more
decimals than 64-bit femto-dollars hold) and for prices that change with the time of day, so it
resolves the target's price for every minute that has events. SQLite groups identical token
tuples within a minute, and equal prices in different minutes share one cost memo, so each
distinct (tuple, price) pair is costed once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from spendtray.prices.book import PriceBook, ResolvedPrice, TokenCounts, UnknownModel
from spendtray.prices.calc import PricingError
from spendtray.store.history import Selection

_MS_PER_MINUTE = 60_000


@dataclass
class Tally:
    """One target's running what-if figures."""

    cost: int = 0
    unpriceable: int = 0
    crossed: int = 0
    over: int = 0

    def add(self, cost: int, unpriceable: int, crossed: int, over: int) -> None:
        self.cost += cost
        self.unpriceable += unpriceable
        self.crossed += crossed
        self.over += over


def price_signature(price: ResolvedPrice) -> tuple[Any, ...]:
    """Equal for two resolutions that cost every usage the same."""
    return (price.model_id, price.provider_id, repr(sorted(price.unit_prices.items())))


class _MinutePrices:
    """The target's price per (minute, batch, service tier), one object per distinct price."""

    def __init__(self, book: PriceBook, target: str) -> None:
        self.book = book
        self.target = target
        self._by_slot: dict[tuple[int, int, str | None], ResolvedPrice | None] = {}
        self._canonical: dict[tuple[Any, ...], ResolvedPrice] = {}

    def at(self, minute: int, batch: int, tier: str | None) -> ResolvedPrice | None:
        """None where the target had no price in force (a price entry that starts later)."""
        slot = (minute, batch, tier)
        if slot in self._by_slot:
            return self._by_slot[slot]
        when = dt.datetime.fromtimestamp(minute * 60, dt.UTC)
        price: ResolvedPrice | None
        try:
            resolved = self.book.resolve(
                self.target, None, when, service_tier=tier, batch=bool(batch)
            )
        except UnknownModel:
            price = None
        else:
            price = self._canonical.setdefault(price_signature(resolved), resolved)
        self._by_slot[slot] = price
        return price


def tally_rowwise(
    selection: Selection,
    targets: dict[str, ResolvedPrice],
    book: PriceBook,
    tallies: dict[str, Tally],
) -> None:
    """Adds the selected events priced in Python on each of ``targets`` (name -> price now)."""
    prices = {name: _MinutePrices(book, name) for name in targets}
    memo: dict[tuple[int, tuple[int, ...]], int | None] = {}
    for row in selection.grouped_usage():
        counts: tuple[int, ...] = row[:7]
        n = row[10]
        for name, current in targets.items():
            price = prices[name].at(row[9], row[7], row[8])
            if price is None:
                tallies[name].add(0, n, 0, 0)
                continue
            key = (id(price), counts)
            if key in memo:
                cost = memo[key]
            else:
                try:
                    cost = price.cost_nanos(TokenCounts(*counts))
                except PricingError:
                    cost = None
                memo[key] = cost
            thresholds = price.tier_thresholds
            window = current.context_window
            tallies[name].add(
                0 if cost is None else cost * n,
                n if cost is None else 0,
                n if thresholds and counts[0] > thresholds[0] else 0,
                n if window is not None and counts[0] + counts[1] > window else 0,
            )
