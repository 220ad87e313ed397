"""Summary queries over a realistic history (issue 19). Prints figures; asserts nothing.

Stores --events events shaped like real traffic (bench/traffic.py: unique ids, 90 days, 20
projects × 5 agents × 6 models of 3 providers) through the real ingest path, lets the writer
fold them, then times the summaries a dashboard, the CLI and the API ask for: by every
dimension and by hour/day/week/month, for today, 7/30/91 days, a calendar month, all time,
edges not aligned to any bucket, since 1900, with and without filters. Median and p90 of
--repeat runs each. Target: every median ≤ 50 ms with 1M events.

Usage: python bench/summary.py [--events 1000000] [--repeat 15] [--zone Europe/Berlin]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "bench"))

from traffic import Traffic  # noqa: E402

from spendtray.config import load_settings  # noqa: E402
from spendtray.core import Core  # noqa: E402
from spendtray.store.db import ensure_schema, open_for_reading  # noqa: E402
from spendtray.store.fold import folded_through  # noqa: E402
from spendtray.store.reader import Filters, Reader  # noqa: E402
from spendtray.timeparse import parse_when  # noqa: E402


def fill(home: Path, n: int, now: dt.datetime) -> float:
    core = Core(load_settings(home=home, port=0))
    core.start_store()
    traffic = Traffic(seed=19, now=now)
    start = time.perf_counter()
    for done in range(0, n, 10_000):
        core.ingest.ingest(traffic.batch(min(10_000, n - done)))
    stored = time.perf_counter()
    rate = n / (stored - start)
    core.stop()  # gives the writer 30 s to fold what is left, then goes on without it
    # Summaries are timed at rest: the rollups holding every event (a backlog is read from
    # the events, slower; the time the fold took to catch up is printed on its own).
    conn = open_for_reading(core.settings.db_path)
    while folded_through(conn) < conn.execute("SELECT max(id) FROM events").fetchone()[0]:
        time.sleep(0.2)
    conn.close()
    print(f"the rollups held every event {time.perf_counter() - stored:.1f} s after the last")
    return rate


def queries(reader: Reader, zone: object, now: dt.datetime) -> dict[str, Callable[[], object]]:
    def at(text: str) -> dt.datetime:
        return parse_when(text, now, reader.zone, reader.week_start)

    today, d7, d30, d91 = at("today"), at("7d"), at("30d"), at("91d")
    month = at("month")
    last_month = (month - dt.timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0)
    odd_lo = now - dt.timedelta(days=91, minutes=7, seconds=13)
    odd_hi = now - dt.timedelta(minutes=17, seconds=41)
    since_1900 = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)

    def q(group: str, **filters: object) -> Callable[[], object]:
        return lambda: reader.summary(group, Filters(**filters))  # type: ignore[arg-type]

    out: dict[str, Callable[[], object]] = {
        "today by hour": q("hour", since=today),
        "today by project": q("project", since=today),
        "7 days by day": q("day", since=d7),
        "7 days by model": q("model", since=d7),
        "30 days by day": q("day", since=d30),
        "30 days by agent": q("agent", since=d30),
        "91 days by project": q("project", since=d91),
        "91 days by model": q("model", since=d91),
        "91 days by provider": q("provider", since=d91),
        "91 days by source": q("source", since=d91),
        "91 days by week": q("week", since=d91),
        "91 days by day": q("day", since=d91),
        "last calendar month by day": q("day", since=last_month, until=month),
        "last calendar month by project": q("project", since=last_month, until=month),
        "all time by month": q("month"),
        "all time by project": q("project"),
        "unaligned 91 days by project": q("project", since=odd_lo, until=odd_hi),
        "unaligned 91 days by day": q("day", since=odd_lo, until=odd_hi),
        "unaligned 91 days by hour": q("hour", since=odd_lo, until=odd_hi),
        "since 1900 by day": q("day", since=since_1900),
        "since 1900 by hour": q("hour", since=since_1900),
        "91 days, one project, by model": q("model", project="project-03", since=d91),
        "91 days, one project, by day": q("day", project="project-03", since=d91),
        # The dashboard's charts with its model (or any other) filter on.
        "today, one model, by hour": q("hour", model="gpt-4o", since=today),
        "this month, one model, by day": q("day", model="gpt-4o", since=month),
        "91 days, one agent, by day": q("day", agent="coder", since=d91),
        "30 days, project + model, by day": q(
            "day", project="project-03", model="gpt-4o", since=d30
        ),
        "30 days, project + model, by agent": q(
            "agent", project="project-03", model="gpt-4o", since=d30
        ),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="reuse/keep the data folder here")
    parser.add_argument("--zone", help="IANA zone of the summaries (default: the machine's)")
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    home = args.keep or Path(tempfile.mkdtemp(prefix="spendtray-summary-"))
    try:
        if not (home / "spendtray.db").exists():
            rate = fill(home, args.events, now)
            print(f"stored {args.events:,} events in-process at {rate:,.0f} events/s")
        settings = load_settings(home=home, port=0)
        start = time.perf_counter()
        ensure_schema(settings.db_path)  # a kept file an older version filled is migrated
        print(f"opened (and migrated) the database in {time.perf_counter() - start:.2f} s")
        zone = ZoneInfo(args.zone) if args.zone else settings.zone()
        reader = Reader(settings.db_path, zone, settings.week_start_index)
        print(f"summaries with {reader.count():,} events, zone {zone.key}, ms:")
        print(f"  {'query':36} {'median':>7} {'p90':>7}")
        worst = 0.0
        for name, run in queries(reader, zone, now).items():
            run()
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                run()
                times.append((time.perf_counter() - start) * 1000)
            median = statistics.median(times)
            p90 = statistics.quantiles(times, n=10)[8]
            worst = max(worst, median)
            print(f"  {name:36} {median:7.1f} {p90:7.1f}")
        print(f"  worst median: {worst:.1f} ms (target ≤ 50 ms)")
        reader.close()
    finally:
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
