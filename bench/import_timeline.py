"""The first import's timeline (issue 15): when each phase of `spendtray import claude-code`
begins and ends, in ms since the process was launched, on a fresh data folder per round.
Prints figures; asserts nothing. Main thread.

Each round runs the command in a child process through a small tracer that wraps the import's
milestones (interpreter up, the command's module loaded, price book, worker processes forked,
core built, store opened, first and last worker message, final fold, WAL checkpoints, exit)
and prints a mark at each. The parent prints each mark's median over the rounds; with
``--against APP_DIR`` it times that package too, in alternating rounds, beside it. The
tracer's wrappers cost a few ms; compare versions run the same way, not with bench/importers.py.

Usage: python bench/import_timeline.py [--logs /tmp/bench-logs] [--rounds 5] [--against DIR]
       [--workers N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in the child: PYTHONPATH picks the package; T_LAUNCH is the parent's time.time().
TRACER = r"""
import functools, importlib, os, sys, time
T0 = float(os.environ["T_LAUNCH"])
def mark(what):
    sys.stderr.write(f"TL {1000 * (time.time() - T0):.1f} {what}\n")
mark("interpreter up")
seen = set()
def once(what):
    if what not in seen:
        seen.add(what)
        mark(what)
def wrap(modname, path, label, first_only=False):
    try:
        owner = importlib.import_module(modname)
        *parents, name = path.split(".")
        for part in parents:
            owner = getattr(owner, part)
        raw = getattr(owner, name)
    except (ImportError, AttributeError):
        return
    @functools.wraps(raw)
    def wrapped(*args, **kwargs):
        (once if first_only else mark)(f"{label} begins")
        try:
            return raw(*args, **kwargs)
        finally:
            (once if first_only else mark)(f"{label} ends")
    setattr(owner, name, wrapped)
import spendtray.cli.importer as command
mark("command module loaded")
run = command._run
def traced_run(args, paused):
    wrap("spendtray.prices.book", "PriceBook.load", "price book", True)
    wrap("spendtray.importers.runner", "Importer.scan", "scan", True)
    wrap("spendtray.importers.workers", "WorkerReads.__enter__", "workers fork")
    wrap("spendtray.store.db", "open_for_writing", "store open (migrations)", True)
    wrap("spendtray.store.writer", "Writer._fold_backlog", "fold")
    wrap("spendtray.importers.watcher", "ImportWatcher.poll_once", "pass", True)
    wrap("spendtray.store.writer", "Writer.stop", "writer stop", True)
    import spendtray.importers.workers as workers
    steps = workers.WorkerReads._steps
    def traced_steps(self):
        first = True
        for step in steps(self):
            if first:
                mark("first worker message")
                first = False
            yield step
        mark("last worker message")
    workers.WorkerReads._steps = traced_steps
    import spendtray.core as core
    wrap("spendtray.core", "Core.__init__", "core built", True)
    return run(args, paused)
command._run = traced_run
import atexit
atexit.register(lambda: mark("interpreter exit begins"))
from spendtray.cli.main import main
code = main()
raise SystemExit(code)
"""


def one_round(app: Path, logs: Path, workers: str | None) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="spendtray-timeline-"))
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(app)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if workers is not None:
        env["SPENDTRAY_IMPORT_WORKERS"] = workers
    launched = time.time()
    env["T_LAUNCH"] = repr(launched)
    try:
        done = subprocess.run(
            [sys.executable, "-c", TRACER, "import", "claude-code", "--path", str(logs)],
            env=env,
            capture_output=True,
            text=True,
        )
        gone = 1000 * (time.time() - launched)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr[-800:]}")
    marks: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.fullmatch(r"TL (\d+\.\d) (.+)", line)
        if found:
            marks.setdefault(found.group(2), float(found.group(1)))
    marks["process gone"] = gone
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", default="/tmp/bench-logs", help="bench/importers.py --logs DIR")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", metavar="APP_DIR", help="also this package, alternating")
    parser.add_argument("--workers", help="SPENDTRAY_IMPORT_WORKERS for every run")
    args = parser.parse_args()
    logs = Path(args.logs) / "claude"
    if not logs.is_dir():
        raise SystemExit(f"{logs}: no scaled corpus (make one with bench/importers.py --logs)")
    versions = {"this": ROOT / "app"}
    if args.against:
        if not (Path(args.against) / "spendtray").is_dir():
            raise SystemExit(f"--against {args.against}: no spendtray package in it")
        versions["base"] = Path(args.against).resolve()
    for app in versions.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(app)], check=True)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    for round_no in range(args.rounds):
        order = list(versions.items())
        if round_no % 2:
            order.reverse()
        for name, app in order:
            runs[name].append(one_round(app, logs, args.workers))
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    labels: list[str] = []
    for name in versions:
        for marks in runs[name]:
            labels += [label for label in marks if label not in labels]
    labels.sort(key=lambda label: statistics.median(m.get(label, 0.0) for m in runs["this"]))
    header = f"{'milestone (median ms since launch)':45}" + "".join(f"{n:>10}" for n in versions)
    print(header)
    for label in labels:
        cells = []
        for name in versions:
            values = [m[label] for m in runs[name] if label in m]
            cells.append(f"{statistics.median(values):10.0f}" if values else f"{'-':>10}")
        print(f"{label:45}" + "".join(cells))
    for name in versions:
        gone = sorted(m["process gone"] for m in runs[name])
        print(f"{name}: process gone {gone[len(gone) // 2]:.0f} ms ({gone[0]:.0f}–{gone[-1]:.0f})")


if __name__ == "__main__":
    main()
