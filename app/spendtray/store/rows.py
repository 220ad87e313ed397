"""The row shape of a stored event, shared by the writer (insert) and the ingest service.

Any thread; pure data. Building the tuple in the caller keeps the writer thread's work to
SQL only.
"""

from __future__ import annotations

from dataclasses import dataclass

from spendtray.fields import CACHE_WRITE_TTL_FIELDS, TOKEN_FIELDS
from spendtray.store.db import BUCKET_SECONDS

EVENT_COLUMNS = (
    "id",
    "ts",
    "received_at",
    "project",
    "model",
    "provider",
    "agent",
    "user",
    "session",
    "trace_id",
    "request_id",
    "source",
    "service_tier",
    "batch",
    *TOKEN_FIELDS,
    "cost_nanos",
    "priced",
    "unpriced_reason",
    "price_model",
    "price_provider",
    "unit_prices",
    "price_source",
    "price_date",
    "reported_cost_nanos",
    "latency_ms",
    "status",
    "tags",
    "raw_usage",
)
COLUMN_INDEX = {name: i for i, name in enumerate(EVENT_COLUMNS)}
# The summed columns of both rollup tables, in the order of ``EventRow.rollup_values``.
SUM_FIELDS = (
    "calls",
    *(f for f in TOKEN_FIELDS if f not in CACHE_WRITE_TTL_FIELDS),
    "cost_nanos",
    "unpriced_calls",
)


_TS, _PROJECT, _MODEL, _PROVIDER, _AGENT, _SOURCE = (
    COLUMN_INDEX[c] for c in ("ts", "project", "model", "provider", "agent", "source")
)
# The stored columns behind SUM_FIELDS between "calls" and "unpriced_calls".
_INPUT, _OUTPUT, _CACHE_READ, _CACHE_WRITE, _REASONING, _COST = (
    COLUMN_INDEX[c] for c in SUM_FIELDS[1:-1]
)
_PRICED = COLUMN_INDEX["priced"]


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


@dataclass(slots=True)
class EventRow:
    """One event ready to insert; ``values`` follows ``EVENT_COLUMNS`` with id = None."""

    values: list[object]

    def get(self, column: str) -> object:
        return self.values[COLUMN_INDEX[column]]

    @property
    def request_id(self) -> str | None:
        value = self.values[COLUMN_INDEX["request_id"]]
        return value if isinstance(value, str) else None

    @property
    def total_tokens(self) -> int:
        v = self.values
        return _int(v[COLUMN_INDEX["input_tokens"]]) + _int(v[COLUMN_INDEX["output_tokens"]])

    def rollup_key(self) -> tuple[int, str, str, str, str, str]:
        v = self.values
        ts = v[_TS]
        bucket = (ts // 1000) // BUCKET_SECONDS * BUCKET_SECONDS if isinstance(ts, int) else 0
        return (
            bucket,
            str(v[_PROJECT]),
            str(v[_MODEL]),
            str(v[_PROVIDER]),
            str(v[_AGENT]),
            str(v[_SOURCE]),
        )

    def rollup_values(self) -> tuple[int, int, int, int, int, int, int, int]:
        """calls, input, output, cache_read, cache_write, reasoning, cost_nanos, unpriced."""
        v = self.values
        # Token columns are NOT NULL integers everywhere a row comes from (ingest, the DB);
        # only the cost is NULL (unpriced). Once per stored event, so no per-field checks.
        cost = v[_COST]
        return (
            1,
            v[_INPUT],  # type: ignore[return-value]
            v[_OUTPUT],
            v[_CACHE_READ],
            v[_CACHE_WRITE],
            v[_REASONING],
            cost if isinstance(cost, int) else 0,
            0 if v[_PRICED] else 1,
        )
