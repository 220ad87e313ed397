"""A batch's last chunk commits on the writer thread while the importer reads the next batch
(``Importer.submit``): the next batch's merge still sees it stored, and a file's offset is
saved only once the calls read up to it are, so a chunk that fails to commit is read again
by the next pass and nothing is lost or counted twice."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

import pytest
from logfactory import cc_assistant, cc_usage, write_lines

from spendtray.core import Core
from spendtray.importers import Importer
from spendtray.ingest.event import UsageEvent
from spendtray.ingest.service import IngestResult
from spendtray.store.writer import Writer

TS = "2026-03-02T10:{:02d}:00.000Z"


def _stored(core: Core) -> list[tuple[str, int]]:
    conn = sqlite3.connect(core.settings.db_path)
    try:
        return list(
            conn.execute(
                "SELECT request_id, input_tokens FROM events WHERE source = 'claude-code' "
                "ORDER BY request_id"
            )
        )
    finally:
        conn.close()


def test_a_chunk_that_fails_in_flight_is_read_again_and_stored_once(
    core: Core,
    tmp_path: Path,
    make_importer: Callable[..., Importer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs = tmp_path / "claude" / "projects" / "-p"
    for f in range(6):
        write_lines(
            logs / f"s{f}.jsonl",
            [
                cc_assistant(TS.format(n), f"s{f}", f"m{f}_{n}", f"r{f}_{n}", cc_usage(100 + n, 1))
                for n in range(4)
            ],
        )
    apply, jobs = Writer._apply, []

    def failing_third(self: Writer, *args: object, **kwargs: object) -> object:
        jobs.append(1)
        if len(jobs) == 3:
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return apply(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Writer, "_apply", failing_third)
    importer = make_importer("claude-code", tmp_path / "claude", batch_events=4, workers=0)
    with pytest.raises(sqlite3.OperationalError):
        importer.run()
    assert len(jobs) >= 3
    first = _stored(core)
    assert 0 < len(first) < 24
    monkeypatch.setattr(Writer, "_apply", apply)
    report = importer.run()  # the same importer, as the watcher's next poll
    stored = _stored(core)
    assert len(stored) == 24 and len({rid for rid, _ in stored}) == 24
    assert report.stored == 24 - len(first)
    fresh = make_importer("claude-code", tmp_path / "claude", batch_events=4, workers=0)
    assert fresh.run().files_read == 0  # every offset saved now


def test_the_next_batch_is_merged_with_the_one_still_committing(
    core: Core,
    tmp_path: Path,
    make_importer: Callable[..., Importer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sub-agent's copy of a call (no request id) in one batch and the call itself in the
    next: one call, the bigger copy, even with the first batch's commit slowed down."""
    logs = tmp_path / "claude" / "projects" / "-p"
    write_lines(
        logs / "a.jsonl",
        [cc_assistant(TS.format(1), "a", "m_x", None, cc_usage(100, 1), sidechain=True)],
    )
    write_lines(logs / "b.jsonl", [cc_assistant(TS.format(2), "b", "m_x", "r_x", cc_usage(900, 9))])
    apply = Writer._apply

    def slow(self: Writer, *args: object, **kwargs: object) -> object:
        time.sleep(0.3)
        return apply(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Writer, "_apply", slow)
    report = make_importer("claude-code", tmp_path / "claude", batch_events=1, workers=0).run()
    assert report.stored == 1
    assert [tokens for _, tokens in _stored(core)] == [900]


def test_every_chunk_of_a_batch_commits_in_flight_and_a_failed_one_keeps_the_offsets(
    core: Core, tmp_path: Path, make_importer: Callable[..., Importer]
) -> None:
    """A batch bigger than ``batch_events`` goes to the writer in chunks, none waited for
    while the next is read; the offsets are saved only once every chunk committed."""
    write_lines(
        tmp_path / "claude" / "projects" / "-p" / "s.jsonl",
        [cc_assistant(TS.format(n), "s", f"m{n}", f"r{n}", cc_usage(100 + n, 1)) for n in range(6)],
    )
    chunks: list[int] = []

    def first_fails(events: Sequence[UsageEvent]) -> Future[IngestResult]:
        chunks.append(len(events))
        if len(chunks) == 1:  # as a commit that failed: nothing of it stored
            failed: Future[IngestResult] = Future()
            failed.set_exception(sqlite3.OperationalError("disk I/O error (injected)"))
            return failed
        return core.ingest.submit_events(events)

    def blocking_store(events: Sequence[UsageEvent]) -> IngestResult:
        raise AssertionError("a chunk was stored while the importer waited")

    importer = make_importer(
        "claude-code", tmp_path / "claude", batch_events=4, workers=0, submit=first_fails
    )
    importer.store = blocking_store
    with pytest.raises(sqlite3.OperationalError):
        importer.run()  # one read of 6 calls: chunks of 4 (failed) and 2 (stored)
    assert chunks == [4, 2] and len(_stored(core)) == 2
    fresh = make_importer("claude-code", tmp_path / "claude", batch_events=4, workers=0)
    report = fresh.run()
    assert report.files_read == 1 and report.stored == 4  # read again: its offset not saved
    assert len(_stored(core)) == 6
