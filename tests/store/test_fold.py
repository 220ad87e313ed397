"""Deferred rollups: summaries are exact before and after a fold, and a fold leaves the rollup
tables equal to rollups rebuilt from scratch out of the stored events."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.ingest.service import IngestService
from spendtray.store import fold as fold_module
from spendtray.store.fold import FOLDED_KEY, QUARTER_DIMS, RECENT_FROM_KEY, fold
from spendtray.store.reader import Filters, Reader
from spendtray.store.writer import Writer

UTC = ZoneInfo("UTC")
BASE = dt.datetime(2026, 10, 20, tzinfo=dt.UTC)
NOW = BASE + dt.timedelta(days=40)
SUMS = (
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
    "sum(cache_write_tokens), sum(reasoning_tokens), sum(coalesce(cost_nanos, 0)), "
    "sum(1 - priced)"
)


def _events(rng: random.Random, n: int, rids: list[str]) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        event: dict[str, Any] = {
            "model": rng.choice(["gpt-4o", "claude-sonnet-4-5", "no-such-model-x"]),
            "project": rng.choice(["a", "b", "c"]),
            "agent": rng.choice([None, "coder"]),
            "input_tokens": rng.randint(0, 50_000),
            "output_tokens": rng.randint(0, 5_000),
            "timestamp": (BASE + dt.timedelta(seconds=rng.randint(0, 20 * 86400))).isoformat(),
        }
        if rng.random() < 0.2:
            # Sometimes a request id seen before: a duplicate, kept when it is bigger.
            event["request_id"] = rng.choice(rids) if rids and rng.random() < 0.5 else None
            if event["request_id"] is None:
                event["request_id"] = f"r{len(rids)}"
                rids.append(event["request_id"])
        out.append(event)
    return out


@pytest.fixture
def store(tmp_path: Path) -> Any:
    core = Core(load_settings(home=tmp_path / "home", port=0), clock=lambda: NOW)
    core.start_store()
    yield core.settings.db_path, core.writer, core.ingest, core.reader
    core.stop()


def _rebuilt(db_path: Path) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Every rollup table as it is, and as rebuilt from every stored event."""
    conn = sqlite3.connect(db_path)
    keys = "project, model, provider, agent, source, machine"
    have: set[tuple[Any, ...]] = set()
    want: set[tuple[Any, ...]] = set()
    for period, seconds in (("quarter", 900), ("day", 86400)):
        start = f"(ts / 1000) / {seconds} * {seconds}"
        have |= {(period, *row) for row in conn.execute(f"SELECT * FROM rollup_key_{period}")}
        want |= {
            (period, *row)
            for row in conn.execute(
                f"SELECT {start}, {keys}, {SUMS} FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7"
            )
        }
        table = f"rollup_{period}"
        have |= {(table, *row) for row in conn.execute(f"SELECT * FROM {table}")}
        for dim in (*keys.split(", "), "total") if period == "day" else QUARTER_DIMS:
            key = "''" if dim == "total" else dim
            want |= {
                (table, *row)
                for row in conn.execute(
                    f"SELECT '{dim}', {start}, {key}, {SUMS} FROM events GROUP BY 2, 3"
                )
            }
    recent = "FROM events WHERE ts >= (SELECT value * 1000 FROM meta WHERE key = ?)"
    have |= {("recent", *row) for row in conn.execute("SELECT * FROM rollup_recent")}
    want |= {
        ("recent", *row)
        for row in conn.execute(
            f"SELECT (ts / 1000) / 900 * 900, project, count(*), sum(coalesce(cost_nanos, 0)) "
            f"{recent} GROUP BY 1, 2",
            (RECENT_FROM_KEY,),
        )
    }
    conn.close()
    return have, want


def _raw(db_path: Path, group: str, project: str | None) -> dict[str, tuple[int, int]]:
    conn = sqlite3.connect(db_path)
    where, args = ("WHERE project = ?", [project]) if project else ("", [])
    rows = conn.execute(
        f"SELECT {group}, count(*), sum(coalesce(cost_nanos, 0)) FROM events {where} "
        f"GROUP BY {group}",
        args,
    ).fetchall()
    conn.close()
    return {str(k): (int(n), int(c)) for k, n, c in rows}


def _summarised(reader: Reader, group: str, project: str | None) -> dict[str, tuple[int, int]]:
    summary = reader.summary(group, Filters(project=project))
    return {r.key: (r.calls, r.cost_nanos) for r in summary.rows if r.calls}


def _folded(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (FOLDED_KEY,)).fetchone()
    conn.close()
    return int(row[0])


@pytest.mark.slow
def test_summaries_are_exact_folded_or_not(store: Any) -> None:
    db_path, writer, service, reader = store
    rng = random.Random(7)
    rids: list[str] = []
    for round_ in range(6):
        rows = service.prepare(_events(rng, 400, rids))
        writer.write(rows)
        for group in ("project", "model", "agent"):
            for project in (None, "b"):
                assert _summarised(reader, group, project) == _raw(db_path, group, project)
        assert reader.count() == _raw(db_path, "'x'", None)["x"][0]
        if round_ % 2:
            writer.call(lambda db: fold(db.conn))
            have, want = _rebuilt(db_path)
            assert have == want
    assert _folded(db_path) > 0


def test_a_large_fold_sums_through_the_keyed_table_to_the_same_rollups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folds of at least KEYED_FOLD_IDS events (lowered here) go through ``fold_sums``; the
    rollups equal those rebuilt from the events after keyed and GROUP BY folds alike, with
    many events per quarter-hour and key, unpriced ones and ones without an agent."""
    monkeypatch.setattr(fold_module, "KEYED_FOLD_IDS", 500)
    keyed: list[str] = []
    sum_keyed = fold_module._sum_keyed

    def counted(where: str) -> str:
        keyed.append(where)
        return sum_keyed(where)

    monkeypatch.setattr(fold_module, "_sum_keyed", counted)
    core = Core(load_settings(home=tmp_path / "home", port=0), clock=lambda: NOW)
    core.start_store(folds=False)  # folded here only, in the sizes below
    try:
        db_path, writer, service = core.settings.db_path, core.writer, core.ingest
        rng = random.Random(23)
        for size in (1_500, 300, 2_000):  # keyed, GROUP BY, keyed on top of folded rollups
            events = _events(rng, size, [])
            for event in events[::2]:  # half in one quarter-hour: many events per group
                minute = BASE + dt.timedelta(minutes=rng.randint(0, 14))
                event["timestamp"] = minute.isoformat()
            stored = sum(1 for o in writer.write(service.prepare(events)) if not o.duplicate)
            before = len(keyed)
            assert writer.call(lambda db: fold(db.conn)) == stored
            assert len(keyed) == before + (stored >= 500)
            have, want = _rebuilt(db_path)
            assert have == want
        assert len(keyed) == 2
    finally:
        core.stop()


def test_replacing_a_folded_row_moves_it_in_the_rollups(store: Any) -> None:
    db_path, writer, service, reader = store
    small = {"model": "gpt-4o", "project": "a", "input_tokens": 10, "request_id": "x1"}
    service.ingest([small])
    writer.call(lambda db: fold(db.conn))
    # The bigger copy arrives later, for another project and time: the old row is in the
    # rollups, so they must lose it and gain the new one in the same transaction.
    big = {
        **small,
        "project": "b",
        "input_tokens": 5000,
        "timestamp": (BASE + dt.timedelta(days=3)).isoformat(),
    }
    assert service.ingest([big]).duplicates == 1
    have, want = _rebuilt(db_path)
    assert have == want
    assert _summarised(reader, "project", None) == {"b": _raw(db_path, "project", None)["b"]}
    # And a replacement of a row not folded yet only rewrites the row.
    service.ingest([{**small, "request_id": "x2"}])
    service.ingest([{**big, "request_id": "x2", "project": "c"}])
    assert _summarised(reader, "project", None) == _raw(db_path, "project", None)
    writer.call(lambda db: fold(db.conn))
    have, want = _rebuilt(db_path)
    assert have == want


def test_the_writer_folds_on_its_own_and_at_stop(store: Any, tmp_path: Path) -> None:
    db_path, writer, service, reader = store
    rng = random.Random(11)
    service.ingest(_events(rng, 300, []))
    newest = reader.conn().execute("SELECT max(id) FROM events").fetchone()[0]
    deadline = time.monotonic() + 10
    while _folded(db_path) < newest and time.monotonic() < deadline:
        time.sleep(0.05)  # the writer thread folds a moment after the commit, by itself
    assert _folded(db_path) == newest
    # A second writer on the same file (a CLI import) adds events; they are folded by the
    # time it stops, and the first writer's later events fold on top.
    other = Writer(db_path)
    other.start()
    other_service = IngestService(service.prices, other, clock=lambda: NOW)
    other_service.ingest(_events(rng, 200, []))
    other.stop()
    service.ingest(_events(rng, 200, []))
    writer.call(lambda db: fold(db.conn))
    have, want = _rebuilt(db_path)
    assert have == want
    assert reader.count() == _raw(db_path, "'x'", None)["x"][0] > 500


def _wal_restarts(wal: Path) -> int:
    """The WAL header's checkpoint sequence number (bytes 12-15, big-endian): one more each
    time the log starts over from its beginning."""
    return int.from_bytes(wal.read_bytes()[12:16], "big")


@pytest.mark.slow
def test_the_wal_starts_over_under_continuous_writes(store: Any) -> None:
    # Commits never pause; the checkpoint after each fold must still
    # complete, so the WAL is reused from its start instead of growing with every commit.
    db_path, writer, service, _ = store
    # Calls happening now, as an agent posts them: the inserts, not the folds, fill the WAL.
    events = [{"model": "gpt-4o", "project": f"p{i % 3}", "input_tokens": 900} for i in range(40)]
    wal = db_path.with_name(db_path.name + "-wal")
    writer.write(service.prepare(events))
    restarts_before = _wal_restarts(wal)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        writer.write(service.prepare(events))
        time.sleep(0.001)  # the event loop answers the requests between commits
    # The WAL header counts the times the log started over (its checkpoint sequence number);
    # a fold comes every quarter second, so two seconds should see several.
    assert _wal_restarts(wal) - restarts_before >= 3
    # The WAL file keeps its largest size; without restarts that is every frame ever written
    # (each commit rewrites its index pages: many times the database's size). With restarts it
    # stays near what a quarter second of commits writes, about the size of this small file.
    assert 0 < wal.stat().st_size < 2 * db_path.stat().st_size


def test_a_large_backlog_is_folded_in_chunks_with_commits_between(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import leaves thousands of unfolded events: the writer folds them a chunk per
    # transaction (a commit queued meanwhile goes between two chunks) until none is left.
    from spendtray.store import writer as writer_module

    monkeypatch.setattr(writer_module, "FOLD_CHUNK", 100)
    db_path, _, service, reader = store
    rng = random.Random(23)
    service.ingest(_events(rng, 450, []))
    newest = reader.conn().execute("SELECT max(id) FROM events").fetchone()[0]
    deadline = time.monotonic() + 10
    while _folded(db_path) < newest and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _folded(db_path) == newest
    have, want = _rebuilt(db_path)
    assert have == want
