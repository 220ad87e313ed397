"""Formatting money and token counts for people. Pure; any thread (the GUI uses it too).

Amounts are integer nano-dollars inside Spendtray; dollars appear only here, at the edge.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NANOS = Decimal(10**9)


def nanos_to_decimal(nanos: int) -> Decimal:
    return Decimal(nanos) / NANOS


def usd_json(nanos: int | None) -> float | None:
    """Nano-dollars -> a JSON number of dollars for API output (such floats are shown, never
    summed). Integer true division is correctly rounded: the nearest double to the exact
    amount, which is what rounding to 9 places gave, at a tenth of the cost (once per event
    in every ingest reply)."""
    return None if nanos is None else int(nanos) / 1_000_000_000


def format_usd(nanos: int | None, precision: int = 2) -> str:
    """$1,234.56; small non-zero amounts keep two significant digits ($0.0042), never 0.00."""
    if nanos is None:
        return "—"
    amount = nanos_to_decimal(nanos)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == 0:
        return f"${Decimal(0):.{precision}f}"
    places = precision
    smallest = Decimal(1).scaleb(-precision)
    if amount < smallest:
        # enough places to show two significant digits, at most 9 (one nano-dollar)
        places = min(9, -amount.adjusted() + 1)
    quantum = Decimal(1).scaleb(-places)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{sign}${rounded:,.{places}f}"


def format_tokens(count: int) -> str:
    """12,345 below a million; 1.23M, 4.5B above."""
    if count >= 10**9:
        return f"{count / 10**9:.2f}B"
    if count >= 10**6:
        return f"{count / 10**6:.2f}M"
    return f"{count:,}"
