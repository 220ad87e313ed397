"""The project's and the user's own price layer: TOML files of additions and overrides.

Any thread; loaded once at start. Prices are USD per million tokens. Every entry names its
``checked`` date and ``source`` so that a stored event can say where its price came from.
Shipped entries live in the repo's ``pricing/*.toml``; the user's ``<data>/prices.toml`` wins.

An entry either gives prices outright or takes a ``discount_percent`` off the genai-prices list
price (the usual shape of a negotiated rate). ``models`` are shell-style patterns matched
against the normalised model name; ``"*"`` matches every model of that provider.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from genai_prices.types import ModelPrice, Tier, TieredPrices

PRICE_FIELDS = (
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "output_reasoning_mtok",
)
_ALLOWED = {
    *PRICE_FIELDS,
    "provider",
    "models",
    "id",
    "checked",
    "source",
    "context_window",
    "tiers",
    "discount_percent",
    "valid_from",
    "service_tier",
    "note",
}


class PriceFileError(ValueError):
    """A pricing TOML file is malformed; the message names the file, entry and field."""


@dataclass(frozen=True)
class OverrideEntry:
    provider: str
    models: tuple[str, ...]
    model_price: ModelPrice | None  # None when the entry is a discount on the engine's price
    discount_percent: Decimal | None
    checked: dt.date
    source: str
    origin: str  # file it came from, for display
    entry_id: str | None
    context_window: int | None
    valid_from: dt.date | None
    service_tier: str | None

    def matches(self, provider: str | None, names: list[str]) -> bool:
        if provider is not None and provider != self.provider:
            return False
        if provider is None and all(pattern == "*" for pattern in self.models):
            return False  # a provider-wide entry needs the provider named
        return any(fnmatch.fnmatchcase(name, pat) for name in names for pat in self.models)

    def applies(self, when: dt.datetime, tier: str | None) -> bool:
        """In force at ``when`` for a call at ``tier`` (the price context: batch, flex…)."""
        return (self.valid_from is None or when.date() >= self.valid_from) and (
            self.service_tier is None or self.service_tier == tier
        )


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PriceFileError(f"{where}: expected a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise PriceFileError(f"{where}: {value!r} is not a number") from exc
    if not number.is_finite() or number < 0:
        raise PriceFileError(f"{where}: must be a finite number ≥ 0")
    return number


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise PriceFileError(f"{where}: {value!r} is not a YYYY-MM-DD date") from exc
    raise PriceFileError(f"{where}: expected a YYYY-MM-DD date")


def _entry(raw: Any, origin: str, index: int) -> OverrideEntry:
    where = f"{origin} [[model]] #{index + 1}"
    if not isinstance(raw, dict):
        raise PriceFileError(f"{where}: expected a table")
    unknown = set(raw) - _ALLOWED
    if unknown:
        raise PriceFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("provider", "models", "checked", "source"):
        if required not in raw:
            raise PriceFileError(f"{where}: missing '{required}'")
    provider = str(raw["provider"]).strip().lower()
    models_raw = raw["models"]
    if isinstance(models_raw, str):
        models_raw = [models_raw]
    if not isinstance(models_raw, list) or not models_raw:
        raise PriceFileError(f"{where}.models: expected a list of model name patterns")
    models = tuple(str(m).strip().lower() for m in models_raw)
    discount = raw.get("discount_percent")
    prices = {k: _decimal(raw[k], f"{where}.{k}") for k in PRICE_FIELDS if k in raw}
    if discount is not None and prices:
        raise PriceFileError(f"{where}: give either prices or discount_percent, not both")
    if discount is None and "input_mtok" not in prices and "output_mtok" not in prices:
        raise PriceFileError(f"{where}: needs input_mtok/output_mtok or discount_percent")
    discount_dec = None
    if discount is not None:
        discount_dec = _decimal(discount, f"{where}.discount_percent")
        if discount_dec > 100:
            raise PriceFileError(f"{where}.discount_percent: must be between 0 and 100")
    if "cache_write_5m_mtok" in prices and "cache_write_mtok" not in prices:
        # Cache writes reported without a TTL split are 5-minute writes (the default TTL).
        prices["cache_write_mtok"] = prices["cache_write_5m_mtok"]
    model_price: ModelPrice | None = None
    if prices:
        tiers_raw = raw.get("tiers", [])
        if not isinstance(tiers_raw, list):
            raise PriceFileError(f"{where}.tiers: expected a list of tables")
        tiered: dict[str, list[Tier]] = {}
        for t_index, tier in enumerate(tiers_raw):
            t_where = f"{where}.tiers[{t_index}]"
            if not isinstance(tier, dict) or "start" not in tier:
                raise PriceFileError(f"{t_where}: expected a table with 'start'")
            start = tier["start"]
            if isinstance(start, bool) or not isinstance(start, int) or start < 0:
                raise PriceFileError(f"{t_where}.start: expected a whole number of tokens ≥ 0")
            for key, value in tier.items():
                if key == "start":
                    continue
                if key not in prices:
                    raise PriceFileError(f"{t_where}.{key}: no base price for this field")
                tiered.setdefault(key, []).append(
                    Tier(start=start, price=_decimal(value, f"{t_where}.{key}"))
                )
        values: dict[str, Decimal | TieredPrices] = {}
        for key, base in prices.items():
            values[key] = TieredPrices(base=base, tiers=tiered[key]) if key in tiered else base
        model_price = ModelPrice(**values)
    context_window = raw.get("context_window")
    if context_window is not None and (
        isinstance(context_window, bool)
        or not isinstance(context_window, int)
        or context_window <= 0
    ):
        raise PriceFileError(f"{where}.context_window: expected a whole number > 0")
    return OverrideEntry(
        provider=provider,
        models=models,
        model_price=model_price,
        discount_percent=discount_dec,
        checked=_date(raw["checked"], f"{where}.checked"),
        source=str(raw["source"]),
        origin=origin,
        entry_id=str(raw["id"]) if "id" in raw else None,
        context_window=context_window,
        valid_from=_date(raw["valid_from"], f"{where}.valid_from") if "valid_from" in raw else None,
        service_tier=str(raw["service_tier"]) if "service_tier" in raw else None,
    )


def load_file(path: Path) -> list[OverrideEntry]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PriceFileError(f"{path}: not valid TOML ({exc})") from exc
    models = data.get("model", [])
    if not isinstance(models, list):
        raise PriceFileError(f"{path}: 'model' must be an array of tables ([[model]])")
    return [_entry(raw, path.name, i) for i, raw in enumerate(models)]


def load_layers(shipped_dir: Path | None, user_file: Path | None) -> list[OverrideEntry]:
    """User entries first (they win), then the shipped files in name order."""
    entries: list[OverrideEntry] = []
    if user_file is not None and user_file.is_file():
        entries.extend(load_file(user_file))
    if shipped_dir is not None and shipped_dir.is_dir():
        for path in sorted(shipped_dir.glob("*.toml")):
            entries.extend(load_file(path))
    return entries


def discounted(model_price: ModelPrice, percent: Decimal) -> ModelPrice:
    """The same price with ``percent`` taken off every component (tiers included)."""
    factor = (Decimal(100) - percent) / Decimal(100)
    values: dict[str, Decimal | TieredPrices] = {}
    for key, value in model_price.__dict__.items():
        if key.startswith("_") or value is None:
            continue
        if isinstance(value, TieredPrices):
            values[key] = TieredPrices(
                base=value.base * factor,
                tiers=[Tier(start=t.start, price=t.price * factor) for t in value.tiers],
            )
        elif isinstance(value, Decimal):
            values[key] = value * factor
    return ModelPrice(**values)
