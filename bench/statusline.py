"""Wall time per `spendtray statusline` call, interpreter start included, with the app up and
with it down, against a bare `python -c pass` in the same run.

Target (issue 16): median ≤ 60 ms wall. Each round runs every case once, in turn, so a machine
that slows down mid-run slows all of them alike. The input is the statusline JSON Claude Code
sends a subscriber (model, workspace, cost, context window, both rate-limit windows), with a new
session cost and use each call; `spendtray --version` is the CLI dispatcher's own floor.
"app up" is a real server (`spendtray serve` on a free port, SQLite file, writer thread)
answering `POST /v1/statusline`, which records the windows and the session cost before it
answers.

Byte-code is compiled first (a pip install does that; this machine sets
PYTHONDONTWRITEBYTECODE, which would make every start compile the modules again).

    .venv/bin/python bench/statusline.py [--rounds 60]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def payload(i: int) -> bytes:
    now = int(time.time())
    return json.dumps(
        {
            "hook_event_name": "Status",
            "session_id": f"bench-session-{i % 7}",
            "transcript_path": "/home/dev/.claude/projects/-home-dev-acme/x.jsonl",
            "cwd": "/home/dev/acme/src",
            "model": {"id": "claude-opus-4-6", "display_name": "Opus 4.6"},
            "workspace": {"current_dir": "/home/dev/acme/src", "project_dir": "/home/dev/acme"},
            "version": "2.1.90",
            "output_style": {"name": "default"},
            "cost": {
                "total_cost_usd": 0.01 * i,
                "total_duration_ms": 1000 * i,
                "total_api_duration_ms": 700 * i,
                "total_lines_added": i,
                "total_lines_removed": 0,
            },
            "context_window": {
                "total_input_tokens": 1000 * i,
                "total_output_tokens": 50 * i,
                "context_window_size": 200000,
                "used_percentage": min(i / 10, 100),
            },
            "exceeds_200k_tokens": False,
            "rate_limits": {
                "five_hour": {"used_percentage": (i * 0.7) % 100, "resets_at": now + 7200},
                "seven_day": {"used_percentage": (i * 0.1) % 100, "resets_at": now + 400000},
            },
        }
    ).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wall(cmd: list[str], env: dict[str, str], stdin: bytes) -> tuple[float, float, str]:
    """(wall ms, CPU ms of the child: user + system, out)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} exited {proc.returncode}")
    return elapsed, (usage.ru_utime + usage.ru_stime) * 1000, out.decode().strip()


def wait_up(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    rounds = parser.parse_args().rounds
    compileall.compile_dir(str(ROOT / "app" / "spendtray"), quiet=1)
    spendtray = str(BIN / "spendtray")
    with tempfile.TemporaryDirectory() as up_home, tempfile.TemporaryDirectory() as down_home:
        port = free_port()
        base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        server = subprocess.Popen(
            [spendtray, "--port", str(port), "serve"],
            env={**base_env, "SPENDTRAY_HOME": up_home},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(port)
            cases = {
                "python -c pass (baseline)": ([sys.executable, "-c", "pass"], {}),
                "spendtray --version (floor)": ([spendtray, "--version"], {}),
                "statusline, app up": (
                    [spendtray, "statusline"],
                    {"SPENDTRAY_HOME": up_home, "SPENDTRAY_URL": f"http://127.0.0.1:{port}"},
                ),
                "statusline, app down": (
                    [spendtray, "statusline"],
                    {
                        "SPENDTRAY_HOME": down_home,
                        "SPENDTRAY_URL": f"http://127.0.0.1:{free_port()}",
                    },
                ),
            }
            envs = {name: {**base_env, **extra} for name, (_, extra) in cases.items()}
            lines: dict[str, str] = {}
            for name, (cmd, _) in cases.items():  # warm the OS file cache
                wall(cmd, envs[name], payload(0))
            times: dict[str, list[float]] = {name: [] for name in cases}
            cpu: dict[str, list[float]] = {name: [] for name in cases}
            for i in range(1, rounds + 1):
                for name, (cmd, _) in cases.items():
                    ms, cpu_ms, out = wall(cmd, envs[name], payload(i))
                    times[name].append(ms)
                    cpu[name].append(cpu_ms)
                    lines[name] = out
        finally:
            server.terminate()
            server.wait(10)
    base = statistics.median(times["python -c pass (baseline)"])
    base_cpu = statistics.median(cpu["python -c pass (baseline)"])
    print(
        f"{rounds} rounds, ms per call: wall median, p10–p90, p99, ratio of medians to the "
        "baseline; then the child's CPU time (user + system) median and ratio"
    )
    for name, values in times.items():
        q = statistics.quantiles(values, n=100)
        median = statistics.median(values)
        cpu_median = statistics.median(cpu[name])
        print(
            f"  {name:28} {median:6.1f}  {q[9]:6.1f}–{q[89]:6.1f}  p99 {q[98]:6.1f}"
            f"  x{median / base:4.1f}   cpu {cpu_median:6.1f}  x{cpu_median / base_cpu:4.1f}"
        )
    for name in ("statusline, app up", "statusline, app down"):
        print(f"  last line, {name.split(', ')[1]}: {lines[name]}")


if __name__ == "__main__":
    main()
