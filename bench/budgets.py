"""Budget benchmarks (issue 4). Prints figures; asserts nothing.

With a month of history (default 300,000 events over 30 days, 20 projects, 3 models each),
22 budgets (a monthly budget per project, a global day and month budget):

1. ``budget_status`` hook time (the ``budget`` object of every ``POST /v1/usage`` reply).
2. One full evaluation after a commit (thresholds, forecasts, runaway check) on the worker.
3. ``GET /v1/budgets``-equivalent (every budget with forecast), ``check``, ``worst_state``.
4. Single-event ingest rate (blocking ``IngestService.ingest``) with and without the budget
   commit listener, to show evaluation stays off the writer thread.

Usage: python bench/budgets.py [--events 300000]
Main thread; the core runs its writer and budget worker threads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

from spendtray.budgets.model import make_budget  # noqa: E402
from spendtray.config import load_settings  # noqa: E402
from spendtray.core import Core  # noqa: E402

PRICES = """
[[model]]
provider = "benchco"
models = ["bench-*"]
id = "bench"
input_mtok = 2
output_mtok = 8
checked = 2026-11-22
source = "bench"
"""
PROJECTS = [f"project-{i:02d}" for i in range(20)]
MODELS = ["bench-small", "bench-medium", "bench-large"]


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 in milliseconds."""
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def make_core(home: Path) -> Core:
    home.mkdir(parents=True, exist_ok=True)
    (home / "prices.toml").write_text(PRICES, encoding="utf-8")
    settings = replace(load_settings(home=home, port=0), timezone="Europe/Berlin")
    return Core(settings)


def fill(core: Core, n: int, now: dt.datetime) -> None:
    rng = random.Random(4)
    span = 30 * 86400
    batch: list[dict[str, object]] = []
    for i in range(n):
        ts = now - dt.timedelta(seconds=rng.random() * span)
        batch.append(
            {
                "model": rng.choice(MODELS),
                "provider": "benchco",
                "project": rng.choice(PROJECTS),
                "agent": rng.choice(("", "coder", "reviewer")),
                "input_tokens": rng.randint(200, 20_000),
                "output_tokens": rng.randint(50, 2_000),
                "timestamp": ts.isoformat(),
            }
        )
        if len(batch) == 10_000 or i == n - 1:
            core.ingest.ingest(batch)
            batch = []


def ingest_rate(core: Core, n: int) -> float:
    event = {"model": "bench-small", "provider": "benchco", "project": "project-00"}
    t0 = time.perf_counter()
    for i in range(n):
        core.ingest.ingest([{**event, "input_tokens": 100 + i}])
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="spendtray-bench-budgets-"))
    try:
        now = dt.datetime.now(dt.UTC)
        core = make_core(tmp / "home")
        core.start_store()
        t0 = time.perf_counter()
        fill(core, args.events, now)
        print(f"history: {args.events:,} events in {time.perf_counter() - t0:.1f} s")
        ingest_rate(core, 500)  # warm-up
        plain_rate = ingest_rate(core, 2_000)
        core.stop()

        core = make_core(tmp / "home")
        service = core.budgets
        core.start()  # the store and the budget worker: the listener follows every commit
        for p in PROJECTS:
            service.put(make_budget(p, "month", 500))
        service.put(make_budget("*", "month", 5_000))
        service.put(make_budget("*", "day", 200, mode="hard"))
        service.flush()
        rows = core.reader.conn().execute("SELECT count(*) FROM rollup").fetchone()[0]
        print(f"rollup rows: {rows:,}; budgets: {len(service.budgets())}")

        one = frozenset({"project-03"})
        med, p95 = timed(lambda: service.ingest_status(one), 200)
        print(f"budget_status hook (1 project + global): median {med:.2f} ms, p95 {p95:.2f} ms")
        many = frozenset(PROJECTS[:5])
        med, p95 = timed(lambda: service.ingest_status(many), 200)
        print(f"budget_status hook (5 projects + global): median {med:.2f} ms, p95 {p95:.2f} ms")
        med, p95 = timed(lambda: service.evaluate(one), 100)
        print(f"evaluation after a commit (worker thread): median {med:.2f} ms, p95 {p95:.2f} ms")
        med, p95 = timed(lambda: service.statuses(), 50)
        print(f"all 22 budgets with forecasts (GET /v1/budgets): median {med:.2f} ms")
        med, p95 = timed(lambda: service.check("project-03", 10**8), 200)
        print(f"check (project + global): median {med:.2f} ms, p95 {p95:.2f} ms")
        med, p95 = timed(lambda: service.worst_state(), 50)
        print(f"worst_state (tray colour): median {med:.2f} ms")

        ingest_rate(core, 500)  # warm-up
        budget_rate = ingest_rate(core, 2_000)
        service.flush()
        print(
            f"single-event blocking ingest: {plain_rate:,.0f}/s without budgets, "
            f"{budget_rate:,.0f}/s with the budget listener ({budget_rate / plain_rate:.0%})"
        )
        core.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
