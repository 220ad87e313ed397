"""The first import's per-line work, in one process (issue 15). Prints figures; asserts nothing.
Main thread.

What an import worker does with its share of the files (``importers/workers.py``), without a
pool, a pipe or a store: every changed file of ``--logs`` read and parsed
(``Importer.steps``), its records priced into rows (``workers.price_records``) and the
rows pickled as a worker sends them. Each stage's CPU time (``time.process_time``) is
printed per MB, per usage line and per stored call, median and spread of ``--rounds``.
Steadier than the end-to-end ``bench/importers.py`` on a shared machine; use it to measure
a change to the per-line path, then confirm it there.

``--against APP_DIR`` measures another copy of the package (e.g. the session's start,
``--against /tmp/base-s6/app``) in turns with this one: ``--turns`` times each, alternating
which goes first, each turn a child process of ``--rounds`` rounds; it prints each stage's
CPU, this code over the other, per turn and the median.

Usage: python bench/import_lines.py --logs /tmp/bench-logs [--rounds 5] [--source claude-code]
       [--profile OUT.prof] [--against APP_DIR [--turns 4]]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# --app DIR (a turn of --against): that package instead of this checkout's
_APP = sys.argv[sys.argv.index("--app") + 1] if "--app" in sys.argv[:-1] else str(ROOT / "app")
sys.path.insert(0, _APP)

from spendtray.config import load_settings  # noqa: E402
from spendtray.core import Core  # noqa: E402
from spendtray.importers.parsing import ParseStats  # noqa: E402
from spendtray.importers.runner import Importer, ImportReport  # noqa: E402
from spendtray.importers.workers import price_records  # noqa: E402


def one_round(importer: Importer, logs: Path, kind: str) -> dict[str, float]:
    report = ImportReport(kind)
    changed = importer.scan(report).changed
    now = importer.clock()
    stats = ParseStats()
    ingest = importer.ingest
    assert ingest is not None
    parse = price = dump = 0.0
    size = calls = 0
    gc.disable()
    try:
        for item in changed:
            clock = time.process_time()
            for step in importer.steps(item, now, stats):
                here = time.process_time()
                parse += here - clock
                rows = price_records(ingest, step.records)
                priced = time.process_time()
                price += priced - here
                pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
                clock = time.process_time()
                dump += clock - priced
                size += step.size
                calls += len(rows)
    finally:
        gc.enable()
    return {
        "parse": parse,
        "price": price,
        "pickle": dump,
        "bytes": size,
        "lines": stats.lines,
        "usage": stats.usage_lines,
        "calls": calls,
        "bad": stats.malformed,
    }


STAGES = ("parse", "price", "pickle", "all")


def against(args: argparse.Namespace) -> int:
    other = Path(args.against)
    if not (other / "spendtray" / "__init__.py").is_file():
        print(f"--against {other}: no spendtray package in it (pass the app/ folder)")
        return 2
    sides = {"this": str(ROOT / "app"), "other": str(other)}
    got: dict[str, list[dict[str, float]]] = {"this": [], "other": []}
    for turn in range(args.turns):
        for side in ("this", "other") if turn % 2 == 0 else ("other", "this"):
            command = [sys.executable, __file__, "--logs", args.logs, "--source", args.source,
                       "--rounds", str(args.rounds), "--app", sides[side], "--json"]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            got[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"turn {turn + 1}: " + ", ".join(
            f"{stage} {got['this'][-1][stage]:.3f} vs {got['other'][-1][stage]:.3f} s"
            for stage in STAGES))  # fmt: skip
    usage = got["this"][0]["usage"]
    size = got["this"][0]["bytes"] / 1e6
    load = os.getloadavg()[0]
    print(f"{size:.0f} MB, {usage:,.0f} usage lines; load {load:.1f}; this code / {other}, "
          f"median of {args.turns} turns:")  # fmt: skip
    for stage in STAGES:
        ratios = [t[stage] / o[stage] for t, o in zip(got["this"], got["other"], strict=True)]
        mine = statistics.median(t[stage] for t in got["this"])
        theirs = statistics.median(o[stage] for o in got["other"])
        print(
            f"  {stage:<7} {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}):"
            f" {mine / usage * 1e6:.2f} vs {theirs / usage * 1e6:.2f} us per usage line"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", required=True, help="a folder with the source's logs")
    parser.add_argument("--source", default="claude-code")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", help="write one more round's cProfile here")
    parser.add_argument("--against", help="another package's app/ folder, measured in turns")
    parser.add_argument("--turns", type=int, default=4, help="turns each with --against")
    parser.add_argument("--app", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against:
        return against(args)
    logs = Path(args.logs)
    with tempfile.TemporaryDirectory(prefix="spendtray-lines-") as home:
        settings = load_settings(home=Path(home))
        core = Core(settings)
        core.start_store()
        try:
            importer = Importer.for_core(core, args.source, [logs])
            runs = [one_round(importer, logs, args.source) for _ in range(args.rounds)]
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(one_round, importer, logs, args.source)
                profile.dump_stats(args.profile)
        finally:
            core.stop()
    if args.json:
        medians = {k: statistics.median(r[k] for r in runs) for k in STAGES[:-1]}
        print(json.dumps({**runs[0], **medians, "all": sum(medians.values())}))
        return 0
    first = runs[0]
    mb = first["bytes"] / 1e6
    print(
        f"{_APP}: {mb:.0f} MB, {first['lines']:,.0f} lines, {first['usage']:,.0f} usage lines, "
        f"{first['calls']:,.0f} calls sent, {first['bad']:,.0f} bad; {args.rounds} rounds, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    for stage in STAGES:
        values = [
            r["parse"] + r["price"] + r["pickle"] if stage == "all" else r[stage] for r in runs
        ]
        med = statistics.median(values)
        print(
            f"  {stage:<7} {med:6.3f} s CPU ({min(values):.3f}-{max(values):.3f}): "
            f"{med / mb * 1e3:6.2f} ms/MB, {med / first['usage'] * 1e6:5.2f} us/usage line, "
            f"{med / max(first['calls'], 1) * 1e6:5.2f} us/call"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
