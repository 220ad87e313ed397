"""Importer benchmark (issues 7, 15). Prints figures; asserts nothing. Main thread.

1. Makes ~SIZE of Claude Code transcripts in a temporary folder: by default copies of the REAL
   transcripts in ../shared/corpora/claude_code (each copy with its own message, request, line
   and session ids, shifted by whole days so the history spans months); ``--generated`` uses the
   tests' generator instead (tests/importers/loggen.py).
2. First import with `spendtray import claude-code --path DIR` in a child process: wall time,
   throughput, peak RSS (wait4 rusage of the child).
3. ccusage@20.0.24 (`daily --json --offline`) over the same files in the same run, when node/npm
   are available: wall time and peak RSS; per-day token totals compared with Spendtray's.
4. A re-run of the import over the unchanged logs (target ≤ 1 s): whole command and the pass
   itself (the command also pays Python start-up and the price catalogue load).
5. The next day's import: one new session (a real transcript with new ids) imported into the
   database the first import filled, as a later ``spendtray import`` finds it (start-up, the
   price table the first import left, a small pass, exit). With ``--against`` the baseline
   imports the same session into its own database, alternating which goes first.

Rounds (``--rounds``) repeat 2–4 on fresh copies of the database; each round prints
Spendtray's time next to ccusage's from the same round, then the median ratio and the spread.

Usage: python bench/importers.py [--size 308M] [--rounds 3] [--generated] [--keep]
       [--no-ccusage] [--dir TMPDIR] [--logs DIR] [--against APP_DIR]

``--against APP_DIR`` times the same first import with an older copy of the package (e.g.
``git archive main app | tar -x -C /tmp/base``, then ``--against /tmp/base/app``) in every
round, alternating which runs first, and prints this code's time over it (wall and CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "tests" / "importers"))

from loggen import generate_claude  # noqa: E402

CCUSAGE_VERSION = "20.0.24"
CORPUS = ROOT.parent / "shared" / "corpora" / "claude_code"
# Compact and spaced spellings: sniffly's files were re-serialised with ", " / ": ".
_IDS = tuple(
    f'"{name}":{space}"'.encode()
    for name in ("id", "requestId", "uuid", "parentUuid", "sessionId")
    for space in ("", " ")
)
_DAY = re.compile(rb'"timestamp": ?"(\d{4}-\d\d-\d\d)T')


def corpus_files() -> list[tuple[str, bytes]]:
    """(relative path, bytes) of every real Claude Code transcript in the corpora."""
    found: list[tuple[str, bytes]] = []
    for top in ("claude-code-log/real_projects", "claude-code-viewer", "sniffly", "toktrack"):
        base = CORPUS / top
        for path in sorted(base.rglob("*.jsonl")):
            found.append((f"{top.replace('/', '-')}/{path.relative_to(base)}", path.read_bytes()))
    return found


def scale_corpus(dst: Path, size: int) -> tuple[int, int, int]:
    """Copies of the corpus until ``size`` bytes: (bytes, files, copies). Copy k's ids get a
    ``c<k>-`` prefix (unique calls, as a heavier user's history would be) and its dates move
    k days back."""
    import datetime as dt

    files = corpus_files()
    written = copies = count = 0
    while written < size:
        tag = f"c{copies}-".encode()
        shift = dt.timedelta(days=copies)
        cache: dict[bytes, bytes] = {}

        def day(match: re.Match[bytes], shift: dt.timedelta = shift, cache: dict = cache) -> bytes:
            old = match.group(1)
            new = cache.get(old)
            if new is None:
                moved = dt.date.fromisoformat(old.decode()) - shift
                new = cache[old] = moved.isoformat().encode()
            return match.group(0)[: -len(old) - 1] + new + b"T"

        for relative, data in files:
            for marker in _IDS:
                data = data.replace(marker, marker + tag)
            data = _DAY.sub(day, data)
            target = dst / "projects" / f"copy{copies:03d}-{relative.replace('/', '-', 1)}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += len(data)
            count += 1
        copies += 1
    return written, count, copies


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?", text.strip())
    if not match:
        raise SystemExit(f"--size: {text!r} is not a size like 1G, 200M or 5000000")
    scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment plus ``extra``, writing bytecode as an installed package has it
    (PYTHONDONTWRITEBYTECODE would make every child compile every module again)."""
    env = {**os.environ, **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, int, str, float]:
    """(wall seconds, peak RSS in bytes, stdout, CPU seconds) of a child process, reaped with
    wait4 so the RSS and CPU are this child's (and its waited-for children's), not the largest
    of the run. CPU time is steadier than wall time on a shared machine."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        proc = subprocess.Popen(
            args, env=child_env(env), stdout=out_file, stderr=err_file, text=True
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({proc.returncode}): {err.strip()[-500:]}")
    return wall, usage.ru_maxrss * 1024, out, usage.ru_utime + usage.ru_stime


def first_import(logs: Path, home: Path, app: Path) -> tuple[float, int, str, float]:
    """``run_child`` of ``spendtray import claude-code --path LOGS`` into a new ``home``, with
    the package from ``app`` (this checkout's, or the baseline's with ``--against``)."""
    command = [sys.executable, "-m", "spendtray", "import", "claude-code", "--path", str(logs)]
    return run_child(command, {"SPENDTRAY_HOME": str(home), "PYTHONPATH": str(app)})


def find_ccusage(cache: Path) -> Path | None:
    candidates = [
        ROOT / ".pytest_cache" / "d" / f"ccusage-{CCUSAGE_VERSION}",
        cache / f"ccusage-{CCUSAGE_VERSION}",
    ]
    for folder in candidates:
        binary = folder / "node_modules" / ".bin" / "ccusage"
        if binary.exists():
            return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        print("ccusage: skipped (node/npm not installed)")
        return None
    target = candidates[1]
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(target),
         f"ccusage@{CCUSAGE_VERSION}"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    binary = target / "node_modules" / ".bin" / "ccusage"
    if done.returncode != 0 or not binary.exists():
        print(f"ccusage: skipped (npm install failed: {done.stderr.strip()[-200:]})")
        return None
    return binary


def our_days(home: Path) -> dict[str, dict[str, int]]:
    from zoneinfo import ZoneInfo

    from spendtray.store.reader import Filters, Reader

    reader = Reader(home / "spendtray.db", ZoneInfo("UTC"))
    try:
        summary = reader.summary("day", Filters(source="claude-code"), ZoneInfo("UTC"))
        return {
            r.key: {
                "input": r.input_tokens - r.cache_read_tokens - r.cache_write_tokens,
                "output": r.output_tokens,
                "cache_write": r.cache_write_tokens,
                "cache_read": r.cache_read_tokens,
                "cost_nanos": r.cost_nanos,
            }
            for r in summary.rows
            if r.calls
        }
    finally:
        reader.close()


# ccusage drops Claude Code lines whose "version" is not semver (toktrack's sanitized session
# writes "2.x"); Spendtray counts them. tests/importers/test_import_corpora.py shows that this is
# the whole difference per day on the real corpus.
_NOT_SEMVER = re.compile(rb'"version": ?"(?!\d+\.\d+\.\d+)')


def dropped_by_ccusage(logs: Path) -> dict[str, dict[str, int]]:
    """Per day, the tokens of the calls ccusage drops for their version (ccusage's columns)."""
    seen: set[tuple[Any, Any]] = set()
    days: dict[str, dict[str, int]] = {}
    for path in sorted(logs.rglob("*.jsonl")):
        data = path.read_bytes()
        if not _NOT_SEMVER.search(data):
            continue
        for line in data.splitlines():
            if not _NOT_SEMVER.search(line):
                continue
            entry = json.loads(line)
            message = entry.get("message") or {}
            usage = message.get("usage") if isinstance(message, dict) else None
            key = (message.get("id"), entry.get("requestId"))
            if not usage or key in seen:
                continue
            seen.add(key)
            day = days.setdefault(entry["timestamp"][:10], dict.fromkeys(_COLUMNS.values(), 0))
            day["inputTokens"] += usage.get("input_tokens", 0)
            day["outputTokens"] += usage.get("output_tokens", 0)
            day["cacheCreationTokens"] += usage.get("cache_creation_input_tokens", 0)
            day["cacheReadTokens"] += usage.get("cache_read_input_tokens", 0)
    return days


_COLUMNS = {
    "input": "inputTokens",
    "output": "outputTokens",
    "cache_write": "cacheCreationTokens",
    "cache_read": "cacheReadTokens",
}


def compare(
    ours: dict[str, dict[str, int]], theirs: list[dict[str, Any]], dropped: dict[str, Any]
) -> None:
    """Per day and field (4 token columns and cost): how many are equal, how many differ by
    exactly the calls ccusage drops (``dropped``), and how many differ otherwise."""
    compared = equal = explained = 0
    unexplained: list[str] = []
    worst_cost = dropped_cost = 0.0
    by_day = {d["period"]: d for d in theirs}
    for day in sorted(set(ours) | set(by_day)):
        mine, their = ours.get(day), by_day.get(day)
        gone = dropped.get(day, {})
        for ours_key, their_key in _COLUMNS.items():
            compared += 1
            have = mine[ours_key] if mine else 0
            shown = their[their_key] if their else 0
            if have == shown:
                equal += 1
            elif have - shown == gone.get(their_key):
                explained += 1
            else:
                unexplained.append(f"{day} {ours_key}: {have} vs ccusage {shown}")
        compared += 1
        cost_diff = abs(
            (their or {}).get("totalCost", 0.0) - (mine or {}).get("cost_nanos", 0) / 1e9
        )
        if cost_diff < 1e-6:
            equal += 1
        elif gone:
            explained += 1
            dropped_cost += cost_diff
        else:
            unexplained.append(f"{day} cost: difference ${cost_diff:.7f}")
            worst_cost = max(worst_cost, cost_diff)
    total_theirs = sum(d["totalCost"] for d in theirs)
    total_ours = sum(d["cost_nanos"] for d in ours.values()) / 1e9
    print(
        f"per-day totals vs ccusage: {len(set(ours) | set(by_day))} days, {compared} fields "
        f"(4 token columns and cost): {equal} equal, {explained} differ by exactly the calls "
        f"ccusage drops for a non-semver version ({len(dropped)} days with such calls, "
        f"${dropped_cost:,.4f} in all), {len(unexplained)} otherwise (largest cost difference "
        f"${worst_cost:.7f}); total cost ${total_ours:,.4f} (Spendtray) vs "
        f"${total_theirs:,.4f} (ccusage)"
    )
    for line in unexplained[:20]:
        print(f"  differs: {line}")


def next_day_imports(work: Path, home: Path, base: tuple[Path, Path] | None, runs: int = 9) -> None:
    """Section 5: ``runs`` imports of one new session each into ``home`` (and into the
    baseline's home with ``base`` = (home, app)); prints medians of wall and CPU."""
    relative, data = max(
        (item for item in corpus_files() if len(item[1]) < 400_000),
        key=lambda item: item[1].count(b'"usage"'),
    )
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for run in range(runs):
        tagged = data
        for marker in _IDS:
            tagged = tagged.replace(marker, marker + f"next{run}-".encode())
        folder = work / f"next-{run}"
        target = folder / "projects" / relative.replace("/", "-")
        target.parent.mkdir(parents=True)
        target.write_bytes(tagged)
        command = [
            sys.executable,
            "-m",
            "spendtray",
            "import",
            "claude-code",
            "--path",
            str(folder),
        ]
        order = [("ours", home, ROOT / "app")]
        if base is not None:
            order.insert(run % 2, ("base", *base))
        for who, who_home, app in order:
            wall, _, _, cpu = run_child(
                command, {"SPENDTRAY_HOME": str(who_home), "PYTHONPATH": str(app)}
            )
            (ours if who == "ours" else theirs).append((wall, cpu))

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    usages = data.count(b'"usage"')
    line = (
        f"next day's import ({usages} usage lines, {len(data) / 1e3:.0f} kB), "
        f"median of {runs}: wall {median([w for w, _ in ours]) * 1e3:.0f} ms, "
        f"CPU {median([c for _, c in ours]) * 1e3:.0f} ms"
    )
    if theirs:
        line += (
            f"; baseline wall {median([w for w, _ in theirs]) * 1e3:.0f} ms, "
            f"CPU {median([c for _, c in theirs]) * 1e3:.0f} ms; this / baseline per run: wall "
            f"{median([a[0] / b[0] for a, b in zip(ours, theirs, strict=True)]):.2f}, CPU "
            f"{median([a[1] / b[1] for a, b in zip(ours, theirs, strict=True)]):.2f}"
        )
    print(line, flush=True)


def idle_passes(home: Path, logs: Path, passes: int = 20) -> None:
    """What ``--watch`` / the tray's ImportWatcher pays per poll when nothing changed: a full
    poll (every file) and a quick one (files quiet for 10 min skipped, 14 polls in 15). The
    generated files are dated a day back first, as a real history mostly is."""
    from spendtray.config import load_settings
    from spendtray.core import Core
    from spendtray.importers import Importer

    day_ago = time.time() - 86_400
    for path in logs.rglob("*.jsonl"):
        os.utime(path, (day_ago, day_ago))
    core = Core(load_settings(home=home, port=0))
    core.start_store()
    importer = Importer.for_core(core, "claude-code", [logs])
    try:
        importer.run()  # loads the offsets and notes the new mtimes, as a watcher would
        cpu_per_pass: dict[bool, float] = {}
        for quick in (False, True):
            walls: list[float] = []
            cpus: list[float] = []
            for _ in range(passes):
                wall, cpu = time.perf_counter(), time.process_time()
                report = importer.run(quick=quick)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                assert report.bytes_read == 0
            mean_cpu = cpu_per_pass[quick] = sum(cpus) / passes
            print(
                f"watch poll over unchanged logs ({report.files_seen:,} files), "
                f"{'quick' if quick else 'full'}: {1000 * sum(walls) / passes:.0f} ms wall, "
                f"{1000 * mean_cpu:.0f} ms CPU"
            )
        share = (14 * cpu_per_pass[True] + cpu_per_pass[False]) / 15 / 2.0
        print(f"  = {100 * share:.2f} % of one core polling every 2 s (1 full poll in 15)")
    finally:
        importer.close()
        core.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="308M", help="how much log to make (default 308M)")
    parser.add_argument("--rounds", type=int, default=3, help="first-import rounds (default 3)")
    parser.add_argument("--generated", action="store_true", help="generated, not real, logs")
    parser.add_argument("--dir", help="where to make the temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the generated logs")
    parser.add_argument("--no-ccusage", action="store_true")
    parser.add_argument(
        "--logs", help="keep the scaled copy in DIR/claude and reuse it in later runs"
    )
    parser.add_argument(
        "--against",
        metavar="APP_DIR",
        help="also time the first import with the package in APP_DIR (e.g. an older "
        "checkout's app/ folder) in every round, alternating which goes first",
    )
    args = parser.parse_args()
    if args.against and not (Path(args.against) / "spendtray").is_dir():
        # PYTHONPATH would not find the package there and the child would import this
        # checkout's from the venv: an A/B of this code against itself.
        raise SystemExit(
            f"--against {args.against}: no spendtray package in it (give its app folder)"
        )
    size = parse_size(args.size)
    work = Path(tempfile.mkdtemp(prefix="spendtray-bench-import-", dir=args.dir))
    logs = work / "claude"
    print(f"cpus: {os.cpu_count()}; work folder: {work}")
    try:
        started = time.perf_counter()
        if args.logs:
            logs = Path(args.logs) / "claude"
            if not logs.is_dir():
                logs.parent.mkdir(parents=True, exist_ok=True)
                total, files, copies = scale_corpus(logs, size)
            total = sum(p.stat().st_size for p in logs.rglob("*.jsonl"))
            print(f"reusing {logs}: {total / 1e6:,.0f} MB")
        elif args.generated:
            generated = generate_claude(logs, size)
            total = generated.bytes
            print(
                f"generated {total / 1e6:,.0f} MB in {generated.files:,} files, "
                f"{generated.lines:,} lines, {generated.usage_lines:,} usage lines, "
                f"{generated.messages:,} distinct calls ({time.perf_counter() - started:.1f} s)"
            )
        else:
            total, files, copies = scale_corpus(logs, size)
            print(
                f"{copies} copies of the real Claude Code corpus: {total / 1e6:,.0f} MB in "
                f"{files:,} files ({time.perf_counter() - started:.1f} s)"
            )
        # Bytecode as an installed package has it (pip compiles on install).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "app")], check=True)
        binary = None
        if not args.no_ccusage:
            binary = find_ccusage(Path.home() / ".cache" / "spendtray-bench")
        ratios: list[float] = []
        # (wall, CPU) of this code's import over the baseline's, per round (--against).
        against: list[tuple[float, float]] = []
        home = work / "home-0"
        if args.against:
            base_app = Path(args.against).resolve()
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(base_app)], check=True)
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for round_no in range(max(1, args.rounds)):
            home = work / f"home-{round_no}"
            base_home = work / f"base-home-{round_no}"
            # With --against, alternating which goes first, so neither always meets the
            # warmer cache.
            base = None
            if args.against and round_no % 2:
                base = first_import(logs, base_home, base_app)
            wall, rss, out, cpu = first_import(logs, home, ROOT / "app")
            if args.against and base is None:
                base = first_import(logs, base_home, base_app)
            line = (
                f"round {round_no + 1}: spendtray first import {wall:.2f} s, CPU {cpu:.2f} s "
                f"({total / 1e6 / wall:,.0f} MB/s, peak RSS {rss / 1e6:,.0f} MB)"
            )
            if base is not None:
                if round_no < args.rounds - 1:  # the last one serves section 5
                    shutil.rmtree(base_home, ignore_errors=True)
                against.append((wall / base[0], cpu / base[3]))
                line += (
                    f"; baseline {base[0]:.2f} s, CPU {base[3]:.2f} s; this / baseline: wall "
                    f"{against[-1][0]:.2f}, CPU {against[-1][1]:.2f}"
                )
            if binary is not None:
                cc_args = [str(binary), "daily", "--json", "--offline", "--timezone", "UTC"]
                cc_wall, cc_rss, cc_out, cc_cpu = run_child(
                    cc_args, {"CLAUDE_CONFIG_DIR": str(logs)}
                )
                ratios.append(wall / cc_wall)
                line += (
                    f"; ccusage@{CCUSAGE_VERSION} {cc_wall:.2f} s, CPU {cc_cpu:.2f} s (peak RSS "
                    f"{cc_rss / 1e6:,.0f} MB); ratio {wall / cc_wall:.2f}"
                )
            print(line, flush=True)
            if round_no == 0:
                print(f"  {out.strip()}")
                if binary is not None:
                    compare(our_days(home), json.loads(cc_out)["daily"], dropped_by_ccusage(logs))
        if ratios:
            ratios.sort()
            print(
                f"first import / ccusage: median {ratios[len(ratios) // 2]:.2f} "
                f"(spread {ratios[0]:.2f}–{ratios[-1]:.2f} over {len(ratios)} rounds)"
            )
        if against:
            walls, cpus = sorted(a[0] for a in against), sorted(a[1] for a in against)
            print(
                f"first import, this code / baseline ({args.against}): wall median "
                f"{walls[len(walls) // 2]:.2f} (spread {walls[0]:.2f}–{walls[-1]:.2f}), CPU "
                f"median {cpus[len(cpus) // 2]:.2f} (spread {cpus[0]:.2f}–{cpus[-1]:.2f}) over "
                f"{len(against)} rounds"
            )
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        command = [sys.executable, "-m", "spendtray", "import", "claude-code", "--path", str(logs)]
        env = {"SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
        for attempt in (1, 2, 3):
            wall, rss, out, cpu = run_child(command, env)
            inner = re.search(r"in (\d+\.\d+) s", out)
            print(
                f"re-import over unchanged logs #{attempt}: command {wall:.2f} s, CPU {cpu:.2f} s "
                f"(pass itself {inner.group(1) if inner else '?'} s), peak RSS {rss / 1e6:,.0f} MB"
            )
        idle_passes(home, logs)
        next_day_imports(work, home, (base_home, base_app) if args.against else None)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
