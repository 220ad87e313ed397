"""The first import's timeline (issue 15): when each phase of `spendtray import claude-code`
begins and ends, in ms since the process was launched, on a fresh data folder per round.
Prints figures; asserts nothing. Main thread.

Each round runs the command in a child process through a small tracer that wraps the import's
milestones (interpreter up, the command's module loaded, price book, worker processes forked,
core built, store opened, first and last worker message, final fold, WAL checkpoints, exit)
and prints a mark at each. The parent prints each mark's median over the rounds; with
``--against APP_DIR`` it times that package too, in alternating rounds, beside it. The
tracer's wrappers cost a few ms; compare versions run the same way, not with bench/importers.py.

With ``--floor`` it also times the import with workers that parse nothing: a first run
records what each worker sends down its pipe, and in the floor's rounds each worker is a
forked child that writes its recording at once. What remains (start-up, the merge, storing,
the final fold, exit) is the import's time if parsing took none; ccusage runs after each
round on the same files.

Usage: python bench/import_timeline.py [--logs /tmp/bench-logs] [--rounds 5] [--against DIR]
       [--workers N] [--floor]
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
def record(workers, folder):
    # Each worker's pipe, as its bytes, into folder/<worker>.bin (fds are matched to workers
    # in the order they were forked).
    start, pump, order = workers._start_worker, workers._pump, {}
    def recording_start(*args):
        pid, fd = start(*args)
        order[fd] = len(order)
        return pid, fd
    def recording_pump(fd, frames):
        with open(os.path.join(folder, f"{order[fd]}.bin"), "wb") as out:
            put = frames.put
            def tee(body, *a, **k):
                if body is not None:
                    out.write(len(body).to_bytes(workers._HEADER, "little"))
                    out.write(body)
                put(body, *a, **k)
            frames.put = tee
            pump(fd, frames)
    workers._start_worker = recording_start
    workers._pump = recording_pump
def replay(workers, folder):
    # Workers that parse nothing: each child writes what a recorded worker sent, at once.
    started = []
    def replaying_start(importer, share, now):
        name = os.path.join(folder, f"{len(started)}.bin")
        started.append(name)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            with open(name, "rb") as recorded:
                view = memoryview(recorded.read())
            while view:
                view = view[os.write(write_end, view):]
            os._exit(0)
        os.close(write_end)
        return pid, read_end
    workers._start_worker = replaying_start
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
    if os.environ.get("T_RECORD"):
        record(workers, os.environ["T_RECORD"])
    if os.environ.get("T_REPLAY"):
        replay(workers, os.environ["T_REPLAY"])
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


def one_round(
    app: Path, logs: Path, workers: str | None, extra: dict[str, str] | None = None
) -> tuple[dict[str, float], str]:
    """(each milestone's ms since launch, the command's report of what it stored)."""
    home = Path(tempfile.mkdtemp(prefix="spendtray-timeline-"))
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(app), **(extra or {})}
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
    # The report without its timing ("in 0.88 s"): what was read and stored.
    return marks, re.sub(r" in [0-9.]+ s", "", done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", default="/tmp/bench-logs", help="bench/importers.py --logs DIR")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", metavar="APP_DIR", help="also this package, alternating")
    parser.add_argument("--workers", help="SPENDTRAY_IMPORT_WORKERS for every run")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also the import with workers that parse nothing (they send, at once, what a "
        "recorded run's workers sent), and ccusage, alternating: what is left of the import "
        "when parsing takes no time",
    )
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
    extra: dict[str, dict[str, str]] = {}
    ccusage: list[float] = []
    binary = None
    if args.floor:
        # The recording and its replays must deal the files to the same number of workers.
        args.workers = args.workers or "2"
        recorded = tempfile.mkdtemp(prefix="spendtray-timeline-workers-")
        _, stored = one_round(ROOT / "app", logs, args.workers, {"T_RECORD": recorded})
        versions["floor"] = ROOT / "app"
        extra["floor"] = {"T_REPLAY": recorded}
        sys.path.insert(0, str(ROOT / "bench"))
        from importers import CCUSAGE_VERSION, find_ccusage, run_child

        binary = find_ccusage(Path.home() / ".cache" / "spendtray-bench")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    for round_no in range(args.rounds):
        order = list(versions.items())
        if round_no % 2:
            order.reverse()
        for name, app in order:
            marks, report = one_round(app, logs, args.workers, extra.get(name))
            if name == "floor" and report != stored:
                raise SystemExit(f"the floor stored other calls: {report!r}, not {stored!r}")
            runs[name].append(marks)
        if binary is not None:
            cc_args = [str(binary), "daily", "--json", "--offline", "--timezone", "UTC"]
            ccusage.append(run_child(cc_args, {"CLAUDE_CONFIG_DIR": str(logs)})[0] * 1000)
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
    if ccusage:
        ccusage.sort()
        print(
            f"ccusage@{CCUSAGE_VERSION} daily --offline: {ccusage[len(ccusage) // 2]:.0f} ms "
            f"({ccusage[0]:.0f}–{ccusage[-1]:.0f}), run after each round"
        )
    if args.floor:
        print(f"every floor round stored what the recorded run did: {stored}")
        shutil.rmtree(extra["floor"]["T_REPLAY"], ignore_errors=True)


if __name__ == "__main__":
    main()
