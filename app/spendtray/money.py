"""Formatting money and token counts for people. Pure; any thread (the GUI uses it too).

Amounts are integer nano-dollars inside Spendtray; dollars appear only here, at the edge.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NANOS = Decimal(10**9)


def nanos_to_decimal(nanos: int) -> Decimal:
    return Decimal(nanos) / NANOS


def usd_float(nanos: int | None) -> float | None:
    """Nano-dollars -> a JSON number of dollars for API output (such floats are shown, never
    summed). Integer true division is correctly rounded: the nearest double to the exact
    amount, which is what rounding to 9 places gave, at a tenth of the cost (once per event
    in every ingest reply)."""
    return None if nanos is None else int(nanos) / 1_000_000_000


# Below a dollar, three significant digits tell neighbouring small calls apart ($0.0103 and
# $0.0107); past six places nobody reads the digits, so smaller amounts say so instead.
SIGNIFICANT = 3
MAX_PLACES = 6
_TINY = Decimal(1).scaleb(-MAX_PLACES)


def format_usd(nanos: int | None, precision: int = 2) -> str:
    """The one way Spendtray writes an amount for people (GUI, CLI, tray, notifications).

    From a dollar up, ``precision`` places ($1,234.56). Below a dollar, three significant
    digits with trailing zeros dropped down to ``precision`` places ($0.42, $0.123, $0.0042,
    $0.00042), at most six places: a non-zero amount below $0.000001 reads "<$0.000001".
    Never 0.00 for a non-zero amount, never eight decimals.
    """
    if nanos is None:
        return "—"
    amount = nanos_to_decimal(nanos)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == 0:
        return f"${Decimal(0):.{precision}f}"
    if amount < _TINY:
        return f"{sign}<${_TINY:.{MAX_PLACES}f}"
    places = precision
    if amount < 1:
        places = max(precision, min(MAX_PLACES, SIGNIFICANT - 1 - amount.adjusted()))
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    if places > precision:
        # $0.0100 -> $0.01: the extra places are there for small amounts' digits, not zeros
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0").ljust(precision, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    return f"{sign}${text}"


def format_tokens(count: int) -> str:
    """12,345 below a million; 1.23M, 4.5B above."""
    if count >= 10**9:
        return f"{count / 10**9:.2f}B"
    if count >= 10**6:
        return f"{count / 10**6:.2f}M"
    return f"{count:,}"
