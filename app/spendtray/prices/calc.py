"""Cost of one call from a resolved genai-prices ``ModelPrice``, in integer nano-dollars.

Any thread; pure. genai-prices' own ``ModelPrice.calc_price`` costs ~100 µs a call (it rebuilds
its unit registry view each time), too slow for batch ingest. This module compiles a
``ModelPrice`` once into a plan that applies the same rules — leaf decomposition over the unit
hierarchy (uncached input = input − cache reads − cache writes; a 1 h write priced apart is
taken out of the generic cache-write count), tiers as a cliff on the total prompt, per-request
fees — and a test checks it against genai-prices to the nano-dollar over its whole catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from genai_prices.decompose import is_descendant_or_self
from genai_prices.types import ModelPrice, TieredPrices
from genai_prices.units import _get_registry

NANOS_PER_USD = 10**9
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """Usage of one call in our canonical shape (SPEC §5): inputs and outputs are totals."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0

    def engine_usage(self) -> dict[str, int]:
        """The same usage under genai-prices' usage keys."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_write_5m_tokens": self.cache_write_5m_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
            "output_reasoning_tokens": self.reasoning_tokens,
        }


@dataclass(frozen=True, slots=True)
class _Step:
    usage_key: str
    price_key: str
    price: Decimal | TieredPrices
    per: int
    descendants: tuple[int, ...]  # indexes of earlier steps whose leaves are carved out
    per_request: bool


class PricingError(ValueError):
    """The usage cannot be priced with this price (e.g. cache reads exceed total input)."""


class CompiledPrice:
    """A ``ModelPrice`` prepared for fast repeated costing."""

    def __init__(self, model_price: ModelPrice) -> None:
        registry = _get_registry()
        units = []
        for key, value in model_price.__dict__.items():
            if key.startswith("_") or value is None:
                continue
            try:
                unit = registry.unit_for_price_key(key)
            except KeyError:
                continue
            units.append((unit, value))
        # Most specific units first, as genai-prices' decomposition does.
        units.sort(key=lambda item: (-len(item[0].dimensions), item[0].usage_key))
        steps: list[_Step] = []
        for index, (unit, value) in enumerate(units):
            descendants = tuple(
                j
                for j in range(index)
                if units[j][0] is not unit and is_descendant_or_self(unit, units[j][0])
            )
            steps.append(
                _Step(
                    usage_key=unit.usage_key,
                    price_key=unit.price_key,
                    price=value,
                    per=int(unit.per),
                    descendants=descendants,
                    per_request=unit.usage_key == "requests",
                )
            )
        self.steps = tuple(steps)
        self.tiered = any(isinstance(s.price, TieredPrices) for s in steps)

    def unit_prices(self) -> dict[str, Any]:
        """price_key -> Decimal, or {"base": Decimal, "tiers": [[start, Decimal], ...]}."""
        out: dict[str, Any] = {}
        for step in self.steps:
            if isinstance(step.price, TieredPrices):
                out[step.price_key] = {
                    "base": step.price.base,
                    "tiers": [[t.start, t.price] for t in step.price.tiers],
                }
            else:
                out[step.price_key] = step.price
        return out

    def unit_prices_json(self) -> dict[str, Any]:
        """Unit prices as JSON-safe decimal strings (USD per the unit's block)."""
        return {key: _plain(value) for key, value in self.unit_prices().items()}

    def tier_thresholds(self) -> list[int]:
        starts: set[int] = set()
        for step in self.steps:
            if isinstance(step.price, TieredPrices):
                starts.update(t.start for t in step.price.tiers)
        return sorted(starts)

    def _exact_rates(self) -> tuple[int, list[tuple[int, tuple[tuple[int, int], ...]]]]:
        """Every rate as an integer numerator over one common denominator, so costing is pure
        integer arithmetic: nanos = Σ leaf × numerator / denominator, rounded once."""
        cached = self.__dict__.get("_rates")
        if cached is not None:
            return cached  # type: ignore[no-any-return]

        def parts(price: Decimal, per: int) -> tuple[int, int]:
            _sign, digits, exponent = price.as_tuple()
            assert isinstance(exponent, int)
            numerator = int("".join(map(str, digits)) or "0") * NANOS_PER_USD
            scale = per * 10 ** max(0, -exponent)
            numerator *= 10 ** max(0, exponent)
            return numerator, scale

        raw: list[list[tuple[int, int, int]]] = []  # per step: (start, numerator, scale)
        for step in self.steps:
            price = step.price
            if isinstance(price, TieredPrices):
                options = [(-1, *parts(price.base, step.per))]
                options += [(t.start, *parts(t.price, step.per)) for t in price.tiers]
            else:
                options = [(-1, *parts(price, step.per))]
            raw.append(options)
        denominator = 1
        for options in raw:
            for _, _, scale in options:
                denominator = math.lcm(denominator, scale)
        rates = [
            (i, tuple((start, num * (denominator // scale)) for start, num, scale in options))
            for i, options in enumerate(raw)
        ]
        self.__dict__["_rates"] = (denominator, rates)
        return denominator, rates

    def cost_nanos(self, counts: TokenCounts) -> int:
        usage = counts.engine_usage()
        denominator, rates = self._exact_rates()
        leaves: list[int] = []
        total = 0
        for step, (_, options) in zip(self.steps, rates, strict=True):
            if step.per_request:
                leaf = 1
            else:
                reported = usage.get(step.usage_key, 0)
                leaf = reported
                for j in step.descendants:
                    leaf -= leaves[j]
                if leaf < 0:
                    raise PricingError(
                        f"usage for {step.usage_key} ({reported}) is smaller than its parts"
                    )
            leaves.append(leaf)
            if leaf == 0:
                continue
            rate = options[0][1]
            # Tiers are a cliff on the whole prompt: the highest tier the prompt passes wins.
            for start, numerator in reversed(options[1:]):
                if counts.input_tokens > start:
                    rate = numerator
                    break
            total += leaf * rate
        quotient, remainder = divmod(total, denominator)
        twice = 2 * remainder
        if twice > denominator or (twice == denominator and quotient % 2):
            quotient += 1
        return quotient


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def to_nanos(usd: Decimal) -> int:
    """USD (Decimal) -> integer nano-dollars, half-even."""
    return int((usd * NANOS_PER_USD).quantize(_ONE, rounding=ROUND_HALF_EVEN))


def nanos_to_usd(nanos: int) -> Decimal:
    return Decimal(nanos) / NANOS_PER_USD
