"""What a prompt costs on several models, cheapest first, with cache/batch what-ifs (SPEC §8).

Any thread (the server's request threads, the CLI, the GUI's worker thread); CPU-bound for big
prompts, so never call it on the GUI thread. Token counts come from ``counting``, prices from
``spendtray.prices`` (the caller passes its ``PriceBook`` so the user's overrides apply). All
money is integer nano-dollars (1e-9 USD) until ``EstimateResult.to_dict``.

Assumptions, each visible in the result:

* No output size given: ``DEFAULT_OUTPUT_TOKENS`` (the price data carries no per-model maximum
  output, so there is nothing better to fall back on); ``output_assumed`` says so.
* Cached-prefix what-if: the first call writes the prefix to the cache (at the 5 m or 1 h write
  price where the provider charges for writes, else at the input price), every later call reads
  it, i.e. calls come within the cache's lifetime of each other. The monthly figure applies the
  same rule per day. Only offered when the model has a cache-read price.
* Batch what-if: the price data's batch variant; absent when the data has none for the model.
* Long-context tiers are a cliff on the whole prompt (the price engine's rule): crossing one is
  flagged with the threshold, since the whole prompt, not just the excess, costs more.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from spendtray.clock import utc_now
from spendtray.estimator.counting import Prompt, PromptCounter, TokenCount
from spendtray.money import nanos_to_decimal
from spendtray.prices.book import PriceBook, ResolvedPrice, TokenCounts, UnknownModel

DEFAULT_OUTPUT_TOKENS = 1_000
"""Output tokens assumed per call when the caller gives none (a long answer, ~750 words)."""
DAYS_PER_MONTH = 30

CacheTtl = Literal["5m", "1h"]


class EstimateError(ValueError):
    """The request cannot be estimated (bad arguments); the text says which one."""


@dataclass(frozen=True)
class WhatIf:
    """The same calls priced another way, next to the plain figure."""

    label: str
    total_cost_nanos: int
    """For all ``calls`` calls."""
    savings_nanos: int
    """Plain total minus this total; negative when this way costs more."""
    monthly_cost_nanos: int | None


@dataclass(frozen=True)
class EstimateResult:
    model: str
    """As asked for."""
    model_id: str | None
    """As the price data names it; None when no price is known."""
    provider: str | None
    input_tokens: int
    output_tokens: int
    output_assumed: bool
    exact: bool
    method: str
    calls: int
    input_cost_nanos: int | None
    output_cost_nanos: int | None
    total_cost_nanos: int | None
    """All three for ``calls`` calls; None when no price is known (see ``error``)."""
    per_call_cost_nanos: int | None
    monthly_cost_nanos: int | None
    """``calls_per_day`` × 30 calls at the plain per-call cost; None without calls_per_day."""
    context_window: int | None
    fits: bool | None
    """input + output ≤ context window; None when the window is unknown."""
    tier_crossed: bool
    tier_threshold: int | None
    """The highest long-context threshold the prompt is over, if any."""
    cached: WhatIf | None
    batch: WhatIf | None
    price_source: str | None
    price_date: str | None
    error: str | None = None

    @property
    def priced(self) -> bool:
        return self.total_cost_nanos is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: SPEC §4 ``/v1/estimate`` fields first, USD as numbers."""

        def usd(nanos: int | None) -> float | None:
            return None if nanos is None else float(nanos_to_decimal(nanos))

        def what_if(value: WhatIf | None) -> dict[str, Any] | None:
            if value is None:
                return None
            return {
                "label": value.label,
                "total_cost_usd": usd(value.total_cost_nanos),
                "savings_usd": usd(value.savings_nanos),
                "monthly_cost_usd": usd(value.monthly_cost_nanos),
            }

        return {
            "model": self.model,
            "provider": self.provider,
            "input_tokens": self.input_tokens,
            "exact": self.exact,
            "method": self.method,
            "input_cost_usd": usd(self.input_cost_nanos),
            "output_cost_usd": usd(self.output_cost_nanos),
            "total_cost_usd": usd(self.total_cost_nanos),
            "context_window": self.context_window,
            "fits": self.fits,
            "model_id": self.model_id,
            "output_tokens": self.output_tokens,
            "output_assumed": self.output_assumed,
            "calls": self.calls,
            "per_call_cost_usd": usd(self.per_call_cost_nanos),
            "monthly_cost_usd": usd(self.monthly_cost_nanos),
            "tier_crossed": self.tier_crossed,
            "tier_threshold": self.tier_threshold,
            "cached": what_if(self.cached),
            "batch": what_if(self.batch),
            "price_source": self.price_source,
            "price_date": self.price_date,
            "error": self.error,
        }


def _scale(nanos: int, factor: Decimal) -> int:
    return int((Decimal(nanos) * factor).to_integral_value(rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class _Request:
    """Everything about the call that is the same for every model."""

    book: PriceBook
    when: dt.datetime
    output_tokens: int
    output_assumed: bool
    calls: int
    calls_per_day: Decimal | None
    cached_prefix_tokens: int
    cache_ttl: CacheTtl
    batch: bool

    def monthly(self, per_call_nanos: int) -> int | None:
        if self.calls_per_day is None:
            return None
        return _scale(per_call_nanos, self.calls_per_day) * DAYS_PER_MONTH


def _has_cache_read(price: ResolvedPrice) -> bool:
    return any(key.startswith("cache_") and "read" in key for key in price.unit_prices)


def _cached_what_if(
    request: _Request, price: ResolvedPrice, input_tokens: int, plain_total: int
) -> WhatIf | None:
    if request.cached_prefix_tokens <= 0 or not _has_cache_read(price):
        return None
    prefix = min(request.cached_prefix_tokens, input_tokens)
    ttl = request.cache_ttl
    write = price.cost_nanos(
        TokenCounts(
            input_tokens=input_tokens,
            output_tokens=request.output_tokens,
            cache_write_tokens=prefix,
            cache_write_5m_tokens=prefix if ttl == "5m" else 0,
            cache_write_1h_tokens=prefix if ttl == "1h" else 0,
        )
    )
    read = price.cost_nanos(
        TokenCounts(
            input_tokens=input_tokens,
            output_tokens=request.output_tokens,
            cache_read_tokens=prefix,
        )
    )
    total = write + read * (request.calls - 1)
    monthly: int | None = None
    per_day = request.calls_per_day
    if per_day is not None:
        # the same rule per day: the day's first call writes, the others read
        day = write + _scale(read, per_day - 1) if per_day >= 1 else _scale(write, per_day)
        monthly = day * DAYS_PER_MONTH
    return WhatIf(
        label=f"{prefix:,}-token prefix cached ({ttl}): first call writes, later calls read",
        total_cost_nanos=total,
        savings_nanos=plain_total - total,
        monthly_cost_nanos=monthly,
    )


def _batch_what_if(
    request: _Request, model: str, plain: ResolvedPrice, counts: TokenCounts, plain_total: int
) -> WhatIf | None:
    if not request.batch:
        return None
    batch_price = request.book.resolve(model, when=request.when, batch=True)
    if batch_price.unit_prices == plain.unit_prices:
        return None  # the price data knows no batch price for this model
    per_call = batch_price.cost_nanos(counts)
    total = per_call * request.calls
    return WhatIf(
        label="batch API",
        total_cost_nanos=total,
        savings_nanos=plain_total - total,
        monthly_cost_nanos=request.monthly(per_call),
    )


def _priced(
    request: _Request, model: str, price: ResolvedPrice, count: TokenCount
) -> EstimateResult:
    input_tokens, output_tokens, calls = count.tokens, request.output_tokens, request.calls
    counts = TokenCounts(input_tokens=input_tokens, output_tokens=output_tokens)
    # Priced together and apart so that a tier cliff set by the prompt lifts the output rate
    # too, and per-request fees stay on the input side.
    input_only = price.cost_nanos(TokenCounts(input_tokens=input_tokens))
    per_call = price.cost_nanos(counts)
    total = per_call * calls
    crossed = [t for t in price.tier_thresholds if input_tokens > t]
    window = price.context_window
    return EstimateResult(
        model=model,
        model_id=price.model_id,
        provider=price.provider_id,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        output_assumed=request.output_assumed,
        exact=count.exact,
        method=count.method,
        calls=calls,
        input_cost_nanos=input_only * calls,
        output_cost_nanos=(per_call - input_only) * calls,
        total_cost_nanos=total,
        per_call_cost_nanos=per_call,
        monthly_cost_nanos=request.monthly(per_call),
        context_window=window,
        fits=None if window is None else input_tokens + output_tokens <= window,
        tier_crossed=bool(crossed),
        tier_threshold=max(crossed) if crossed else None,
        cached=_cached_what_if(request, price, input_tokens, total),
        batch=_batch_what_if(request, model, price, counts, total),
        price_source=price.source,
        price_date=price.price_date,
    )


def _unpriced(request: _Request, model: str, count: TokenCount, error: str) -> EstimateResult:
    return EstimateResult(
        model=model,
        model_id=None,
        provider=None,
        input_tokens=count.tokens,
        output_tokens=request.output_tokens,
        output_assumed=request.output_assumed,
        exact=count.exact,
        method=count.method,
        calls=request.calls,
        input_cost_nanos=None,
        output_cost_nanos=None,
        total_cost_nanos=None,
        per_call_cost_nanos=None,
        monthly_cost_nanos=None,
        context_window=None,
        fits=None,
        tier_crossed=False,
        tier_threshold=None,
        cached=None,
        batch=None,
        price_source=None,
        price_date=None,
        error=error,
    )


def _check_arguments(
    models: Sequence[str],
    output_tokens: int | None,
    calls: int,
    calls_per_day: float | None,
    cached_prefix_tokens: int,
    cache_ttl: str,
) -> Decimal | None:
    if isinstance(models, str) or not models:
        raise EstimateError("models must be a non-empty list of model names")
    if not all(isinstance(m, str) and m.strip() for m in models):
        raise EstimateError("every model must be a non-empty string")
    if output_tokens is not None and (isinstance(output_tokens, bool) or output_tokens < 0):
        raise EstimateError("output_tokens must be a whole number ≥ 0")
    if isinstance(calls, bool) or calls < 1:
        raise EstimateError("calls must be a whole number ≥ 1")
    if cached_prefix_tokens < 0:
        raise EstimateError("cached_prefix_tokens must be ≥ 0")
    if cache_ttl not in ("5m", "1h"):
        raise EstimateError('cache_ttl must be "5m" or "1h"')
    if calls_per_day is None:
        return None
    if not math.isfinite(calls_per_day) or calls_per_day < 0:
        raise EstimateError("calls_per_day must be a finite number ≥ 0")
    # repr() keeps 0.1 as 0.1 rather than its binary expansion
    return Decimal(repr(float(calls_per_day)))


def _cheapest_first(result: EstimateResult) -> tuple[int, int, str]:
    if result.total_cost_nanos is None:
        return (1, 0, result.model)
    return (0, result.total_cost_nanos, result.model)


def estimate(
    prompt: Prompt,
    models: Sequence[str],
    output_tokens: int | None = None,
    *,
    book: PriceBook,
    calls: int = 1,
    calls_per_day: float | None = None,
    cached_prefix_tokens: int = 0,
    cache_ttl: CacheTtl = "5m",
    batch: bool = False,
    when: dt.datetime | None = None,
) -> list[EstimateResult]:
    """Cost of sending ``prompt`` ``calls`` times to each of ``models``, cheapest first.

    ``batch`` adds the batch-API what-if, ``cached_prefix_tokens`` the prompt-cache one.
    Models without a known price come last, with ``error`` saying why and costs None. Raises
    ``EstimateError`` for bad arguments and ``chat.InvalidMessages`` for a malformed message list.
    """
    per_day = _check_arguments(
        models, output_tokens, calls, calls_per_day, cached_prefix_tokens, cache_ttl
    )
    request = _Request(
        book=book,
        when=when or utc_now(),
        output_tokens=DEFAULT_OUTPUT_TOKENS if output_tokens is None else output_tokens,
        output_assumed=output_tokens is None,
        calls=calls,
        calls_per_day=per_day,
        cached_prefix_tokens=cached_prefix_tokens,
        cache_ttl=cache_ttl,
        batch=batch,
    )
    counter = PromptCounter(prompt)
    results: list[EstimateResult] = []
    for model in dict.fromkeys(m.strip() for m in models):
        try:
            price = book.resolve(model, when=request.when)
        except UnknownModel as exc:
            close = book.suggest(model)
            reason = exc.reason
            if close:
                reason += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
            results.append(_unpriced(request, model, counter.count(model), reason))
            continue
        count = counter.count(model, price.provider_id)
        results.append(_priced(request, model, price, count))
    results.sort(key=_cheapest_first)
    return results
