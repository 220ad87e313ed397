"""What one 1,000-event ingest transaction costs the writer, and what each index of the events
table adds to it (issue 19). Prints figures; asserts nothing.

Copies a database already holding --base events (``--base-db``, e.g. one bench/summary.py
--keep filled, or filled here through the real ingest path), then commits real-traffic
batches (bench/traffic.py: unique ids, timestamps over 90 days) through the writer's own
transaction (``Writer._transact``: duplicate look-ups, prices_used, the INSERTs, COMMIT) on
this thread, the way the writer thread does during a burst (no fold, no checkpoint in
between). Variants of the schema run on copies of their own, alternating batch by batch:

- ``as-is``: the schema as migrated (since 0021 no index on ``events.ts``: the time index
  ``events_time`` is filled by the fold, see store/timed.py);
- ``events-ts``: the schema before 0021, ``events_ts`` on the insert path (each event's entry
  on a random page of it, timestamps being spread over 90 days);
- ``ts-by-day``: an index on the event's UTC day (``ts / 86400000``) instead: a new row goes
  at the end of its day's entries (rowids only grow), so a batch spread over 90 days dirties
  about 90 pages of it instead of one per event (tried in the fourth session, not kept);
- ``random-ids`` and ``random-ids-events-ts``: those two with request ids random like real
  providers' (``chatcmpl-…``, ``msg_…``) instead of bench/traffic.py's prefix + counter, which
  sort in arrival order and so append to the unique index; onto a copy of --random-base-db
  (or a base filled here with such ids), since a new random id lands among the stored ones.

For each: the writer thread's CPU time per event (SQLite runs on it), wall time per event, and
the WAL written per transaction (every page a transaction dirties is written there once at
COMMIT, and copied into the database again by the next checkpoint). For the variants with
``events_time``, also what adding the round's events to it costs later, in the fold's chunks
(``FOLD_CHUNK`` ids a transaction, as the writer folds a backlog; ``--time-chunk`` to try
others): the part of the fold that 0021 adds (bench/fold.py measures the whole fold).

Usage: python bench/insert.py [--base-db PATH | --base 1000000] [--random-base-db PATH]
       [--batches 40] [--size 1000] [--rounds 3] [--time-chunk 2000]
       [--variants as-is,events-ts,ts-by-day,random-ids,random-ids-events-ts]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "bench"))

from fold import make_base  # noqa: E402
from traffic import Traffic  # noqa: E402

from spendtray.ingest.service import IngestService  # noqa: E402
from spendtray.prices.book import PriceBook  # noqa: E402
from spendtray.store.db import open_for_writing  # noqa: E402
from spendtray.store.rows import EventRow  # noqa: E402
from spendtray.store.writer import FOLD_CHUNK, Writer  # noqa: E402

_EVENTS_TS = "CREATE INDEX events_ts ON events (ts)"
SCHEMA = {
    "as-is": [],
    "events-ts": [_EVENTS_TS],
    "ts-by-day": ["CREATE INDEX events_ts_day ON events (ts / 86400000)"],
    "random-ids": [],
    "random-ids-events-ts": [_EVENTS_TS],
}
# Variants whose events go into ``events_time`` at the fold (the others index them at insert).
TIME_TABLE = ("as-is", "random-ids")


@dataclass
class Variant:
    name: str
    db_path: Path
    writer: Writer
    cpu_us: list[float] = field(default_factory=list)  # per event, one value per round
    wall_us: list[float] = field(default_factory=list)
    wal_kb: list[float] = field(default_factory=list)  # per transaction
    fold_cpu_us: list[float] = field(default_factory=list)  # per event, events_time at fold

    def commit(self, batches: list[list[EventRow]], time_chunk: int) -> None:
        wal = Path(f"{self.db_path}-wal")
        conn = self.writer._conn
        assert conn is not None
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()  # each round from empty
        cpu = wall = 0.0
        for rows in batches:
            a, b = time.thread_time(), time.perf_counter()
            self.writer._transact([rows])
            cpu += time.thread_time() - a
            wall += time.perf_counter() - b
        events = sum(map(len, batches))
        self.cpu_us.append(cpu / events * 1e6)
        self.wall_us.append(wall / events * 1e6)
        self.wal_kb.append(os.path.getsize(wal) / len(batches) / 1024)
        if self.name in TIME_TABLE:
            # What fold() adds for events_time, chunk by chunk (its other tables: bench/fold.py).
            first = int(conn.execute("SELECT max(id) FROM events_time").fetchone()[0] or 0)
            last = int(conn.execute("SELECT max(id) FROM events").fetchone()[0])
            a = time.thread_time()
            for low in range(first, last, time_chunk):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO events_time (ts, id) SELECT ts, id FROM events "
                    "WHERE id > ? AND id <= ? ORDER BY ts, id",
                    (low, min(low + time_chunk, last)),
                )
                conn.execute("COMMIT")
            self.fold_cpu_us.append((time.thread_time() - a) / events * 1e6)


def open_variant(name: str, base_db: Path, work: Path) -> Variant:
    db_path = work / name / "spendtray.db"
    db_path.parent.mkdir()
    shutil.copyfile(base_db, db_path)
    db = open_for_writing(db_path, "normal", "bench")  # migrates an older file
    for statement in SCHEMA[name]:
        db.execute(statement)
    writer = Writer(db_path, "normal", "bench")
    # The writer's own transaction on this thread: what its thread runs, without the queue.
    writer._conn = db.conn
    writer._folds = False
    writer._next_id = int(db.execute("SELECT max(id) FROM events").fetchone()[0]) + 1
    return Variant(name, db_path, writer)


def spread(values: list[float], fmt: str) -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–" + (
        f"{fmt.format(max(values))})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-db", type=Path, help="a spendtray.db to copy (not changed)")
    parser.add_argument("--base", type=int, default=1_000_000, help="events, without --base-db")
    parser.add_argument(
        "--random-base-db",
        type=Path,
        help="the base of the random-ids variant: a spendtray.db filled with random request ids "
        "(default: filled here with --base events)",
    )
    parser.add_argument("--batches", type=int, default=40, help="transactions per round")
    parser.add_argument(
        "--size", type=int, default=1000, help="events per transaction (a single POST: ~7)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--time-chunk",
        type=int,
        default=FOLD_CHUNK,
        help="ids per transaction adding to events_time after a round (the fold's chunk)",
    )
    parser.add_argument("--variants", default=",".join(SCHEMA))
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = sorted(set(names) - set(SCHEMA))
    if unknown:
        raise SystemExit(f"unknown variant {unknown[0]!r}; known: {', '.join(SCHEMA)}")
    work = Path(tempfile.mkdtemp(prefix="spendtray-insert-"))
    variants: list[Variant] = []
    try:
        base_db = args.base_db or make_base(work / "base", args.base)
        for name in names:
            base = base_db
            if name.startswith("random-ids"):
                base = args.random_base_db or make_base(work / "random", args.base, True)
            variants.append(open_variant(name, base, work))
        prices = PriceBook.load(user_file=work / "prices.toml", data_dir=work / "prices")
        service = IngestService(prices, variants[0].writer, machine="bench")
        load = os.getloadavg()[0]
        for round_no in range(args.rounds):
            traffic = Traffic(seed=100 + round_no)
            random_ids = Traffic(seed=100 + round_no, random_ids=True)
            for variant in variants if round_no % 2 == 0 else variants[::-1]:
                # Each variant stores events of its own (a request id is stored once).
                events = random_ids if variant.name.startswith("random-ids") else traffic
                batches = [service.prepare(events.batch(args.size)) for _ in range(args.batches)]
                variant.commit(batches, args.time_chunk)
        print(
            f"{args.batches} transactions of {args.size:,} events per round, {args.rounds} "
            "rounds, onto "
            f"{base_db} (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after); "
            "median (min–max over rounds):"
        )
        for v in variants:
            print(
                f"  {v.name:<20} writer CPU {spread(v.cpu_us, '{:.2f}')} µs/event, wall "
                f"{spread(v.wall_us, '{:.2f}')} µs/event, WAL {spread(v.wal_kb, '{:,.0f}')} KB "
                "per transaction"
            )
            if v.fold_cpu_us:
                print(
                    f"  {'':<20} + events_time at fold {spread(v.fold_cpu_us, '{:.2f}')} µs/event"
                )
        by_name = {v.name: v for v in variants}
        for new, old in (("as-is", "events-ts"), ("random-ids", "random-ids-events-ts")):
            if new in by_name and old in by_name:
                a, b = by_name[new], by_name[old]
                ratios = [x / y for x, y in zip(a.cpu_us, b.cpu_us, strict=True)]
                with_fold = [
                    (x + f) / y for x, f, y in zip(a.cpu_us, a.fold_cpu_us, b.cpu_us, strict=True)
                ]
                print(
                    f"  {new} ÷ {old}, writer CPU per event, same round: "
                    f"{spread(ratios, '{:.2f}')}; with the fold's events_time part "
                    f"{spread(with_fold, '{:.2f}')}"
                )
    finally:
        for v in variants:
            if v.writer._conn is not None:
                v.writer._conn.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
