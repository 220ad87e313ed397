"""Wall time of quick `spendtray` commands against a bare `python -c pass`, in the same run.

Target (issue 19): quick commands (`--version`, `token`, and the ones listed in
``spendtray.cli.main.QUICK_COMMANDS``) start in ≤ 60 ms median. Rounds alternate the commands so
a machine that slows down mid-run slows all of them alike; each figure comes with its spread.

    .venv/bin/python bench/startup.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    spendtray = str(BIN / "spendtray")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SPENDTRAY_HOME": home}
        cases = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "spendtray --version": [spendtray, "--version"],
            "spendtray token": [spendtray, "token"],
            "spendtray --help": [spendtray, "--help"],
            "spendtray report --help (full)": [spendtray, "report", "--help"],
        }
        for cmd in cases.values():  # warm the OS file cache
            wall(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, cmd in cases.items():
                times[name].append(wall(cmd, env))
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
