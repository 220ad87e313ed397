"""The row shape of a stored event, shared by the writer (insert) and the ingest service.

Any thread; pure data. Building the row in the caller keeps the writer thread's work to SQL
only. ``EventRow`` names every column of the events table, in the table's order, so the
writer can bind it as it is and everyone else reads fields by name.
"""

from __future__ import annotations

from typing import NamedTuple

from spendtray.fields import CACHE_WRITE_TTL_FIELDS, TOKEN_FIELDS

# The price an event was costed with, as the writer stores it once in ``prices_used``:
# model, provider, unit prices (JSON), source, date. An event row carries this tuple where
# ``price_id`` goes (None when unpriced); the writer swaps in the id.
PRICE_FIELDS = ("price_model", "price_provider", "unit_prices", "price_source", "price_date")
PriceFields = tuple[str, str, str, str, str | None]


class EventRow(NamedTuple):
    """One event ready to insert: the events table's columns, in its order. ``id`` is None
    until the writer numbers it; ``price_id`` holds the ``PriceFields`` of the event's price
    (or None) until the writer stores them in ``prices_used`` and puts their id there."""

    id: int | None
    ts: int  # epoch milliseconds UTC
    received_at: int
    project: str
    model: str
    provider: str
    agent: str
    user: str | None
    session: str | None
    trace_id: str | None
    request_id: str | None
    source: str
    service_tier: str | None
    batch: int  # 0 | 1
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    reasoning_tokens: int
    cost_nanos: int | None
    priced: int  # 0 | 1
    unpriced_reason: str | None
    price_id: PriceFields | int | None
    reported_cost_nanos: int | None
    latency_ms: float | None
    status: str | None
    tags: str | None  # JSON
    raw_usage: str | None  # JSON
    call_key: str | None
    machine: str
    origin: str | None  # the machine a synced row came from (None: stored here first)

    def get(self, column: str) -> object:
        return getattr(self, column)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


EVENT_COLUMNS: tuple[str, ...] = EventRow._fields

COLUMN_INDEX = {name: i for i, name in enumerate(EVENT_COLUMNS)}
# The summed columns of both rollup tables (store.fold sums events into them).
SUM_FIELDS = (
    "calls",
    *(f for f in TOKEN_FIELDS if f not in CACHE_WRITE_TTL_FIELDS),
    "cost_nanos",
    "unpriced_calls",
)
