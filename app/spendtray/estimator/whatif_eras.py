"""The what-if's fast path: a target's prices over time as SQL, and the scans that sum them.

Any thread but the GUI's. genai-prices changes a price either on a UTC date
(``StartDateConstraint``) or at a time of day (``TimeOfDateConstraint``, e.g. DeepSeek's
off-peak hours), so probing the
target once per UTC day at midnight and at each time-of-day boundary of its constraints finds
every price it had over the selection. Days with the same prices form an ``Era``; inside an era
the price is picked per event by ``ts % 86400000``. SQLite then costs every event itself
(``whatif_sql``): one scan per batch/service-tier combination and era boundary, all targets in
the same scan, with the selection's totals summed on the way.

A row whose cost overflows 64-bit integers (absurd token counts) turns REAL in SQLite; that is
counted, and the caller re-prices that target in Python instead.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from genai_prices.types import TimeOfDateConstraint

from spendtray.estimator.whatif_rowwise import Tally, price_signature
from spendtray.estimator.whatif_sql import SqlCostPlan, plan_for
from spendtray.prices.book import PriceBook, ResolvedPrice, UnknownModel
from spendtray.store.history import TOTAL_COLUMNS, Context, Selection

MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class Segment:
    start_ms_of_day: int
    price: ResolvedPrice
    plan: SqlCostPlan


@dataclass(frozen=True)
class Era:
    """Days [start_ms, end_ms) over which the target's daily price pattern stays the same."""

    start_ms: int
    end_ms: int
    segments: tuple[Segment, ...]


def _ms_of_day(value: dt.time) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    utc = dt.datetime.combine(dt.date(1970, 1, 2), value).astimezone(dt.UTC).time()
    return ((utc.hour * 60 + utc.minute) * 60 + utc.second) * 1000 + utc.microsecond // 1000


def time_of_day_points(book: PriceBook) -> dict[str, tuple[int, ...]]:
    """Model id -> the ms-of-day (UTC) points where its price may change; 0 always included."""
    points: dict[str, set[int]] = {}
    for _, model_id, info in book.engine_models():
        if not isinstance(info.prices, list):
            continue
        for conditional in info.prices:
            constraint = conditional.constraint
            if isinstance(constraint, TimeOfDateConstraint):
                found = points.setdefault(model_id, {0})
                found.add(_ms_of_day(constraint.start_time))
                found.add(_ms_of_day(constraint.end_time))
    return {model_id: tuple(sorted(found)) for model_id, found in points.items()}


def eras_for(
    book: PriceBook,
    target: str,
    context: Context,
    first_ms: int,
    last_ms: int,
    points: tuple[int, ...],
) -> list[Era] | None:
    """The target's eras over [first_ms, last_ms], or None if one of its prices has no plan
    or it has no price on some day (both are then priced row by row)."""
    batch, tier = context
    eras: list[Era] = []
    previous: tuple[Any, ...] | None = None
    first_day = first_ms // MS_PER_DAY
    for day in range(first_day, last_ms // MS_PER_DAY + 1):
        day_segments: list[tuple[int, ResolvedPrice]] = []
        for point in points:
            when = dt.datetime.fromtimestamp((day * MS_PER_DAY + point) / 1000, dt.UTC)
            try:
                price = book.resolve(target, None, when, service_tier=tier, batch=bool(batch))
            except UnknownModel:
                return None  # no price on some days: priced row by row, those calls unpriceable
            if not day_segments or price_signature(day_segments[-1][1]) != price_signature(price):
                day_segments.append((point, price))
        signature = tuple((point, price_signature(price)) for point, price in day_segments)
        if signature == previous:
            continue
        previous = signature
        segments: list[Segment] = []
        for point, price in day_segments:
            plan = plan_for(price)
            if plan is None:
                return None
            segments.append(Segment(point, price, plan))
        start = first_ms if day == first_day else day * MS_PER_DAY
        if eras:
            eras[-1] = Era(eras[-1].start_ms, start, eras[-1].segments)
        eras.append(Era(start, last_ms + 1, tuple(segments)))
    return eras


def _by_time_of_day(segments: tuple[Segment, ...], sql: list[str]) -> str:
    """One SQL value per segment, chosen by the event's time of day."""
    if len(segments) == 1:
        return sql[0]
    cases = " ".join(
        f"WHEN ts % {MS_PER_DAY} < {nxt.start_ms_of_day} THEN {value}"
        for nxt, value in zip(segments[1:], sql, strict=False)
    )
    return f"(CASE {cases} ELSE {sql[-1]} END)"


def tally_sql(
    selection: Selection,
    contexts: list[Context],
    planned: dict[str, dict[Context, list[Era]]],
    current: dict[str, ResolvedPrice],
    tallies: dict[str, Tally],
) -> tuple[list[int], set[str]]:
    """Adds each planned target's figures; returns the selection's totals (``TOTAL_COLUMNS``
    order) and the targets whose costs overflowed (their tallies are then meaningless)."""
    totals = [0] * len(TOTAL_COLUMNS)
    overflowed: set[str] = set()
    if not planned:
        return selection.totals(), overflowed
    names = list(planned)
    for context in contexts:
        eras = {name: planned[name][context] for name in names}
        cuts = sorted({era.start_ms for name in names for era in eras[name]})
        bounds = [*cuts, eras[names[0]][-1].end_ms]
        for start, end in itertools.pairwise(bounds):
            inner = [
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "cost_nanos",
                "priced",
            ]
            outer = list(TOTAL_COLUMNS)
            for k, name in enumerate(names):
                era = next(e for e in eras[name] if e.start_ms <= start < e.end_ms)
                segs = era.segments
                crossed = [
                    f"(input_tokens > {s.price.tier_thresholds[0]})"
                    if s.price.tier_thresholds
                    else "0"
                    for s in segs
                ]
                inner += [
                    f"{_by_time_of_day(segs, [s.plan.femto for s in segs])} AS x{k}",
                    f"{_by_time_of_day(segs, [s.plan.ok for s in segs])} AS ok{k}",
                    f"{_by_time_of_day(segs, crossed)} AS cr{k}",
                ]
                window = current[name].context_window
                outer += [
                    f"sum(CASE WHEN ok{k} THEN {SqlCostPlan.nanos(f'x{k}')} ELSE 0 END)",
                    f"sum(NOT ok{k})",
                    f"sum(cr{k})",
                    f"sum(input_tokens + output_tokens > {window})" if window else "0",
                    f"sum(typeof(x{k}) = 'real')",
                ]
            values = selection.sums(inner, outer, context, start, end)
            for i in range(len(TOTAL_COLUMNS)):
                totals[i] += int(values[i] or 0)
            base = len(TOTAL_COLUMNS)
            for k, name in enumerate(names):
                cost, unpriceable, crossed_n, over, real = values[base + 5 * k : base + 5 * k + 5]
                if real:
                    overflowed.add(name)
                    continue
                tallies[name].add(
                    int(cost or 0), int(unpriceable or 0), int(crossed_n or 0), int(over or 0)
                )
    return totals, overflowed
