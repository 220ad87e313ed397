"""Money at the edge: nano-dollars as JSON numbers and as text for people."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spendtray.money import format_usd, usd_float


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
def test_usd_float_is_the_nearest_double_to_the_exact_amount(
    nanos: int | None, dollars: float | None
) -> None:
    assert usd_float(nanos) == dollars


def test_usd_float_of_amounts_beyond_double_precision_is_still_the_nearest_double() -> None:
    # 2**53 + 1 nano-dollars cannot be a float; converting before dividing rounded twice.
    nanos = 9_232_378_980_573_623
    assert usd_float(nanos) == float(Decimal(nanos) / Decimal(10**9))


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (None, "—"),
        (0, "$0.00"),
        (1_234_560_000_000, "$1,234.56"),
        (4_200_000, "$0.0042"),
        (-2_500_000_000, "-$2.50"),
        (10_300_000, "$0.0103"),
        (10_700_000, "$0.0107"),
        (10_000_000, "$0.01"),
        (123_456_789, "$0.123"),
        (420_000_000, "$0.42"),
        (420_000, "$0.00042"),
        (1_500, "$0.000002"),
        (999_510_000, "$1.00"),
        (1, "<$0.000001"),
        (-1, "-<$0.000001"),
        (-4_200_000, "-$0.0042"),
    ],
)
def test_format_usd_reads_like_money(nanos: int | None, text: str) -> None:
    assert format_usd(nanos) == text


@pytest.mark.parametrize("nanos", [1, 7, 999, 1_000, 1_234, 56_789, 4_200_000, 98_765_432])
def test_small_amounts_never_show_more_than_six_places(nanos: int) -> None:
    places = len(format_usd(nanos).partition(".")[2])
    assert places <= 6


def test_neighbouring_small_calls_stay_apart() -> None:
    # two calls a few hundredths of a cent apart must not read the same
    texts = {format_usd(n) for n in (10_300_000, 10_400_000, 10_500_000, 10_600_000)}
    assert len(texts) == 4


@pytest.mark.parametrize(
    ("nanos", "precision", "text"),
    [
        (1_234_560_000_000, 0, "$1,235"),
        (1_000_000_000, 0, "$1"),
        (10_000_000, 4, "$0.0100"),
        (123_456_789, 4, "$0.1235"),
        (2_500_000_000, 4, "$2.5000"),
    ],
)
def test_precision_sets_the_places_from_a_dollar_up(nanos: int, precision: int, text: str) -> None:
    assert format_usd(nanos, precision) == text
