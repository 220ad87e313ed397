"""Wall time of the guard commands that agents run before every step, against a bare
`python -c pass` in the same run, with the app up (`spendtray serve` on a free port).

- `spendtray check --project acme` (a hard budget, some spend);
- the installed Claude Code hook command, fed a PreToolUse JSON on stdin exactly as Claude Code
  runs it (`spendtray hooks run claude-code`), for a project within its budget (allowed) and
  for one whose hard budget is spent (blocked).

Target (issue 17): median ≤ 60 ms wall. Rounds alternate the commands so a machine that slows
down mid-run slows all of them alike; each figure comes with its spread.

    .venv/bin/python bench/guard.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def wall(cmd: list[str], env: dict[str, str], stdin: bytes | None = None) -> tuple[float, float]:
    """(wall ms, CPU ms of the command itself: user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return elapsed, cpu


def start_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    spendtray = str(BIN / "spendtray")
    proc = subprocess.Popen(
        [spendtray, "serve", "--port", "0"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"http://127\.0\.0\.1:\d+", proc.stderr.readline())
        if match:
            return proc, match.group(0)
    proc.kill()
    raise RuntimeError("spendtray serve did not start")


def hook_input(cwd: Path, session: str) -> bytes:
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": f"/home/dev/.claude/projects/{session}.jsonl",
            "cwd": str(cwd),
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    spendtray = str(BIN / "spendtray")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "SPENDTRAY_HOME": str(home)}
        serve, url = start_serve(env)
        port = url.rsplit(":", 1)[1]
        try:
            token = (home / "token").read_text().strip()
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
                for project, limit in (("acme", 100.0), ("spent", 0.01)):
                    c.put(
                        f"/v1/budgets/{project}",
                        json={"period": "day", "limit_usd": limit, "mode": "hard"},
                    ).raise_for_status()
                    c.post(
                        "/v1/usage",
                        json={"model": "gpt-4o", "input_tokens": 10_000, "project": project},
                    ).raise_for_status()
            base = [spendtray, "--port", port]
            cases: dict[str, tuple[list[str], bytes | None]] = {
                "python -c pass (baseline)": ([sys.executable, "-c", "pass"], None),
                "spendtray --version (floor)": ([spendtray, "--version"], None),
                "spendtray check (app up)": ([*base, "check", "--project", "acme"], None),
                "hook, allowed (app up)": (
                    [*base, "hooks", "run", "claude-code"],
                    hook_input(Path(tmp) / "acme", "s-acme"),
                ),
                "hook, blocked (app up)": (
                    [*base, "hooks", "run", "claude-code"],
                    hook_input(Path(tmp) / "spent", "s-spent"),
                ),
            }
            for cmd, stdin in cases.values():  # warm the OS file cache
                wall(cmd, env, stdin)
            times: dict[str, list[float]] = {name: [] for name in cases}
            cpu: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(rounds):
                for name, (cmd, stdin) in cases.items():
                    elapsed, used = wall(cmd, env, stdin)
                    times[name].append(elapsed)
                    cpu[name].append(used)
        finally:
            serve.terminate()
            serve.wait(30)
    baseline = statistics.median(times["python -c pass (baseline)"])
    base_cpu = statistics.median(cpu["python -c pass (baseline)"])
    print(
        f"{rounds} rounds, ms wall (median, p10–p90, p99; ratio of medians to the baseline) "
        "and the command's own CPU ms (median; ratio) — on a busy machine wall time also "
        "waits for the CPU, the app's included"
    )
    for name, values in times.items():
        q = statistics.quantiles(values, n=100)
        median = statistics.median(values)
        used = statistics.median(cpu[name])
        print(
            f"  {name:28} {median:6.1f}  {q[9]:6.1f}–{q[89]:6.1f}  p99 {q[98]:6.1f}"
            f"  x{median / baseline:4.1f}   cpu {used:5.1f}  x{used / base_cpu:4.1f}"
        )


if __name__ == "__main__":
    main()
