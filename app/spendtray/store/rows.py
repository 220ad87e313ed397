"""The row shape of a stored event, shared by the writer (insert) and the ingest service.

Any thread; pure data. Building the tuple in the caller keeps the writer thread's work to
SQL only.
"""

from __future__ import annotations

from dataclasses import dataclass

from spendtray.fields import CACHE_WRITE_TTL_FIELDS, TOKEN_FIELDS

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
    "price_id",
    "reported_cost_nanos",
    "latency_ms",
    "status",
    "tags",
    "raw_usage",
    "call_key",
    "machine",
    "origin",
)
COLUMN_INDEX = {name: i for i, name in enumerate(EVENT_COLUMNS)}
# The summed columns of both rollup tables (store.fold sums events into them).
SUM_FIELDS = (
    "calls",
    *(f for f in TOKEN_FIELDS if f not in CACHE_WRITE_TTL_FIELDS),
    "cost_nanos",
    "unpriced_calls",
)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


# The price an event was costed with, as the writer stores it once in ``prices_used``:
# model, provider, unit prices (JSON), source, date. An event row carries this tuple where
# ``price_id`` goes (None when unpriced); the writer swaps in the id.
PRICE_FIELDS = ("price_model", "price_provider", "unit_prices", "price_source", "price_date")
PriceFields = tuple[str, str, str, str, str | None]


@dataclass(slots=True)
class EventRow:
    """One event ready to insert; ``values`` follows ``EVENT_COLUMNS`` with id = None and, at
    ``price_id``, the ``PriceFields`` of its price (or None)."""

    values: list[object]

    def get(self, column: str) -> object:
        return self.values[COLUMN_INDEX[column]]

    @property
    def request_id(self) -> str | None:
        value = self.values[COLUMN_INDEX["request_id"]]
        return value if isinstance(value, str) else None

    @property
    def call_key(self) -> str | None:
        value = self.values[COLUMN_INDEX["call_key"]]
        return value if isinstance(value, str) else None

    @property
    def total_tokens(self) -> int:
        v = self.values
        return _int(v[COLUMN_INDEX["input_tokens"]]) + _int(v[COLUMN_INDEX["output_tokens"]])
