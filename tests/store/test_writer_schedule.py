"""The writer thread's order of work: small jobs before large ones, large jobs and calls in the
order they came (a call such as the budgets' flush must see every job submitted before it), and
fold transactions sized to a short time, taking turns with large jobs."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spendtray.store.fold import folded_through
from spendtray.store.reader import Filters, Reader
from spendtray.store.rows import EVENT_COLUMNS, EventRow
from spendtray.store.writer import (
    FOLD_CHUNK,
    FOLD_CHUNK_MIN,
    FOLD_EVENTS,
    FOLD_SECONDS,
    FOLD_TXN_SECONDS,
    SMALL_JOB_ROWS,
    Writer,
    _next_fold_chunk,
)


def _rows(n: int, project: str) -> list[EventRow]:
    at = {name: i for i, name in enumerate(EVENT_COLUMNS)}
    rows = []
    for i in range(n):
        values: list[object] = [None] * len(EVENT_COLUMNS)
        for name, value in {
            "ts": 1_700_000_000_000 + i,
            "received_at": 1_700_000_000_000,
            "project": project,
            "model": "gpt-4o",
            "provider": "openai",
            "agent": "",
            "source": "api",
            "machine": "laptop",
            "batch": 0,
            "input_tokens": 10,
            "output_tokens": 1,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cache_write_5m_tokens": 0,
            "cache_write_1h_tokens": 0,
            "reasoning_tokens": 0,
            "priced": 0,
        }.items():
            values[at[name]] = value
        rows.append(EventRow(*values))
    return rows


def test_calls_and_large_jobs_keep_their_order_and_small_jobs_go_first(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "db.sqlite")
    writer.start()
    try:
        entered, release = threading.Event(), threading.Event()

        def hold(db: object) -> None:
            entered.set()
            release.wait(30)

        holder = threading.Thread(target=writer.call, args=(hold,))
        holder.start()
        entered.wait(10)
        large = writer.submit(_rows(SMALL_JOB_ROWS + 1, "large"))
        seen: list[int] = []
        call = threading.Thread(
            target=writer.call,
            args=(lambda db: seen.append(db.execute("SELECT count(*) FROM events").fetchone()[0]),),
        )
        call.start()
        while writer._queue.qsize() < 2:
            threading.Event().wait(0.005)
        small = writer.submit(_rows(3, "small"))
        release.set()
        holder.join(30)
        call.join(30)
        large_ids = [o.id for o in large.result(30)]
        small_ids = [o.id for o in small.result(30)]
    finally:
        writer.stop()
    assert max(small_ids) < min(large_ids)  # the small job went first
    assert seen == [SMALL_JOB_ROWS + 1 + 3]  # the call came after the job queued before it


def test_a_fold_chunk_is_fitted_to_the_time_a_fold_took() -> None:
    # 2,000 ids took ten times the target: the next chunk moves halfway towards 200.
    assert _next_fold_chunk(2_000, 2_000, 10 * FOLD_TXN_SECONDS) == (2_000 + 200) // 2
    # Fast folds grow the chunk, never past FOLD_CHUNK; slow ones never below FOLD_CHUNK_MIN.
    assert _next_fold_chunk(1_000, 1_000, FOLD_TXN_SECONDS / 10) == FOLD_CHUNK
    assert _next_fold_chunk(FOLD_CHUNK_MIN, FOLD_CHUNK_MIN, 100.0) == FOLD_CHUNK_MIN
    # What one fold covered, not the chunk asked for, is the rate's measure (a backlog's tail).
    assert _next_fold_chunk(400, 100, FOLD_TXN_SECONDS) == (400 + 100) // 2


def _folded_through(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return folded_through(conn)
    finally:
        conn.close()


def test_a_writer_started_without_folding_stores_but_never_folds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "db.sqlite"
    checkpoints: list[Writer] = []
    original = Writer._run_checkpoints

    def spy(self: Writer, conn: sqlite3.Connection) -> None:
        checkpoints.append(self)
        original(self, conn)

    monkeypatch.setattr(Writer, "_run_checkpoints", spy)
    first = Writer(db_path)
    first.start(folds=False)
    first.write(_rows(5, "before"))
    first.stop()
    # Started on a file with unfolded events (which a folding writer folds as it starts),
    # given more than a fold's worth and time for a fold to fall due, then stopped.
    writer = Writer(db_path)
    writer.start(folds=False)
    writer.write(_rows(FOLD_EVENTS, "big"))
    time.sleep(2 * FOLD_SECONDS)
    writer.call(lambda db: None)
    writer.stop()
    assert _folded_through(db_path) == 0  # nothing folded
    assert checkpoints == []  # and no checkpoint thread ran
    # Readers add what is not folded: the summary counts every event.
    reader = Reader(db_path, ZoneInfo("UTC"))
    try:
        rows = reader.summary("project", Filters()).rows
    finally:
        reader.close()
    assert {r.key: r.calls for r in rows if r.calls} == {"before": 5, "big": FOLD_EVENTS}
    # The same with a folding writer: it folds, and checkpoints after.
    folding = Writer(db_path)
    folding.start()
    folding.write(_rows(3, "later"))
    folding.stop()
    assert _folded_through(db_path) > 0
    assert checkpoints == [folding]
