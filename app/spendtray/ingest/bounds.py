"""The bounds on what one event may count and cost, and on what stored sums may reach. Pure;
any thread.

Every path that stores events — ``POST /v1/usage``, the proxy, the OTLP and LiteLLM receivers,
the log importers, and whatever comes later — goes through ``IngestService``'s pricing step,
which applies ``check_counts`` (events built in code) and ``check_cost`` (all of them); the
writer applies ``SUM_LIMIT`` to the database's grand totals.

Why a grand total: every sum the app computes (rollups, summaries over any range, budget
spend) adds non-negative per-event values, so each is at most the database's total. Keeping
the totals of cost and of input + output tokens under ``SUM_LIMIT`` (a quarter of the int64
range; token sums over several columns stay under half of it) keeps every sum inside SQLite's
64-bit integers, where ``sum()`` would otherwise fail with "integer overflow" on every read,
for good.
"""

from __future__ import annotations

from spendtray.ingest.event import MAX_TOKENS, EventError
from spendtray.money import format_usd
from spendtray.prices.calc import TokenCounts

# The most one call may cost: far above any real call (a full 1M-token prompt and 100k output
# tokens of the dearest model cost a few hundred dollars), far below what overflows.
MAX_EVENT_COST_NANOS = 10_000 * 10**9
SUM_LIMIT = 2**61


def check_counts(counts: TokenCounts) -> None:
    """Each count a whole number in [0, MAX_TOKENS]. Events posted over HTTP were checked by
    the validator already; events built in code (importers, receivers) are checked here."""
    for name, value in (
        ("input_tokens", counts.input_tokens),
        ("output_tokens", counts.output_tokens),
        ("cache_read_tokens", counts.cache_read_tokens),
        ("cache_write_tokens", counts.cache_write_tokens),
        ("cache_write_5m_tokens", counts.cache_write_5m_tokens),
        ("cache_write_1h_tokens", counts.cache_write_1h_tokens),
        ("reasoning_tokens", counts.reasoning_tokens),
    ):
        if type(value) is not int or value < 0:
            raise EventError(name, f"must be a whole number ≥ 0, got {value!r}")
        if value > MAX_TOKENS:
            raise EventError(name, f"{value} is implausibly large")


def check_cost(cost_nanos: int, model: str) -> None:
    """Refuse a call whose computed cost is over ``MAX_EVENT_COST_NANOS``."""
    if cost_nanos > MAX_EVENT_COST_NANOS:
        raise EventError(
            "cost",
            f"this call would cost {format_usd(cost_nanos)} at {model}'s prices, over the "
            f"{format_usd(MAX_EVENT_COST_NANOS)} one call may cost; check the token counts",
        )


class TotalsFull(ValueError):
    """Storing these events would take the database's totals past ``SUM_LIMIT``."""
