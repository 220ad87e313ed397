"""Price listings for `spendtray prices` and `GET /v1/prices`. Any thread."""

from __future__ import annotations

import datetime as dt
from typing import Any

from spendtray.clock import utc_now
from spendtray.prices.book import PriceBook, ResolvedPrice
from spendtray.prices.calc import CompiledPrice


def list_prices(
    book: PriceBook, query: str | None = None, provider: str | None = None
) -> list[dict[str, Any]]:
    """Every model the book can price now, overrides first; ``query`` filters by substring."""
    now = utc_now()
    needle = (query or "").strip().lower()
    prov = (provider or "").strip().lower()
    rows: list[dict[str, Any]] = []
    for entry in book.overrides:
        if prov and entry.provider != prov:
            continue
        label = entry.entry_id or ", ".join(entry.models)
        if needle and needle not in label.lower():
            continue
        prices = (
            CompiledPrice(entry.model_price).unit_prices_json()
            if entry.model_price
            else {"discount_percent": format(entry.discount_percent or 0, "f")}
        )
        rows.append(
            {
                "provider": entry.provider,
                "model": label,
                "patterns": list(entry.models),
                "prices": prices,
                "context_window": entry.context_window,
                "source": f"{entry.origin}: {entry.source}",
                "date": entry.checked.isoformat(),
            }
        )
    for provider_id, model_id, model in book.engine_models():
        if prov and provider_id != prov:
            continue
        if needle and needle not in model_id.lower() and needle not in (model.name or "").lower():
            continue
        model_price = model.get_prices(now)
        rows.append(
            {
                "provider": provider_id,
                "model": model_id,
                "name": model.name,
                "prices": CompiledPrice(model_price).unit_prices_json(),
                "context_window": model.context_window,
                "source": book.engine_source,
                "date": None,
            }
        )
    return rows


def resolved_json(resolved: ResolvedPrice) -> dict[str, Any]:
    return {
        "model": resolved.model_id,
        "provider": resolved.provider_id,
        "prices": resolved.unit_prices_json(),
        "units": "USD per million tokens (_mtok), per thousand (_kcount)",
        "tier_thresholds": resolved.tier_thresholds,
        "context_window": resolved.context_window,
        "source": resolved.source,
        "date": resolved.price_date,
        "variant": resolved.price_context,
    }


def price_detail(
    book: PriceBook,
    model: str,
    provider: str | None = None,
    at: dt.datetime | None = None,
    service_tier: str | None = None,
) -> dict[str, Any]:
    resolved = book.resolve(model, provider, at, service_tier)
    out = resolved_json(resolved)
    out["requested"] = {"model": model, "provider": provider}
    batch = book.resolve(model, provider, at, batch=True)
    if batch.unit_prices_json() != out["prices"]:
        out["batch_prices"] = batch.unit_prices_json()
    return out
