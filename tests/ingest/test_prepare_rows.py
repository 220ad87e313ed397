"""``IngestService.prepare_rows`` (what an import worker prices its records with) gives, for
every event, exactly the row ``prepare_events`` gives, field by field — on every Claude Code
usage line of the real corpora and on events that take each of its other turns (refused
counts and costs, unknown models, usage missing, unknown provider, every optional field)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spendtray.claude_code_projects import ProjectNames
from spendtray.importers.claude_code import ClaudeCodeParser, file_facts
from spendtray.importers.parsing import ParseStats
from spendtray.ingest.event import EventError, UsageEvent
from spendtray.ingest.service import IngestService
from spendtray.prices.book import PriceBook
from spendtray.prices.calc import TokenCounts
from spendtray.store.writer import Writer

NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
CLAUDE = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "claude_code"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> IngestService:
    folder = tmp_path_factory.mktemp("prepare-rows")
    return IngestService(PriceBook.load(), Writer(folder / "never-opened.db"), clock=lambda: NOW)


def _both(
    service: IngestService, events: list[UsageEvent]
) -> tuple[list[tuple[object, ...] | None], list[tuple[object, ...] | None], list[str], list[str]]:
    """(generic rows, direct rows, generic refusals, direct refusals), None where refused."""
    generic_refused: list[tuple[int, EventError]] = []
    generic = iter(service.prepare_events(events, generic_refused))
    left_out = {index for index, _ in generic_refused}
    want = [None if i in left_out else tuple(next(generic)) for i in range(len(events))]
    direct_refused: list[tuple[int, EventError]] = []
    got = service.prepare_rows(events, direct_refused)
    return (
        want,
        got,
        [f"{i} {e.field}: {e}" for i, e in generic_refused],
        [f"{i} {e.field}: {e}" for i, e in direct_refused],
    )


def _corpus_events() -> list[UsageEvent]:
    events: list[UsageEvent] = []
    projects = ProjectNames()
    for path in sorted(CLAUDE.rglob("*.jsonl")):
        folder, subagent = file_facts(path.parent, str(path))
        parser = ClaudeCodeParser(str(path), folder, subagent, projects, ParseStats(), NOW)
        parser.feed_block(path.read_bytes(), 0)
        events.extend(record.event for record in parser.records)
    return events


@pytest.mark.skipif(not CLAUDE.is_dir(), reason="../shared/corpora is not here")
def test_every_claude_code_usage_of_the_corpora_gets_the_same_row(service: IngestService) -> None:
    events = _corpus_events()
    assert len(events) > 600  # every corpus read (633 calls), not an empty folder
    want, got, want_refused, got_refused = _both(service, events)
    assert got_refused == want_refused
    assert len(got) == len(want)
    for event, a, b in zip(events, want, got, strict=True):
        assert b == a, event
    # Priced calls of several models, side-chain tags and service tiers were compared.
    assert all(row is not None and row[21] is not None for row in got)
    assert len({row[4] for row in got if row is not None}) > 5
    assert any(row is not None and row[28] is not None for row in got)
    assert any(row is not None and row[12] is not None for row in got)


def _event(counts: TokenCounts, **fields: object) -> UsageEvent:
    base: dict[str, object] = {
        "model": "claude-sonnet-4-5",
        "provider": "anthropic",
        "counts": counts,
        "timestamp": NOW - dt.timedelta(days=3, seconds=7),
        "request_id": "req-1",
        "source": "claude-code",
    }
    return UsageEvent(**{**base, **fields})  # type: ignore[arg-type]


def test_every_turn_of_the_direct_path_gives_the_generic_row(service: IngestService) -> None:
    ok = TokenCounts(1200, 300, 100, 200, 150, 50)
    events = [
        _event(ok),
        _event(ok, tags={"sidechain": True, "é": "ü"}, raw_usage={"input_tokens": 1, "ñ": 2}),
        _event(
            ok,
            project="shop",
            agent="claude-code/Explore",
            user="dev",
            session="s-1",
            trace_id="t-1",
            service_tier="priority",
            batch=True,
            reported_cost_nanos=1234,
            latency_ms=12.5,
            status="ok",
            call_key="k",
            machine="other-box",
            timestamp=dt.datetime(2025, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        ),
        _event(ok, model="no-such-model-anywhere"),  # unpriced, with the book's reason
        _event(ok, provider="unknown", model="gpt-4o"),  # the price names the provider
        _event(TokenCounts(), tags={"usage": "missing"}),  # no usage: cost unknown
        _event(TokenCounts(10, 1, 100)),  # fewer inputs than cache reads: cannot price
        _event(TokenCounts(-1, 3)),  # refused: negative
        _event(TokenCounts(10, 10**12 + 1)),  # refused: implausibly large
        _event(TokenCounts(10, 2.0)),  # type: ignore[arg-type]  # refused: not a whole number
        _event(TokenCounts(10, True)),  # refused: a bool is no count
        _event(TokenCounts(10, "7")),  # type: ignore[arg-type]  # refused: a string
        _event(TokenCounts(10**12, 10**12), model="claude-opus-4-1"),  # refused: cost
        _event(TokenCounts(10, 1, reasoning_tokens=0.0)),  # type: ignore[arg-type]  # the last
        _event(TokenCounts(10, 1, reasoning_tokens=-1)),  # the last count, negative
        _event(ok, agent=None),
    ]
    want, got, want_refused, got_refused = _both(service, events)
    assert [i for i, row in enumerate(got) if row is None] == [7, 8, 9, 10, 11, 12, 13, 14]
    assert got_refused == want_refused
    assert "implausibly large" in got_refused[1] and "would cost" in got_refused[5]
    assert got == want
    assert got[1] is not None and got[1][28] == '{"sidechain":true,"\\u00e9":"\\u00fc"}'
    assert got[4] is not None and got[4][5] == "openai"
    assert got[6] is not None and str(got[6][23]).startswith("cannot price this usage")
