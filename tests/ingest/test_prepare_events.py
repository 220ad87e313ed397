"""``IngestService.prepare_events`` (events built in code: importers, receivers): each event
priced as ``price`` prices it alone, with one receive time for the whole batch, as a posted
batch gets; an event out of bounds left out and listed."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from spendtray.ingest.event import UsageEvent
from spendtray.ingest.service import IngestService
from spendtray.prices.book import PriceBook
from spendtray.prices.calc import TokenCounts
from spendtray.store.writer import Writer

START = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)


def _event(day: int, tokens: int, tags: dict[str, object] | None = None) -> UsageEvent:
    return UsageEvent(
        model="claude-sonnet-4-5",
        provider="anthropic",
        counts=TokenCounts(input_tokens=tokens, output_tokens=tokens // 10),
        timestamp=START - dt.timedelta(days=day),
        request_id=f"req-{day}",
        source="claude-code",
        tags=tags,
    )


def test_one_receive_time_per_batch_and_each_row_as_priced_alone(tmp_path: Path) -> None:
    ticks = itertools.count()
    # A clock that moves on every reading: the batch must read it once.
    service = IngestService(
        PriceBook.load(),
        Writer(tmp_path / "never-opened.db"),
        clock=lambda: START + dt.timedelta(seconds=next(ticks)),
    )
    events = [_event(day, 1000 + day, {"sidechain": True, "é": "ü"}) for day in range(400)]
    events.append(_event(500, -1))  # out of bounds: left out, listed
    refused: list[tuple[int, object]] = []
    rows = service.prepare_events(events, refused)
    assert [index for index, _ in refused] == [400]
    assert {row.received_at for row in rows} == {int(START.timestamp() * 1000)}
    alone = IngestService(PriceBook.load(), service.writer, clock=lambda: START)
    for event, row in zip(events, rows, strict=False):
        want = alone.price(event)
        assert row._replace(received_at=0) == want._replace(received_at=0)
    assert rows[0].tags == '{"sidechain":true,"\\u00e9":"\\u00fc"}'
