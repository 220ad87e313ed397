"""The first import's per-line work, in one process (issue 15). Prints figures; asserts nothing.
Main thread.

What an import worker does with its share of the files (``importers/workers.py``), without a
pool, a pipe or a store: every changed file of ``--logs`` read and parsed
(``Importer.steps``), its records priced into rows (``workers.price_records``) and the
rows marshalled as a worker sends them. Each stage's CPU time (``time.process_time``) is
printed per MB, per usage line and per stored call, median and spread of ``--rounds``.
Steadier than the end-to-end ``bench/importers.py`` on a shared machine; use it to measure
a change to the per-line path, then confirm it there.

``--split`` (Claude Code) also times, in each round, the parse stage's parts over the same
files: reading them (``tail.read_blocks``), finding the lines with usage (``json_block`` with
its JSON decoder made a no-op), decoding them (orjson) and, the rest of the parse stage, the
parser's own Python (records, the fold within a read, the runner's steps).

``--against APP_DIR`` measures another copy of the package (e.g. the session's start,
``--against /tmp/base-s6/app``) in turns with this one: ``--turns`` times each, alternating
which goes first, each turn a child process of ``--rounds`` rounds; it prints each stage's
CPU, this code over the other, per turn and the median.

Usage: python bench/import_lines.py --logs /tmp/bench-logs [--rounds 5] [--source claude-code]
       [--split] [--profile OUT.prof] [--against APP_DIR [--turns 4]]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import marshal
import os
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
from spendtray.importers import parsing  # noqa: E402
from spendtray.importers.parsing import ParseStats, json_block  # noqa: E402
from spendtray.importers.runner import Importer, ImportReport  # noqa: E402
from spendtray.importers.tail import read_blocks  # noqa: E402
from spendtray.importers.workers import price_records  # noqa: E402

USAGE_MARK = b'"usage"'


def one_round(importer: Importer, logs: Path, kind: str, split: bool = False) -> dict[str, float]:
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
                marshal.dumps(rows)  # what a worker sends (workers._work)
                clock = time.process_time()
                dump += clock - priced
                size += step.size
                calls += len(rows)
        parts = parse_parts([(item.path, item.start) for item in changed]) if split else {}
    finally:
        gc.enable()
    if parts:
        parts["records"] = parse - parts["read"] - parts["find"] - parts["decode"]
    return {
        **parts,
        "parse": parse,
        "price": price,
        "encode": dump,
        "bytes": size,
        "lines": stats.lines,
        "usage": stats.usage_lines,
        "calls": calls,
        "bad": stats.malformed,
    }


def parse_parts(files: list[tuple[str, int]]) -> dict[str, float]:
    """CPU of reading ``files`` from their start offsets, of finding their usage lines
    (``json_block`` with a decoder that does nothing) and of decoding those lines."""
    stats = ParseStats()

    def scan() -> float:
        clock = time.process_time()
        for path, start in files:
            position = start
            for block, end in read_blocks(path, start):
                for _ in json_block(block, position, USAGE_MARK, path, stats):
                    pass
                position = end
        return time.process_time() - clock

    clock = time.process_time()
    for path, start in files:
        for _ in read_blocks(path, start):
            pass
    read = time.process_time() - clock
    decoder = parsing._loads
    parsing._loads = lambda line: None  # json_block looks it up on every line
    try:
        found = scan()
    finally:
        parsing._loads = decoder
    decoded = scan()
    return {"read": read, "find": found - read, "decode": decoded - found}


STAGES = ("parse", "price", "encode", "all")
PARTS = ("read", "find", "decode", "records")  # of "parse", with --split


def stages_of(run: dict[str, float]) -> tuple[str, ...]:
    return tuple(part for part in PARTS if part in run) + STAGES


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
            if args.split:
                command.append("--split")
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            got[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"turn {turn + 1}: " + ", ".join(
            f"{stage} {got['this'][-1][stage]:.3f} vs {got['other'][-1][stage]:.3f} s"
            for stage in stages_of(got["this"][-1])))  # fmt: skip
    usage = got["this"][0]["usage"]
    size = got["this"][0]["bytes"] / 1e6
    load = os.getloadavg()[0]
    print(f"{size:.0f} MB, {usage:,.0f} usage lines; load {load:.1f}; this code / {other}, "
          f"median of {args.turns} turns:")  # fmt: skip
    for stage in stages_of(got["this"][0]):
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
    parser.add_argument("--split", action="store_true", help="time the parse stage's parts")
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
            runs = [one_round(importer, logs, args.source, args.split) for _ in range(args.rounds)]
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(one_round, importer, logs, args.source)
                profile.dump_stats(args.profile)
        finally:
            core.stop()
    if args.json:
        medians = {k: statistics.median(r[k] for r in runs) for k in stages_of(runs[0])[:-1]}
        total = sum(medians[stage] for stage in STAGES[:-1])
        print(json.dumps({**runs[0], **medians, "all": total}))
        return 0
    first = runs[0]
    mb = first["bytes"] / 1e6
    print(
        f"{_APP}: {mb:.0f} MB, {first['lines']:,.0f} lines, {first['usage']:,.0f} usage lines, "
        f"{first['calls']:,.0f} calls sent, {first['bad']:,.0f} bad; {args.rounds} rounds, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    for stage in stages_of(first):
        values = [
            r["parse"] + r["price"] + r["encode"] if stage == "all" else r[stage] for r in runs
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
