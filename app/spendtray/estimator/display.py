"""How estimator surfaces (CLI, GUI) show dollar amounts. Pure; any thread.

Estimates are mostly fractions of a dollar, where two decimals would show $0.01 for both a
$0.0103 and a $0.0149 call; below one dollar four decimals keep neighbouring models apart.
"""

from __future__ import annotations

from spendtray.money import format_usd

_ONE_DOLLAR_NANOS = 10**9


def format_estimate_usd(nanos: int | None, precision: int = 2) -> str:
    """$12.35 from a dollar up, $0.0103 below, two significant digits below $0.0001."""
    if nanos is None:
        return format_usd(None)
    places = precision if abs(nanos) >= _ONE_DOLLAR_NANOS else max(precision, 4)
    return format_usd(nanos, places)
