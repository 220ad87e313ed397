"""Money at the edge: nano-dollars as JSON numbers and as text for people."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spendtray.money import format_usd, usd_json


@pytest.mark.parametrize(
    ("nanos", "dollars"),
    [
        (None, None),
        (0, 0.0),
        (1, 0.000000001),
        (6_000_000, 0.006),
        (123_456_789, 0.123456789),
        (2_500_000_000, 2.5),
        (-1_250_000, -0.00125),
    ],
)
def test_usd_json_is_the_nearest_double_to_the_exact_amount(
    nanos: int | None, dollars: float | None
) -> None:
    assert usd_json(nanos) == dollars


def test_usd_json_of_amounts_beyond_double_precision_is_still_the_nearest_double() -> None:
    # 2**53 + 1 nano-dollars cannot be a float; converting before dividing rounded twice.
    nanos = 9_232_378_980_573_623
    assert usd_json(nanos) == float(Decimal(nanos) / Decimal(10**9))


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (None, "—"),
        (0, "$0.00"),
        (1_234_560_000_000, "$1,234.56"),
        (4_200_000, "$0.0042"),
        (-2_500_000_000, "-$2.50"),
        (1, "$0.000000001"),
    ],
)
def test_format_usd_reads_like_money(nanos: int | None, text: str) -> None:
    assert format_usd(nanos) == text
