"""The writer thread's order of work: small jobs before large ones, large jobs and calls in the
order they came (a call such as the budgets' flush must see every job submitted before it),
fold transactions sized to a short time while single events come, taking turns with large
jobs, and folds held back while large jobs keep coming (up to a bound), caught up after."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spendtray.store import writer as writer_module
from spendtray.store.db import open_for_writing
from spendtray.store.fold import folded_through
from spendtray.store.reader import Filters, Reader
from spendtray.store.rows import EVENT_COLUMNS, EventRow
from spendtray.store.writer import (
    FOLD_BEHIND_TXN_SECONDS,
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


def _spread_rows(n: int) -> list[EventRow]:
    """Rows as real traffic spreads them: each its own quarter-hour, among 20 projects (a
    fold of these costs what real ones do; same-period rows fold many times faster)."""
    ts_at, project_at = EVENT_COLUMNS.index("ts"), EVENT_COLUMNS.index("project")
    rows = []
    for i, row in enumerate(_rows(n, "")):
        values = list(row)
        values[ts_at] = 1_700_000_000_000 + i * 7 * 900_000
        values[project_at] = f"project-{i % 20}"
        rows.append(EventRow(*values))
    return rows


class _FoldSpy:
    """Records the ``limit`` of every fold the writer runs that found events to fold (the
    real fold still runs); given the ``writer``, also the fitted chunk each limit was chosen
    from (``folds``: (limit, fitted))."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, writer: Writer | None = None) -> None:
        self.limits: list[int | None] = []
        self.folds: list[tuple[int | None, int]] = []
        real = writer_module.fold

        def spy(conn: sqlite3.Connection, limit: int | None = None) -> int:
            fitted = writer._fold_chunk if writer is not None else 0
            covered = real(conn, limit)
            if covered:
                self.limits.append(limit)
                self.folds.append((limit, fitted))
            return covered

        monkeypatch.setattr(writer_module, "fold", spy)


def _wait_folded(db_path: Path, target: int, seconds: float) -> int:
    end = time.monotonic() + seconds
    while (folded := _folded_through(db_path)) < target and time.monotonic() < end:
        time.sleep(0.02)
    return folded


def test_folds_wait_while_large_jobs_keep_coming_then_catch_up_in_whole_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long quiet period, so a loaded machine's pause between two jobs cannot end the burst.
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 2.0)
    spy = _FoldSpy(monkeypatch)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    writer.start()
    try:
        # More than a fold's worth of events, for longer than folds are due after.
        stored = 0
        burst_end = time.monotonic() + 4 * FOLD_SECONDS
        while stored < FOLD_CHUNK + FOLD_EVENTS or time.monotonic() < burst_end:
            writer.write(_rows(SMALL_JOB_ROWS + 100, f"burst-{stored}"))
            stored += SMALL_JOB_ROWS + 100
            time.sleep(0.01)
        assert _folded_through(db_path) == 0 and spy.limits == []
        # Summaries stay exact meanwhile: readers add the unfolded events.
        reader = Reader(db_path, ZoneInfo("UTC"))
        try:
            assert reader.summary("project", Filters()).total.calls == stored
        finally:
            reader.close()
        # Once the burst is over the fold catches up, with no single event coming: whole
        # FOLD_CHUNK folds (not the ~5 ms ones that take turns with single events).
        assert _wait_folded(db_path, stored, 30) == stored
        assert spy.limits[0] == FOLD_CHUNK
    finally:
        writer.stop()


def test_a_burst_past_the_backlog_bound_is_folded_while_it_lasts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 30.0)
    bound = 2 * SMALL_JOB_ROWS
    monkeypatch.setattr(writer_module, "FOLD_BACKLOG", bound)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    writer.start()
    try:
        for i in range(4):
            writer.write(_rows(SMALL_JOB_ROWS + 1, f"burst-{i}"))
        # Far sooner than FOLD_QUIET after the last job, the backlog is within the bound.
        stored = 4 * (SMALL_JOB_ROWS + 1)
        assert _wait_folded(db_path, stored - bound, 10) >= stored - bound
    finally:
        writer.stop()


def test_while_single_events_come_folds_stay_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 1.0)
    spy = _FoldSpy(monkeypatch)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    writer.start()
    try:
        writer.write(_spread_rows(2 * FOLD_CHUNK))
        # Single events keep coming, past the time the burst's backlog is folded after.
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            writer.write(_rows(1, "single"))
            time.sleep(0.02)
    finally:
        writer.stop()
    assert spy.limits  # the backlog was being folded while they came
    # In chunks fitted to a few milliseconds, never a whole FOLD_CHUNK while they came (the
    # last fold, at stop, takes whatever is left).
    assert all(limit is not None and limit < FOLD_CHUNK for limit in spy.limits[:-1]), spy.limits


def _behind(fitted: int) -> int:
    return min(FOLD_CHUNK, int(fitted * FOLD_BEHIND_TXN_SECONDS / FOLD_TXN_SECONDS))


def test_a_burst_of_single_events_past_the_backlog_bound_is_folded_in_longer_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 1.0)
    monkeypatch.setattr(writer_module, "SINGLE_BURST_RATE", 200)
    monkeypatch.setattr(writer_module, "FOLD_BACKLOG", 300)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    spy = _FoldSpy(monkeypatch, writer)
    writer.start()
    try:
        # Far above SINGLE_BURST_RATE, past the bound several times over.
        stored = _singles(writer, 1.5, 10, 0.001, least=1_500)
        assert _folded_through(db_path) > 0  # folded while the burst went on
    finally:
        writer.stop()
    during = spy.folds[:-1]  # the last one, at stop, takes whatever is left
    assert during, (stored, spy.folds)
    # Each fitted to FOLD_BEHIND_TXN_SECONDS from the rate the short folds measured.
    assert all(limit == _behind(fitted) for limit, fitted in during), spy.folds
    assert any(limit is not None and limit > fitted for limit, fitted in during), spy.folds


def test_single_events_that_are_no_burst_keep_short_folds_past_the_backlog_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import's batches filled the backlog; an agent's few calls a second come meanwhile.
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 1.0)
    monkeypatch.setattr(writer_module, "FOLD_BACKLOG", 300)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    spy = _FoldSpy(monkeypatch, writer)
    writer.start()
    try:
        writer.write(_spread_rows(3 * FOLD_CHUNK))
        _singles(writer, 1.5, 1, 0.02)
    finally:
        writer.stop()
    # Whole chunks while nothing else came, else chunks fitted to FOLD_TXN_SECONDS.
    during = spy.folds[:-1]
    assert any(limit != FOLD_CHUNK for limit, _ in during), spy.folds
    assert all(limit in (FOLD_CHUNK, min(fitted, FOLD_CHUNK)) for limit, fitted in during), (
        spy.folds
    )


def _singles(writer: Writer, seconds: float, per_job: int, pause: float, least: int = 0) -> int:
    """Small jobs committed as the server's event loop commits them (on the calling thread
    while the writer thread is idle), for ``seconds`` and at least ``least`` rows; the rows
    stored. Each job's timestamps are spread like real traffic's."""
    stored = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end or stored < least:
        rows = _spread_rows(stored + per_job)[stored:]
        writer.submit_batches([rows], 5.0, here=True).result(10)
        stored += per_job
        if pause:
            time.sleep(pause)
    return stored


def test_folds_wait_while_single_events_come_fast_then_catch_up_in_whole_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long quiet period, so a loaded machine's pause between two jobs cannot end the burst,
    # and a rate the stream passes long before a fold is due.
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 1.0)
    monkeypatch.setattr(writer_module, "SINGLE_BURST_RATE", 200)
    spy = _FoldSpy(monkeypatch)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    writer.start()
    try:
        # Well above SINGLE_BURST_RATE, for longer than folds are due after and more events.
        stored = _singles(writer, 4 * FOLD_SECONDS, 10, 0.001, least=FOLD_EVENTS + 10)
        assert _folded_through(db_path) == 0 and spy.limits == []
        reader = Reader(db_path, ZoneInfo("UTC"))
        try:  # summaries stay exact meanwhile: readers add the unfolded events
            assert reader.summary("project", Filters()).total.calls == stored
        finally:
            reader.close()
        assert _wait_folded(db_path, stored, 30) == stored
        assert spy.limits[0] == FOLD_CHUNK  # caught up in whole chunks once they stopped
    finally:
        writer.stop()


def test_a_steady_stream_of_single_events_is_folded_after_the_longest_deferral(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 1.0)
    monkeypatch.setattr(writer_module, "SINGLE_BURST_RATE", 200)
    monkeypatch.setattr(writer_module, "FOLD_DEFER_SECONDS", 0.5)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    writer.start()
    try:
        _singles(writer, 2.5, 10, 0.001)
        assert _folded_through(db_path) > 0  # folded while they kept coming
    finally:
        writer.stop()


def test_a_few_single_events_a_second_are_folded_as_they_come(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    writer.start()
    try:
        _singles(writer, 6 * FOLD_SECONDS, 1, 0.05)  # 20 a second: one agent, no burst
        assert _folded_through(db_path) > 0
    finally:
        writer.stop()


def test_the_wal_is_checkpointed_while_a_burst_of_single_events_defers_the_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 1.0)
    monkeypatch.setattr(writer_module, "SINGLE_BURST_RATE", 200)
    wal_bytes: dict[float, int] = {}
    for every in (1000.0, 0.1):  # never during the burst, then ten times a second
        monkeypatch.setattr(writer_module, "BURST_CHECKPOINT_SECONDS", every)
        db_path = tmp_path / f"db-{every}.sqlite"
        # The schema made first: in the WAL it alone is ~0.5 MB (closing checkpoints it).
        open_for_writing(db_path).conn.close()
        writer = Writer(db_path)
        writer.start()
        try:
            _singles(writer, 1.5, 20, 0.001)
            assert _folded_through(db_path) == 0  # the fold still waits
            wal_bytes[every] = (tmp_path / f"db-{every}.sqlite-wal").stat().st_size
        finally:
            writer.stop()
    # A checkpointed WAL starts over: its file only grows to what a tenth of a second adds.
    assert wal_bytes[0.1] < wal_bytes[1000.0] / 3, wal_bytes


def test_an_imports_writer_checkpoints_the_wal_while_its_burst_defers_the_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``checkpoint_bursts`` (spendtray import's writer): the WAL is checkpointed while large
    jobs keep coming, so it starts over instead of holding every page until the end; the
    fold still waits for the burst to end. Without it (the app's), the WAL grows."""
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 30.0)
    monkeypatch.setattr(writer_module, "BURST_CHECKPOINT_SECONDS", 0.1)
    wal_bytes: dict[bool, int] = {}
    for checkpoint in (False, True):
        db_path = tmp_path / f"db-{checkpoint}.sqlite"
        open_for_writing(db_path).conn.close()
        writer = Writer(db_path)
        writer.start(checkpoint_bursts=checkpoint)
        stored = 0
        try:
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                writer.write(_spread_rows(stored + 2 * SMALL_JOB_ROWS)[stored:])
                stored += 2 * SMALL_JOB_ROWS
                time.sleep(0.01)
            assert _folded_through(db_path) == 0  # the fold still waits
            wal_bytes[checkpoint] = (tmp_path / f"db-{checkpoint}.sqlite-wal").stat().st_size
        finally:
            writer.stop()
        assert _folded_through(db_path) == stored
    assert wal_bytes[True] < wal_bytes[False] / 3, wal_bytes


def test_what_is_left_at_stop_is_folded_in_large_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import's events, stored in a burst, are folded when its writer stops: in
    transactions of up to FOLD_STOP_CHUNK ids, not FOLD_CHUNK (each rollup page written once,
    not once per chunk), and every one of them is in the rollups after."""
    monkeypatch.setattr(writer_module, "FOLD_QUIET", 30.0)  # the burst lasts to the stop
    monkeypatch.setattr(writer_module, "FOLD_STOP_CHUNK", 3 * FOLD_CHUNK)
    spy = _FoldSpy(monkeypatch)
    db_path = tmp_path / "db.sqlite"
    writer = Writer(db_path)
    writer.start()
    stored = 0
    try:
        for _ in range(4):
            writer.write(_spread_rows(stored + 2 * FOLD_CHUNK)[stored:])
            stored += 2 * FOLD_CHUNK
        assert spy.limits == []  # deferred while the burst lasts
    finally:
        writer.stop()
    assert spy.limits == [3 * FOLD_CHUNK] * 3
    assert _folded_through(db_path) == stored
    reader = Reader(db_path, ZoneInfo("UTC"))
    try:
        assert reader.summary("project", Filters()).total.calls == stored
    finally:
        reader.close()


def test_a_commit_on_the_callers_thread_never_waits_for_a_lock_held_elsewhere(
    tmp_path: Path,
) -> None:
    """The writer thread's transactions wait for the lock (busy_timeout > 0), the caller's
    (``here=True``) never do: switching between them sets the wait each needs again."""
    db_path = tmp_path / "spendtray.db"
    writer = Writer(db_path, "normal", "laptop")
    writer.start(folds=False)
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        # The writer thread's transaction leaves a wait of LOCK_SLICE on the connection...
        writer.submit_batches([_rows(1, "a")], 5.0).result(10)
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        waiting = writer.submit_batches([_rows(1, "b")], 5.0, here=True)
        # ...which the caller's attempt does not take over: it hands the job on at once (a
        # wait would take LOCK_SLICE, 0.25 s; the bound leaves a busy machine room).
        assert time.monotonic() - started < 0.2
        assert not waiting.done()
        holder.execute("ROLLBACK")
        assert len(waiting.result(10)[0]) == 1
        # Once more after the writer thread's commit: committed here, at once.
        here = writer.submit_batches([_rows(1, "c")], 5.0, here=True)
        assert here.done()
        # And the writer thread's job after the caller's commit waits for the lock again.
        holder.execute("BEGIN IMMEDIATE")
        threading.Timer(0.3, holder.execute, ["ROLLBACK"]).start()
        started = time.monotonic()
        writer.submit_batches([_rows(1, "d")], 5.0).result(10)
        assert time.monotonic() - started >= 0.25
    finally:
        holder.close()
        writer.stop()
    projects = sqlite3.connect(db_path).execute("SELECT project FROM events ORDER BY id")
    assert [p for (p,) in projects] == ["a", "b", "c", "d"]
