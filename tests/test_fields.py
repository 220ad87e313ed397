"""The shared token field list matches the structures that rely on its order."""

from __future__ import annotations

from spendtray.fields import TOKEN_FIELDS
from spendtray.prices.calc import TokenCounts


def test_token_fields_are_token_counts_in_order() -> None:
    # estimator.whatif_rowwise builds TokenCounts(*row) from columns selected in this order.
    assert TokenCounts._fields == TOKEN_FIELDS
