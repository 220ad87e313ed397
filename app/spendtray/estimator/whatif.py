"""What-if on real history: stored usage re-priced as if every call had gone to another model.

Any thread but the GUI's (it reads the whole selection: about a second per million events);
the CLI, the server's thread pool and the estimator window's worker call it. Only token counts
are read, never prompt text (none is stored). Each event is priced on its own, because
long-context tiers are a cliff on each call's prompt, at the target's price in force at the
event's minute and with the event's batch / service tier, exactly as ingest would have priced
it. Events with the same token tuple in the same minute share one price, so SQLite groups them
and Python prices each distinct tuple once.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spendtray.money import nanos_to_decimal
from spendtray.prices.book import PriceBook, ResolvedPrice, TokenCounts, UnknownModel
from spendtray.prices.calc import PricingError
from spendtray.store.reader import Filters

_TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)
_MS_PER_MINUTE = 60_000


class WhatIfError(ValueError):
    """The what-if cannot run (no target model, unknown target); the text says why."""


def _usd(nanos: int) -> float:
    return float(nanos_to_decimal(nanos))


@dataclass(frozen=True)
class HistoryTotals:
    """The selected events as stored."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    actual_cost_nanos: int = 0
    """What the calls were charged as stored (priced calls only)."""
    actual_unpriced_calls: int = 0
    """Calls stored without a price: re-priced on the target but missing from the actual."""


@dataclass(frozen=True)
class TargetCost:
    """The selected events priced on one target model."""

    target: str
    """The model asked for."""
    model_id: str
    provider: str
    price_source: str
    context_window: int | None
    whatif_cost_nanos: int
    """All selected calls on ``target``, except ``unpriceable_calls``."""
    difference_nanos: int
    """What-if minus actual: negative means the target would have been cheaper."""
    unpriceable_calls: int
    """Calls the target's price cannot cost (usage inconsistent with its price units)."""
    tier_crossed_calls: int
    """Calls whose prompt is over one of the target's long-context thresholds."""
    over_context_calls: int
    """Calls whose input + output would not fit the target's context window."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "model_id": self.model_id,
            "provider": self.provider,
            "price_source": self.price_source,
            "context_window": self.context_window,
            "whatif_cost_usd": _usd(self.whatif_cost_nanos),
            "difference_usd": _usd(self.difference_nanos),
            "unpriceable_calls": self.unpriceable_calls,
            "tier_crossed_calls": self.tier_crossed_calls,
            "over_context_calls": self.over_context_calls,
        }


@dataclass(frozen=True)
class WhatIfReport:
    filters: Filters
    totals: HistoryTotals
    results: list[TargetCost]
    """Cheapest first."""
    unknown: list[tuple[str, str]]
    """(target, why it has no price) for targets that could not be priced at all."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, USD as numbers."""

        def stamp(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat().replace("+00:00", "Z")

        f, t = self.filters, self.totals
        return {
            "selection": {
                "project": f.project,
                "model": f.model,
                "provider": f.provider,
                "agent": f.agent,
                "source": f.source,
                "since": stamp(f.since),
                "until": stamp(f.until),
            },
            "calls": t.calls,
            "input_tokens": t.input_tokens,
            "output_tokens": t.output_tokens,
            "cache_read_tokens": t.cache_read_tokens,
            "cache_write_tokens": t.cache_write_tokens,
            "actual_cost_usd": _usd(t.actual_cost_nanos),
            "actual_unpriced_calls": t.actual_unpriced_calls,
            "results": [r.to_dict() for r in self.results],
            "unknown_models": [{"model": m, "reason": why} for m, why in self.unknown],
        }


def _selection_sql(filters: Filters) -> tuple[str, list[Any]]:
    where, args = filters.dimension_sql()
    clauses = [where]
    if filters.since is not None:
        clauses.append("ts >= ?")
        args.append(int(filters.since.timestamp() * 1000))
    if filters.until is not None:
        clauses.append("ts < ?")
        args.append(int(filters.until.timestamp() * 1000))
    return " AND ".join(clauses), args


class _TargetPrices:
    """The target's price per (minute, batch, service tier), one object per distinct price.

    The book builds a fresh ``ResolvedPrice`` for every minute; collapsing equal prices lets
    the per-tuple cost memo hit across minutes, which is what makes a month of history cheap.
    """

    def __init__(self, book: PriceBook, target: str) -> None:
        self.book = book
        self.target = target
        self._by_slot: dict[tuple[int, int, str | None], ResolvedPrice] = {}
        self._canonical: dict[tuple[Any, ...], ResolvedPrice] = {}

    def at(self, minute: int, batch: int, tier: str | None) -> ResolvedPrice:
        slot = (minute, batch, tier)
        price = self._by_slot.get(slot)
        if price is not None:
            return price
        when = dt.datetime.fromtimestamp(minute * 60, dt.UTC)
        resolved = self.book.resolve(self.target, None, when, service_tier=tier, batch=bool(batch))
        signature = (
            resolved.model_id,
            resolved.provider_id,
            repr(sorted(resolved.unit_prices.items())),
        )
        price = self._canonical.setdefault(signature, resolved)
        self._by_slot[slot] = price
        return price


class _Target:
    """Running what-if total for one target model."""

    def __init__(self, book: PriceBook, target: str, current: ResolvedPrice) -> None:
        self.target = target
        self.current = current
        self.prices = _TargetPrices(book, target)
        self.memo: dict[tuple[int, tuple[int, ...]], int | None] = {}
        self.cost = self.unpriceable = self.crossed = self.over = 0

    def add(
        self, counts: tuple[int, ...], minute: int, batch: int, tier: str | None, n: int
    ) -> None:
        price = self.prices.at(minute, batch, tier)
        key = (id(price), counts)
        if key in self.memo:
            cost = self.memo[key]
        else:
            try:
                cost = price.cost_nanos(TokenCounts(*counts))
            except PricingError:
                cost = None
            self.memo[key] = cost
        if cost is None:
            self.unpriceable += n
        else:
            self.cost += cost * n
        thresholds = price.tier_thresholds
        if thresholds and counts[0] > thresholds[0]:
            self.crossed += n
        window = self.current.context_window
        if window is not None and counts[0] + counts[1] > window:
            self.over += n

    def result(self, actual_nanos: int) -> TargetCost:
        return TargetCost(
            target=self.target,
            model_id=self.current.model_id,
            provider=self.current.provider_id,
            price_source=self.current.source,
            context_window=self.current.context_window,
            whatif_cost_nanos=self.cost,
            difference_nanos=self.cost - actual_nanos,
            unpriceable_calls=self.unpriceable,
            tier_crossed_calls=self.crossed,
            over_context_calls=self.over,
        )


def reprice_history(
    conn: sqlite3.Connection,
    filters: Filters,
    targets: Sequence[str],
    *,
    book: PriceBook,
) -> WhatIfReport:
    """Price the stored events matching ``filters`` as if each had been sent to each target.

    ``conn`` is a read connection to the Spendtray database (``Reader.conn()``); the events are
    read once whatever the number of targets. Targets without a known price are listed in
    ``unknown``. Raises ``WhatIfError`` when no target is given.
    """
    if isinstance(targets, str):
        targets = [targets]
    names = [t.strip() for t in targets if isinstance(t, str) and t.strip()]
    if not names:
        raise WhatIfError("the what-if needs at least one target model")
    accumulators: list[_Target] = []
    unknown: list[tuple[str, str]] = []
    for name in dict.fromkeys(names):
        try:
            accumulators.append(_Target(book, name, book.resolve(name)))
        except UnknownModel as exc:
            unknown.append((name, exc.reason))
    where, args = _selection_sql(filters)
    tokens = ", ".join(_TOKEN_COLUMNS)
    sql = (
        f"SELECT {tokens}, batch, service_tier, ts / {_MS_PER_MINUTE} AS minute, count(*), "
        "sum(coalesce(cost_nanos, 0)), sum(1 - priced) "
        f"FROM events WHERE {where} GROUP BY {tokens}, batch, service_tier, minute"
    )
    calls = actual = unpriced = 0
    sums = [0, 0, 0, 0]
    for row in conn.execute(sql, args):
        counts: tuple[int, ...] = row[:7]
        n = row[10]
        calls += n
        actual += row[11]
        unpriced += row[12]
        for i in range(4):
            sums[i] += counts[i] * n
        for accumulator in accumulators:
            accumulator.add(counts, row[9], row[7], row[8], n)
    totals = HistoryTotals(
        calls=calls,
        input_tokens=sums[0],
        output_tokens=sums[1],
        cache_read_tokens=sums[2],
        cache_write_tokens=sums[3],
        actual_cost_nanos=actual,
        actual_unpriced_calls=unpriced,
    )
    results = sorted(
        (a.result(actual) for a in accumulators), key=lambda r: (r.whatif_cost_nanos, r.target)
    )
    return WhatIfReport(filters=filters, totals=totals, results=results, unknown=unknown)
