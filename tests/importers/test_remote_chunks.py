"""``spendtray import`` into the running app posts an importer batch in POSTs of at most
``POST_EVENTS`` events (bounded transactions on the app's writer, so single events posted
meanwhile are not held back), and reports the batch as one result: every event stored once,
duplicates across POSTs counted, ids in order. The real server on port 0."""

from __future__ import annotations

import datetime as dt
import sqlite3

import httpx
import pytest

from spendtray.core import Core
from spendtray.importers import remote
from spendtray.importers.remote import ServerSink
from spendtray.ingest.event import UsageEvent
from spendtray.prices.calc import TokenCounts


def _event(n: int, request_id: str) -> UsageEvent:
    return UsageEvent(
        model="claude-sonnet-4-5",
        provider="anthropic",
        counts=TokenCounts(input_tokens=100 + n, output_tokens=10),
        timestamp=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
        project=f"p{n % 2}",
        source="claude-code",
        request_id=request_id,
    )


def test_a_batch_goes_in_bounded_posts_and_comes_back_as_one_result(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "POST_EVENTS", 3)
    sink = ServerSink(core.url, core.token)
    posted: list[int] = []

    def count(request: httpx.Request) -> None:
        if request.url.path == "/v1/usage":
            posted.append(request.content.count(b'"request_id"'))

    sink._client.event_hooks["request"].append(count)
    # The seventh event repeats the first one's request id (in another POST).
    events = [_event(n, f"req-{n}") for n in range(6)] + [_event(6, "req-0")]
    try:
        result = sink(events)
    finally:
        sink.close()

    assert posted == [3, 3, 1]
    assert (result.accepted, result.duplicates) == (6, 1)
    ids = [e["id"] for e in result.events]
    assert len(ids) == 7 and ids[:6] == sorted(ids[:6]) and ids[6] == ids[0]
    assert result.projects == {"p0", "p1"}
    core.writer.call(lambda db: None)
    conn = sqlite3.connect(core.settings.db_path)
    try:
        stored = conn.execute("SELECT count(*), count(DISTINCT request_id) FROM events").fetchone()
    finally:
        conn.close()
    assert stored == (6, 6)


def test_an_import_post_stays_off_the_event_loop() -> None:
    """An import's POST is validated on the app's thread pool and committed as a large job by
    the writer thread, not on the event loop that answers agents' single events."""
    from spendtray.server.usage_endpoint import INLINE_EVENTS
    from spendtray.store.writer import SMALL_JOB_ROWS

    assert remote.POST_EVENTS > INLINE_EVENTS
    assert remote.POST_EVENTS > SMALL_JOB_ROWS
