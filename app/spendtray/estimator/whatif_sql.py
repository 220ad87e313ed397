"""One model's price as SQL: per-event cost in integer nano-dollars, computed inside SQLite.

Any thread; pure (builds SQL text). The what-if re-prices up to millions of stored events; in
Python that is ~10 µs an event per target model, in SQLite's C loop well under one. The
expression reproduces ``prices.calc.CompiledPrice.cost_nanos`` exactly: the same leaf
decomposition over the unit hierarchy (as linear combinations of token columns), long-context
tiers as a cliff on ``input_tokens``, per-request fees, a usage whose parts exceed their whole
flagged as unpriceable, and half-even rounding of the exact total to nano-dollars. Exactness
comes from integer arithmetic in femto-dollars (1e-15 USD): a rate that is not a whole number of
femto-dollars per unit, or a selection whose token counts could overflow 63 bits, gets no plan
and the caller prices in Python instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from genai_prices.types import TieredPrices

from spendtray.prices.book import ResolvedPrice
from spendtray.prices.calc import COUNT_ATTRIBUTES, PlainTiers

FEMTO_PER_USD = 10**15
FEMTO_PER_NANO = 10**6
# Headroom below 2**63 for the sum of a handful of leaf × rate products.
_LIMIT = 2**62

# genai-prices usage keys -> events table columns (named like the TokenCounts fields).
USAGE_COLUMNS = COUNT_ATTRIBUTES


def _femto(rate: Decimal, per: int) -> int | None:
    value = rate * FEMTO_PER_USD / per
    if value != value.to_integral_value() or value < 0:
        return None
    return int(value)


@dataclass(frozen=True)
class SqlCostPlan:
    """SQL expressions over one ``events`` row for one price."""

    ok: str
    """True when every leaf is ≥ 0 (else ``cost_nanos`` raises PricingError for this usage)."""
    femto: str
    """The row's exact cost in femto-dollars (an integer ≥ 0 where ``ok``)."""
    bound_femto: int
    """Largest sum of |coefficient| over the token columns, for the overflow bound."""
    fixed_femto: int
    """Per-request fees in every row."""

    def fits(self, max_tokens: int) -> bool:
        """Whether no row with at most ``max_tokens`` in any column can overflow."""
        return max_tokens * self.bound_femto + self.fixed_femto < _LIMIT

    @staticmethod
    def nanos(femto: str) -> str:
        """SQL rounding a non-negative femto-dollar expression half-even to nano-dollars."""
        d, h = FEMTO_PER_NANO, FEMTO_PER_NANO // 2
        # x + h - 1 + (q is odd) crosses the next multiple of d exactly when half-even rounds up
        return f"(({femto}) + {h - 1} + ((({femto}) / {d}) & 1)) / {d}"


def _linear(coefficients: dict[str, int], constant: int = 0) -> str:
    terms = [col if c == 1 else f"{c} * {col}" for col, c in sorted(coefficients.items()) if c != 0]
    if constant:
        terms.append(str(constant))
    return f"({' + '.join(terms)})" if terms else "0"


def _rate_at(value: Decimal | TieredPrices | PlainTiers, bracket: int | None) -> Decimal:
    """The step's rate for prompts over ``bracket`` tokens (None: under every threshold)."""
    if isinstance(value, Decimal):  # tiers are genai-prices' or the price table's
        return value
    applicable = [t for t in value.tiers if bracket is not None and t.start <= bracket]
    return max(applicable, key=lambda t: t.start).price if applicable else value.base


def plan_for(price: ResolvedPrice) -> SqlCostPlan | None:
    """The SQL plan for ``price``, or None when it cannot be exact in 64-bit integers."""
    steps = price.compiled.steps
    leaves: list[dict[str, int] | None] = []  # None: a per-request leaf (always 1)
    checks: list[str] = []
    for step in steps:
        if step.per_request:
            leaves.append(None)
            continue
        column = USAGE_COLUMNS.get(step.usage_key)
        combined: dict[str, int] = {column: 1} if column else {}
        for j in step.descendants:
            carved = leaves[j]
            if carved is None:
                return None  # a request count inside a token unit: not a shape we know
            for col, c in carved.items():
                combined[col] = combined.get(col, 0) - c
        leaf = {col: c for col, c in combined.items() if c}
        if leaf:
            checks.append(f"{_linear(leaf)} >= 0")
        leaves.append(leaf)
    thresholds = price.compiled.tier_thresholds()
    brackets: list[int | None] = [None, *thresholds]
    linear_forms: list[str] = []
    bound = fixed = 0
    for bracket in brackets:
        coefficients: dict[str, int] = {}
        constant = 0
        for step, step_leaf in zip(steps, leaves, strict=True):
            if step_leaf == {}:
                continue  # a unit with no column here (audio, searches…): always 0 usage
            rate = _femto(_rate_at(step.price, bracket), step.per)
            if rate is None:
                return None
            if step_leaf is None:
                constant += rate
                continue
            for col, c in step_leaf.items():
                coefficients[col] = coefficients.get(col, 0) + c * rate
        bound = max(bound, sum(abs(c) for c in coefficients.values()))
        fixed = max(fixed, constant)
        linear_forms.append(_linear(coefficients, constant))
    if len(linear_forms) == 1:
        femto = linear_forms[0]
    else:
        cases = " ".join(
            f"WHEN input_tokens > {t} THEN {form}"
            for t, form in reversed(list(zip(thresholds, linear_forms[1:], strict=True)))
        )
        femto = f"(CASE {cases} ELSE {linear_forms[0]} END)"
    return SqlCostPlan(
        ok=" AND ".join(checks) or "1", femto=femto, bound_femto=bound, fixed_femto=fixed
    )
