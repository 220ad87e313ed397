"""``TokenCounts`` is a value: immutable, compared and hashed by its counts, built by
position or by name with zeros for what is left out."""

from __future__ import annotations

import pytest

from spendtray.prices.calc import TokenCounts


def test_token_counts_cannot_be_changed() -> None:
    counts = TokenCounts(100, 20, cache_read_tokens=30)
    with pytest.raises(AttributeError):
        counts.input_tokens = 5  # type: ignore[misc]
    assert counts == TokenCounts(100, 20, 30, 0, 0, 0, 0)
    assert counts.cache_write_tokens == 0 and counts.reasoning_tokens == 0


def test_equal_counts_are_one_key() -> None:
    seen = {TokenCounts(1, 2): "a", TokenCounts(input_tokens=1, output_tokens=2): "b"}
    assert seen == {TokenCounts(1, 2): "b"}
    assert TokenCounts(1, 2).engine_usage()["output_reasoning_tokens"] == 0
