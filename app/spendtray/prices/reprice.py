"""What `spendtray reprice` would change: each selected stored call priced again with the
prices in force now (your overrides, the current genai-prices data), at the call's own date,
tier and batch flag — exactly as ingest prices a new call. Pure; the caller's thread.

Calls whose usage never arrived (tag ``usage: missing``) stay unpriced; a call that would cost
more than one call may (``ingest.bounds``) is left as it is and counted. A call with provider
``unknown`` takes the provider of the override that prices it, as at ingest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from spendtray.ingest.bounds import MAX_EVENT_COST_NANOS
from spendtray.ingest.service import USAGE_MISSING
from spendtray.prices.book import UNKNOWN_PROVIDER, PriceBook
from spendtray.prices.calc import PricingError, TokenCounts
from spendtray.store.reprice import NewPrice, StoredCall


@dataclass
class ModelChange:
    """The calls of one model in a reprice plan: how many change, cost before and after."""

    model: str
    calls: int = 0
    before_nanos: int = 0
    before_unpriced: int = 0
    after_nanos: int = 0
    after_unpriced: int = 0


@dataclass
class Plan:
    selected: int = 0
    changes: list[NewPrice] = field(default_factory=list)
    olds: dict[int, StoredCall] = field(default_factory=dict)
    by_model: dict[str, ModelChange] = field(default_factory=dict)
    out_of_bounds: int = 0


def _new_price(book: PriceBook, call: StoredCall) -> NewPrice | None:
    """The call priced now; None when it would be out of bounds."""
    if call.tags and call.tags.get("usage") == "missing":
        return NewPrice(call.id, call.provider, None, USAGE_MISSING, None)
    when = dt.datetime.fromtimestamp(call.ts_ms / 1000, dt.UTC)
    found = book.price_at(
        call.model, call.provider, when, call.ts_ms, call.service_tier, call.batch
    )
    if isinstance(found, str):
        return NewPrice(call.id, call.provider, None, found, None)
    try:
        cost = found.cost_nanos(TokenCounts(*call.counts))
    except PricingError as exc:
        return NewPrice(call.id, call.provider, None, f"cannot price this usage: {exc}", None)
    if cost > MAX_EVENT_COST_NANOS:
        return None
    provider = found.provider_id if call.provider == UNKNOWN_PROVIDER else call.provider
    return NewPrice(call.id, provider, cost, None, found.stored_fields)


def plan(book: PriceBook, calls: Iterable[StoredCall]) -> Plan:
    """Every selected call whose price (cost, price used, or reason) would change."""
    result = Plan()
    for call in calls:
        result.selected += 1
        new = _new_price(book, call)
        if new is None:
            result.out_of_bounds += 1
            continue
        same = (
            new.cost_nanos == call.cost_nanos
            and new.price_fields == call.price_fields
            and new.unpriced_reason == call.unpriced_reason
            and new.provider == call.provider
        )
        if same:
            continue
        result.changes.append(new)
        result.olds[call.id] = call
        entry = result.by_model.setdefault(call.model, ModelChange(call.model))
        entry.calls += 1
        if call.cost_nanos is None:
            entry.before_unpriced += 1
        else:
            entry.before_nanos += call.cost_nanos
        if new.cost_nanos is None:
            entry.after_unpriced += 1
        else:
            entry.after_nanos += new.cost_nanos
    return result
