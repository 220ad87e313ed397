"""Wall time of quick `spendtray` commands against a bare `python -c pass`, in the same run.

Target (issue 19): quick commands (`--version`, `token`, and the ones listed in
``spendtray.cli.main.QUICK_COMMANDS``: `check`, `limits`, `statusline`, `hooks run`) start in
≤ 60 ms median. Each runs as its caller runs it, with the app not running (the commands that ask
it answer "unknown" at once): `limits` reads a data folder whose store exists, `statusline` and
the hook get the JSON Claude Code sends on stdin. Rounds alternate the commands so a machine
that slows down mid-run slows all of them alike; each figure comes with its spread.

    .venv/bin/python bench/startup.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


# What Claude Code sends a statusline command and a PreToolUse hook (the fields they read).
STATUSLINE_JSON = json.dumps(
    {
        "session_id": "bench-session",
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "workspace": {"current_dir": "/tmp/bench-project"},
        "cost": {"total_cost_usd": 0.42},
    }
).encode()
HOOK_JSON = json.dumps(
    {"session_id": "bench-session", "hook_event_name": "PreToolUse", "cwd": "/tmp/bench-project"}
).encode()
# Exit codes that mean the command did its work: `check` answers "unknown" (20) with no app.
DONE = {0, 20}


def wall(cmd: list[str], env: dict[str, str], stdin: bytes | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, input=stdin, capture_output=True)
    took = (time.perf_counter() - start) * 1000
    if done.returncode not in DONE:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[:300]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    spendtray = str(BIN / "spendtray")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SPENDTRAY_HOME": home}
        cases: dict[str, tuple[list[str], bytes | None]] = {
            "python -c pass (baseline)": ([sys.executable, "-c", "pass"], None),
            "spendtray --version": ([spendtray, "--version"], None),
            "spendtray token": ([spendtray, "token"], None),
            "spendtray check (app down)": ([spendtray, "check", "--project", "bench"], None),
            "spendtray limits": ([spendtray, "limits"], None),
            "spendtray statusline (app down)": ([spendtray, "statusline"], STATUSLINE_JSON),
            "spendtray hooks run (app down)": (
                [spendtray, "hooks", "run", "claude-code"],
                HOOK_JSON,
            ),
            "spendtray --help": ([spendtray, "--help"], None),
            "spendtray report --help (full)": ([spendtray, "report", "--help"], None),
        }
        wall([spendtray, "report"], env)  # the store `limits` reads
        for cmd, stdin in cases.values():  # warm the OS file cache
            wall(cmd, env, stdin)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, (cmd, stdin) in cases.items():
                times[name].append(wall(cmd, env, stdin))
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{rounds} rounds, ms wall (median, p10–p90, p99; ratio of medians to the baseline)")
    for name, values in times.items():
        q = statistics.quantiles(values, n=100)
        median = statistics.median(values)
        print(
            f"  {name:32} {median:6.1f}  {q[9]:6.1f}–{q[89]:6.1f}  p99 {q[98]:6.1f}"
            f"  x{median / base:4.1f}"
        )


if __name__ == "__main__":
    main()
