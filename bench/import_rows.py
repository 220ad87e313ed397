"""The import workers' pricing step (issue 15). Prints figures with their spread; asserts
nothing. Main thread, one process.

Parses real Claude Code logs once (``--logs``: a folder of transcripts, e.g. the 313 MB scaled
copy bench/importers.py makes; default the real corpora in ../shared/corpora/claude_code), as a
worker reads them (file by file, each file's records merged within its read), then prices every
file's records into event rows, alternating in each round:

- generic: ``IngestService.prepare_events`` (what the in-process import and the server use),
  each row then made a plain tuple, as the workers sent them before;
- direct: ``IngestService.prepare_rows`` (what the workers use now).

Both give the same rows (checked here on every round, received time aside; tested in
tests/ingest/test_prepare_rows.py). Prints CPU seconds per side, µs per call, the median of
same-round ratios (direct / generic) and their spread, and the load average.

Usage: python bench/import_rows.py [--logs DIR] [--rounds 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

from spendtray.claude_code_projects import ProjectNames  # noqa: E402
from spendtray.importers.claude_code import ClaudeCodeParser, file_facts  # noqa: E402
from spendtray.importers.parsing import ParseStats  # noqa: E402
from spendtray.ingest.event import EventError, UsageEvent  # noqa: E402
from spendtray.ingest.service import IngestService  # noqa: E402
from spendtray.prices.book import PriceBook  # noqa: E402
from spendtray.store.writer import Writer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "claude_code"


def read_events(logs: Path) -> list[list[UsageEvent]]:
    """Each file's events, as a worker parses them."""
    now = dt.datetime.now(dt.UTC)
    projects, stats = ProjectNames(), ParseStats()
    out = []
    for path in sorted(logs.rglob("*.jsonl")):
        folder, subagent = file_facts(path.parent, str(path))
        parser = ClaudeCodeParser(str(path), folder, subagent, projects, stats, now)
        parser.feed_block(path.read_bytes(), 0)
        if parser.records:
            out.append([record.event for record in parser.records])
    return out


def generic(service: IngestService, events: list[UsageEvent]) -> list[Any]:
    refused: list[tuple[int, EventError]] = []
    return [tuple(row) for row in service.prepare_events(events, refused)]


def direct(service: IngestService, events: list[UsageEvent]) -> list[Any]:
    refused: list[tuple[int, EventError]] = []
    return [row for row in service.prepare_rows(events, refused) if row is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=Path, default=CORPUS, help="folder of transcripts")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    gc.disable()  # as in a worker
    files = read_events(args.logs)
    calls = sum(map(len, files))
    service = IngestService(PriceBook.load(), Writer(Path(os.devnull)))
    for events in files:  # warm the price book's caches for both
        generic(service, events)
    print(f"{args.logs}: {calls:,} calls in {len(files):,} files; load {os.getloadavg()}")
    times: dict[str, list[float]] = {"generic": [], "direct": []}
    ratios = []
    for round_no in range(args.rounds):
        order = [("generic", generic), ("direct", direct)]
        if round_no % 2:
            order.reverse()
        got: dict[str, list[Any]] = {}
        for name, price in order:
            started = time.process_time()
            got[name] = [price(service, events) for events in files]
            times[name].append(time.process_time() - started)
        same = [[row[:2] + row[3:] for row in rows] for rows in got["generic"]] == [
            [row[:2] + row[3:] for row in rows] for rows in got["direct"]
        ]
        ratios.append(times["direct"][-1] / times["generic"][-1])
        print(
            f"round {round_no + 1}: generic {times['generic'][-1]:.3f} s CPU, direct "
            f"{times['direct'][-1]:.3f} s, direct / generic {ratios[-1]:.2f}"
            f"{'' if same else ' — ROWS DIFFER'}"
        )
    for name, spent in times.items():
        spent = sorted(spent)
        median = spent[len(spent) // 2]
        print(
            f"{name}: median {median:.3f} s CPU ({spent[0]:.3f}–{spent[-1]:.3f}), "
            f"{median / calls * 1e6:.2f} µs a call"
        )
    ratios.sort()
    print(
        f"direct / generic: median {ratios[len(ratios) // 2]:.2f} "
        f"(spread {ratios[0]:.2f}–{ratios[-1]:.2f} over {len(ratios)} rounds); "
        f"load {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
