"""The writer thread's cost per event with a large history (issue 19). Prints figures; asserts
nothing.

Copies a database already holding --base events (made by bench/summary.py --keep, or filled
here through the real ingest path), then stores --events more real-traffic events
(bench/traffic.py: unique ids, timestamps over 90 days) in 1,000-event transactions the way
the writer thread does, folding them into the rollups every --fold-every events, and times
the two parts separately: µs per event inserted, µs per event folded, and the events/s the
writer thread can sustain for both. Runs in-process on this thread (no HTTP, no JSON): the
rows are prepared before the clock starts. Repeats --rounds times on fresh copies.

Wall time on a machine others share swings by 2x from one run to the next; --cpu reports
this thread's CPU time (SQLite runs on it too), which holds still.

Usage: python bench/fold.py [--base-db PATH | --base 1000000] [--events 100000] [--cpu]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "bench"))

from traffic import Traffic  # noqa: E402

from spendtray.config import load_settings  # noqa: E402
from spendtray.core import Core  # noqa: E402
from spendtray.ingest.service import IngestService  # noqa: E402
from spendtray.prices.book import PriceBook  # noqa: E402
from spendtray.store.db import open_for_writing  # noqa: E402
from spendtray.store.fold import fold  # noqa: E402
from spendtray.store.writer import Writer  # noqa: E402


def make_base(home: Path, n: int, random_ids: bool = False) -> Path:
    core = Core(load_settings(home=home, port=0))
    core.start_store()
    traffic = Traffic(seed=19, random_ids=random_ids)
    for done in range(0, n, 10_000):
        core.ingest.ingest(traffic.batch(min(10_000, n - done)))
    core.stop()  # folds everything
    return core.settings.db_path


def one_round(
    base_db: Path,
    n: int,
    batch: int,
    fold_every: int,
    seed: int,
    cpu: bool,
    checkpoint_every: int = 1,
    chunk: int | None = None,
) -> tuple[float, ...]:
    work = Path(tempfile.mkdtemp(prefix="spendtray-fold-"))
    try:
        db_path = work / "spendtray.db"
        shutil.copyfile(base_db, db_path)
        start = time.perf_counter()
        db = open_for_writing(db_path, "normal", "bench")  # migrates an older file
        migrate = time.perf_counter() - start
        writer = Writer(db_path, "normal", "bench")
        # The writer's own methods on this thread: what its thread runs, without the queue.
        writer._conn = db.conn
        writer._next_id = int(db.execute("SELECT max(id) FROM events").fetchone()[0]) + 1
        db.conn.execute("BEGIN IMMEDIATE")
        fold(db.conn)  # whatever the copied file left unfolded, before the clock starts
        db.conn.execute("COMMIT")
        prices = PriceBook.load(user_file=work / "prices.toml", data_dir=work / "prices")
        service = IngestService(prices, writer, machine="bench")
        traffic = Traffic(seed=seed)
        prepared = [service.prepare(traffic.batch(batch)) for _ in range(n // batch)]
        conn = db.conn
        clock = time.thread_time if cpu else time.perf_counter
        inserting = folding = checkpointing = 0.0
        pending = folds = 0
        for i, rows in enumerate(prepared):
            a = clock()
            writer._transact([rows])
            b = clock()
            inserting += b - a
            pending += len(rows)
            if pending >= fold_every or i == len(prepared) - 1:
                # What Writer._fold does, timed in two parts: transactions of ``chunk`` ids.
                while True:
                    conn.execute("BEGIN IMMEDIATE")
                    covered = fold(conn, chunk)
                    conn.execute("COMMIT")
                    if chunk is None or covered < chunk:
                        break
                c = clock()
                folds += 1
                if folds % checkpoint_every == 0 or i == len(prepared) - 1:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                folding += c - b
                checkpointing += clock() - c
                pending = 0
        stored = len(prepared) * batch
        conn.close()
        return (
            migrate,
            inserting / stored * 1e6,
            folding / stored * 1e6,
            checkpointing / stored * 1e6,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-db", type=Path, help="a spendtray.db to copy (not changed)")
    parser.add_argument("--base", type=int, default=1_000_000, help="events, without --base-db")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--fold-every", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--fold-chunk", type=int, help="ids per fold transaction (the writer fits its own)"
    )
    parser.add_argument(
        "--checkpoint-every", type=int, default=1, help="folds per WAL checkpoint (writer: 1)"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="this thread's CPU time instead of wall time (steadier on a busy machine)",
    )
    args = parser.parse_args()
    made: Path | None = None
    base_db = args.base_db
    if base_db is None:
        made = Path(tempfile.mkdtemp(prefix="spendtray-fold-base-"))
        base_db = make_base(made, args.base)
    try:
        print(f"{args.events:,} events in {args.batch:,}-event transactions onto {base_db}")
        clock = "CPU" if args.cpu else "wall"
        print(f"folded every {args.fold_every:,} events; {clock} µs per event:")
        print(
            f"  {'round':>5} {'migrate s':>9} {'insert':>7} {'fold':>7} {'checkpt':>7} "
            f"{'events/s':>9}"
        )
        rates = []
        for i in range(args.rounds):
            migrate, insert, folded, checkpoint = one_round(
                base_db,
                args.events,
                args.batch,
                args.fold_every,
                100 + i,
                args.cpu,
                args.checkpoint_every,
                args.fold_chunk,
            )
            rate = 1e6 / (insert + folded + checkpoint)
            rates.append((insert, folded, checkpoint, rate))
            print(
                f"  {i + 1:5} {migrate:9.2f} {insert:7.2f} {folded:7.2f} {checkpoint:7.2f} "
                f"{rate:9,.0f}"
            )
        med = [statistics.median(r[k] for r in rates) for k in range(4)]
        spread = [max(r[k] for r in rates) - min(r[k] for r in rates) for k in range(4)]
        print(
            f"  median: insert {med[0]:.2f} µs (±{spread[0] / 2:.2f}), fold {med[1]:.2f} µs "
            f"(±{spread[1] / 2:.2f}), checkpoint {med[2]:.2f} µs (±{spread[2] / 2:.2f}); "
            f"{med[3]:,.0f} events/s inserted, folded and checkpointed ({clock} time)"
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    main()
