"""The ingest service: validate, price and store a batch of events, all or nothing.

Called from the server's event loop (``prepare`` is pure CPU, then the writer's future is
awaited) and from other threads (CLI, importers) through ``ingest``. Pricing happens here,
once, at receive time; the stored row keeps the unit prices and their source so history never
shifts when prices change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from spendtray.ingest.event import EventError, UsageEvent, normalize_event
from spendtray.money import usd_json
from spendtray.prices.book import PriceBook, UnknownModel
from spendtray.prices.calc import PricingError
from spendtray.store.rows import EventRow
from spendtray.store.writer import WriteOutcome, Writer


class BatchError(ValueError):
    """One event of a batch is invalid; nothing of the batch was stored."""

    def __init__(self, index: int, error: EventError) -> None:
        super().__init__(f"event {index}: {error}")
        self.index = index
        self.error = error

    def details(self) -> list[dict[str, Any]]:
        return [{"index": self.index, "field": self.error.field, "problem": self.error.problem}]


@dataclass(frozen=True, slots=True)
class PricedEvent:
    event: UsageEvent
    cost_nanos: int | None
    unpriced_reason: str | None


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    events: list[dict[str, Any]]  # [{"id", "cost_usd", "priced"}]
    projects: frozenset[str]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ms(stamp: dt.datetime) -> int:
    return int(stamp.timestamp() * 1000)


class IngestService:
    def __init__(
        self, prices: PriceBook, writer: Writer, clock: Callable[[], dt.datetime] = _now
    ) -> None:
        self.prices = prices
        self.writer = writer
        self.clock = clock

    def price(self, event: UsageEvent) -> tuple[EventRow, PricedEvent]:
        cost: int | None = None
        reason: str | None = None
        unit_prices = source = date = price_model = price_provider = None
        try:
            resolved = self.prices.resolve(
                event.model, event.provider, event.timestamp, event.service_tier, event.batch
            )
            cost = resolved.cost_nanos(event.counts)
        except UnknownModel as exc:
            reason = exc.reason
        except PricingError as exc:
            reason = f"cannot price this usage: {exc}"
        else:
            unit_prices = resolved.unit_prices_text
            source, date = resolved.source, resolved.price_date
            price_model, price_provider = resolved.model_id, resolved.provider_id
            if resolved.price_context:
                source = f"{source} ({resolved.price_context})"
        c = event.counts
        values: list[object] = [
            None,
            _ms(event.timestamp),
            _ms(self.clock()),
            event.project,
            event.model,
            event.provider,
            event.agent or "",
            event.user,
            event.session,
            event.trace_id,
            event.request_id,
            event.source,
            event.service_tier,
            1 if event.batch else 0,
            c.input_tokens,
            c.output_tokens,
            c.cache_read_tokens,
            c.cache_write_tokens,
            c.cache_write_5m_tokens,
            c.cache_write_1h_tokens,
            c.reasoning_tokens,
            cost,
            1 if cost is not None else 0,
            reason,
            price_model,
            price_provider,
            unit_prices,
            source,
            date,
            event.reported_cost_nanos,
            event.latency_ms,
            event.status,
            json.dumps(event.tags, separators=(",", ":")) if event.tags else None,
            json.dumps(event.raw_usage, separators=(",", ":")) if event.raw_usage else None,
        ]
        return EventRow(values), PricedEvent(event, cost, reason)

    def prepare(
        self, raw_events: Sequence[Any], source: str = "api"
    ) -> tuple[list[EventRow], list[PricedEvent]]:
        """Validate and price every event; raises ``BatchError`` for the first bad one."""
        now = self.clock()
        rows: list[EventRow] = []
        priced: list[PricedEvent] = []
        for index, raw in enumerate(raw_events):
            try:
                event = normalize_event(raw, now, source)
            except EventError as exc:
                raise BatchError(index, exc) from None
            row, p = self.price(event)
            rows.append(row)
            priced.append(p)
        return rows, priced

    def prepare_events(
        self, events: Sequence[UsageEvent]
    ) -> tuple[list[EventRow], list[PricedEvent]]:
        """Price events that were built in code (importers, receivers) rather than posted."""
        rows: list[EventRow] = []
        priced: list[PricedEvent] = []
        for event in events:
            row, p = self.price(event)
            rows.append(row)
            priced.append(p)
        return rows, priced

    @staticmethod
    def result(priced: list[PricedEvent], outcomes: list[WriteOutcome]) -> IngestResult:
        duplicates = sum(1 for o in outcomes if o.duplicate)
        return IngestResult(
            accepted=len(outcomes) - duplicates,
            duplicates=duplicates,
            events=[
                {
                    "id": o.id,
                    "cost_usd": usd_json(p.cost_nanos),
                    "priced": p.cost_nanos is not None,
                    **({"unpriced_reason": p.unpriced_reason} if p.unpriced_reason else {}),
                    **({"duplicate": True} if o.duplicate else {}),
                }
                for p, o in zip(priced, outcomes, strict=True)
            ],
            projects=frozenset(p.event.project for p in priced),
        )

    def ingest(self, raw_events: Sequence[Any], source: str = "api") -> IngestResult:
        """Blocking: validate, price, store and wait for the commit."""
        rows, priced = self.prepare(raw_events, source)
        outcomes = self.writer.write(rows) if rows else []
        return self.result(priced, outcomes)

    def ingest_events(self, events: Sequence[UsageEvent]) -> IngestResult:
        rows, priced = self.prepare_events(events)
        outcomes = self.writer.write(rows) if rows else []
        return self.result(priced, outcomes)
