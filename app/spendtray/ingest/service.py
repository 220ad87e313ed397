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
from concurrent.futures import Future
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, cast

import orjson

from spendtray.clock import utc_now
from spendtray.ingest.bounds import MAX_EVENT_COST_NANOS, check_cost, check_counts
from spendtray.ingest.event import FUTURE_SLACK, EventError, PostedEvent, UsageEvent, posted_event
from spendtray.machine import default_machine_name
from spendtray.money import usd_float
from spendtray.prices.book import UNKNOWN_PROVIDER, PriceBook, ResolvedPrice
from spendtray.prices.calc import PricingError
from spendtray.store.rows import EventRow, PriceFields
from spendtray.store.writer import WriteOutcome, Writer

# The unpriced reason of a call whose usage never arrived (tag ``usage: missing``: an OpenAI
# stream without ``include_usage``): its cost is unknown, not $0.
USAGE_MISSING = "the call reported no token usage (tag usage: missing), so its cost is unknown"


class BatchError(ValueError):
    """One event of a batch is invalid; nothing of the batch was stored."""

    def __init__(self, index: int, error: EventError) -> None:
        super().__init__(f"event {index}: {error}")
        self.index = index
        self.error = error

    def details(self) -> list[dict[str, Any]]:
        return [{"index": self.index, "field": self.error.field, "problem": self.error.problem}]


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    events: list[dict[str, Any]]  # [{"id", "cost_usd", "priced"}]
    projects: frozenset[str]
    # Events built in code that were out of bounds and left out: (index, error).
    refused: tuple[tuple[int, EventError], ...] = ()


# The row, a named tuple, built from a tuple of its values without a Python-level call.
_new_tuple = tuple.__new__


def _ms(stamp: dt.datetime) -> int:
    return int(stamp.timestamp() * 1000)


_fields_of = attrgetter(*PostedEvent._fields)


def _values(event: UsageEvent) -> PostedEvent:
    """A ``UsageEvent``'s fields as a tuple in ``PostedEvent``'s order (what ``_price``
    takes): the same values, not a ``PostedEvent`` instance."""
    return cast(PostedEvent, _fields_of(event))


# json.dumps(value, separators=(",", ":")) builds this encoder on every call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _compact_json(value: dict[str, Any]) -> str:
    """``value`` (raw usage, tags) as compact JSON, as ``json`` writes it. orjson writes the
    same text for ASCII-only values (all of them, in practice) four times faster; where it
    would keep text as UTF-8 that ``json`` escapes, ``json``'s text is the one stored."""
    fast = orjson.dumps(value)
    return fast.decode() if fast.isascii() else _COMPACT.encode(value)


def stored_event(row: EventRow, outcome: WriteOutcome) -> dict[str, Any]:
    """One event's object in the reply to a POST: its id, cost, and whether it was a
    duplicate."""
    cost = row.cost_nanos
    item: dict[str, Any] = {
        "id": outcome.id,
        "cost_usd": usd_float(cost),
        "priced": cost is not None,
    }
    if row.unpriced_reason:
        item["unpriced_reason"] = row.unpriced_reason
    if outcome.duplicate:
        item["duplicate"] = True
    return item


class IngestService:
    def __init__(
        self,
        prices: PriceBook,
        writer: Writer,
        clock: Callable[[], dt.datetime] = utc_now,
        machine: str | None = None,
    ) -> None:
        self.prices = prices
        self.writer = writer
        self.clock = clock
        # The name events stored here carry unless they came from another machine (sync).
        self.machine = machine or default_machine_name()

    def price(self, event: UsageEvent) -> EventRow:
        return self._price(_values(event), _ms(event.timestamp), _ms(self.clock()))

    def _price(self, event: PostedEvent, ts_ms: int, received_ms: int) -> EventRow:
        """``price`` of an event's values (a ``PostedEvent``, or a ``UsageEvent``'s through
        ``_values``), with the event's time and the receive time already in epoch ms."""
        # Unpacked once: reading twenty fields of a named tuple by name cost more than all of
        # its costing.
        (
            model,
            provider,
            counts,
            stamp,
            project,
            agent,
            user,
            session,
            trace_id,
            request_id,
            service_tier,
            batch,
            source,
            reported_cost_nanos,
            latency_ms,
            status,
            tags,
            raw_usage,
            call_key,
            machine,
        ) = event
        if tags and tags.get("usage") == "missing":
            found: ResolvedPrice | str = USAGE_MISSING  # no counts: $0 would be a guess
        else:
            found = self.prices.price_at(model, provider, stamp, ts_ms, service_tier, batch)
        cost: int | None = None
        stored: PriceFields | None = None
        if isinstance(found, str):
            reason: str | None = found
        else:
            if provider == UNKNOWN_PROVIDER:
                # Not given, not inferable from the name: the price override that matched
                # names it (a fine-tune priced with provider = "openai").
                provider = found.provider_id
            try:
                cost = found.compiled.cost_nanos(counts)
            except PricingError as exc:
                reason = f"cannot price this usage: {exc}"
            else:
                if cost > MAX_EVENT_COST_NANOS:
                    check_cost(cost, model)
                reason, stored = None, found.stored_fields
        inputs, outputs, cache_read, cache_write, write_5m, write_1h, reasoning = counts
        # A tuple of the values at once: with 33 keywords, building the row took longer than
        # costing the event, and the named tuple's own constructor is a Python function of
        # 33 parameters.
        return _new_tuple(
            EventRow,
            (
                None,  # id: the writer numbers it
                ts_ms,
                received_ms,
                project,
                model,
                provider,
                agent or "",
                user,
                session,
                trace_id,
                request_id,
                source,
                service_tier,
                1 if batch else 0,
                inputs,
                outputs,
                cache_read,
                cache_write,
                write_5m,
                write_1h,
                reasoning,
                cost,
                1 if cost is not None else 0,  # priced
                reason,  # unpriced_reason
                stored,  # price_id: the writer stores it in prices_used and puts its id here
                reported_cost_nanos,
                latency_ms,
                status,
                _compact_json(tags) if tags else None,
                _compact_json(raw_usage) if raw_usage else None,
                call_key,
                machine or self.machine,
                None,  # origin: stored here first (sync.follower builds other machines' rows)
            ),
        )

    def prepare(self, raw_events: Sequence[Any], source: str = "api") -> list[EventRow]:
        """Validate and price every event; raises ``BatchError`` for the first bad one."""
        now = self.clock()
        latest = now + FUTURE_SLACK
        # One receive time for the whole batch: it arrived in one request.
        now_ms = _ms(now)
        rows: list[EventRow] = []
        add_row, price = rows.append, self._price
        for index, raw in enumerate(raw_events):
            try:
                event = posted_event(raw, now, latest, source)
            except EventError as exc:
                raise BatchError(index, exc) from None
            stamp = event.timestamp
            try:
                add_row(price(event, now_ms if stamp is now else _ms(stamp), now_ms))
            except EventError as exc:
                raise BatchError(index, exc) from None
        return rows

    def prepare_events(
        self,
        events: Sequence[UsageEvent],
        refused: list[tuple[int, EventError]] | None = None,
    ) -> list[EventRow]:
        """Check the bounds of and price events that were built in code (importers,
        receivers) rather than posted. An event out of bounds raises ``BatchError``, or, given
        a ``refused`` list, is left out and listed there as (index, error)."""
        rows: list[EventRow] = []
        add_row, price = rows.append, self._price
        # One receive time for the batch, as ``prepare`` gives a request's events.
        now_ms = _ms(self.clock())
        for index, event in enumerate(events):
            try:
                check_counts(event.counts)
                add_row(price(_values(event), _ms(event.timestamp), now_ms))
            except EventError as exc:
                if refused is None:
                    raise BatchError(index, exc) from None
                refused.append((index, exc))
        return rows

    @staticmethod
    def result(
        rows: list[EventRow],
        outcomes: list[WriteOutcome],
        refused: Sequence[tuple[int, EventError]] = (),
    ) -> IngestResult:
        """The reply to stored ``rows``: each one's id, cost, and whether it was a duplicate."""
        events = list(map(stored_event, rows, outcomes))
        duplicates = sum(o.duplicate for o in outcomes)
        return IngestResult(
            accepted=len(outcomes) - duplicates,
            duplicates=duplicates,
            events=events,
            projects=frozenset(row.project for row in rows),
            refused=tuple(refused),
        )

    def ingest(self, raw_events: Sequence[Any], source: str = "api") -> IngestResult:
        """Blocking: validate, price, store and wait for the commit."""
        rows = self.prepare(raw_events, source)
        outcomes = self.writer.write(rows) if rows else []
        return self.result(rows, outcomes)

    def submit_events(self, events: Sequence[UsageEvent]) -> Future[IngestResult]:
        """``ingest_events`` without waiting for the commit: validated and priced now, the
        future resolves after COMMIT (or with the writer's error)."""
        refused: list[tuple[int, EventError]] = []
        rows = self.prepare_events(events, refused)
        return self.submit_rows(rows, refused)

    def submit_rows(
        self, rows: list[EventRow], refused: Sequence[tuple[int, EventError]] = ()
    ) -> Future[IngestResult]:
        """``submit_events`` of rows ``prepare_events`` made (in an import worker process,
        ``importers/workers.py``): the future resolves after COMMIT."""
        done: Future[IngestResult] = Future()
        if not rows:
            done.set_result(self.result(rows, [], refused))
            return done

        def committed(written: Future[list[WriteOutcome]]) -> None:
            error = written.exception()
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(self.result(rows, written.result(), refused))

        self.writer.submit(rows).add_done_callback(committed)
        return done

    def ingest_events(self, events: Sequence[UsageEvent]) -> IngestResult:
        """Blocking: store the events built in code (importers); those out of bounds are left
        out and listed in the result's ``refused``."""
        refused: list[tuple[int, EventError]] = []
        rows = self.prepare_events(events, refused)
        return self.ingest_rows(rows, refused)

    def ingest_rows(
        self, rows: list[EventRow], refused: Sequence[tuple[int, EventError]] = ()
    ) -> IngestResult:
        """Blocking ``submit_rows``."""
        outcomes = self.writer.write(rows) if rows else []
        return self.result(rows, outcomes, refused)
