"""What-if on real history: stored usage re-priced as if every call had gone to another model.

Any thread but the GUI's (a million events take about a second per target model); the CLI,
the server's thread pool and the estimator window's worker call it. Only token counts are read,
never prompt text (none is stored). Each event is priced on its own, because long-context tiers
are a cliff on each call's prompt, at the target's price in force at the event's time and with
the event's batch / service tier, exactly as ingest would have priced it had it been sent there.

Two ways to get there, same answer to the nano-dollar: usually SQLite computes every event's
cost itself (``whatif_sql``), one scan per stretch of days over which the target's price does
not change (genai-prices dates prices by UTC day); for a price that plan cannot express, or one
that changes with the time of day, ``whatif_rowwise`` prices distinct token tuples in Python.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spendtray.estimator.whatif_eras import Era, eras_for, tally_sql, time_of_day_points
from spendtray.estimator.whatif_rowwise import Tally, tally_rowwise
from spendtray.money import nanos_to_decimal
from spendtray.prices.book import PriceBook, ResolvedPrice, UnknownModel
from spendtray.store.history import Selection
from spendtray.store.reader import Filters


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


def reprice_history(
    conn: sqlite3.Connection,
    filters: Filters,
    targets: Sequence[str],
    *,
    book: PriceBook,
) -> WhatIfReport:
    """Price the stored events matching ``filters`` as if each had been sent to each target.

    ``conn`` is a read connection to the Spendtray database (``Reader.conn()``). Targets
    without a known price are listed in ``unknown``. Raises ``WhatIfError`` when no target is
    given.
    """
    if isinstance(targets, str):
        targets = [targets]
    names = [t.strip() for t in targets if isinstance(t, str) and t.strip()]
    if not names:
        raise WhatIfError("the what-if needs at least one target model")
    current: dict[str, ResolvedPrice] = {}
    unknown: list[tuple[str, str]] = []
    for name in dict.fromkeys(names):
        try:
            current[name] = book.resolve(name)
        except UnknownModel as exc:
            unknown.append((name, exc.reason))
    selection = Selection(conn, filters)
    span = selection.span()
    tallies = {name: Tally() for name in current}
    if span is None or not current:
        totals = HistoryTotals(*selection.totals())
    else:
        contexts = selection.contexts()
        day_points = time_of_day_points(book)
        planned: dict[str, dict[tuple[int, str | None], list[Era]]] = {}
        rowwise: dict[str, ResolvedPrice] = {}
        for name, price in current.items():
            points = day_points.get(price.model_id, (0,))
            eras = {c: eras_for(book, name, c, span[0], span[1], points) for c in contexts}
            if all(e is not None for e in eras.values()):
                planned[name] = {c: e for c, e in eras.items() if e is not None}
            else:
                rowwise[name] = price
        sums, overflowed = tally_sql(selection, contexts, planned, current, tallies)
        totals = HistoryTotals(*sums)
        for name in overflowed:
            tallies[name] = Tally()
            rowwise[name] = current[name]
        if rowwise:
            tally_rowwise(selection, rowwise, book, tallies)
    results = [
        TargetCost(
            target=name,
            model_id=price.model_id,
            provider=price.provider_id,
            price_source=price.source,
            context_window=price.context_window,
            whatif_cost_nanos=tallies[name].cost,
            difference_nanos=tallies[name].cost - totals.actual_cost_nanos,
            unpriceable_calls=tallies[name].unpriceable,
            tier_crossed_calls=tallies[name].crossed,
            over_context_calls=tallies[name].over,
        )
        for name, price in current.items()
    ]
    results.sort(key=lambda r: (r.whatif_cost_nanos, r.target))
    return WhatIfReport(filters=filters, totals=totals, results=results, unknown=unknown)
