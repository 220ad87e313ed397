"""Ingest under real traffic (issue 19). Prints figures with their spread; asserts nothing.

Traffic is what real senders post (bench/traffic.py): a unique ``request_id`` per event,
timestamps over the last 90 days with some arriving late for old days, 20 projects × 5 agents
× 6 models of 3 providers, cache reads, raw provider usage objects as well as canonical fields.

1. Single-event POSTs (wrk, 8 connections, every request a new event) as a % of a no-op
   uvicorn+Starlette endpoint that only parses the same JSON. Both servers stay up and the runs
   alternate round by round; the figure is the median of same-round ratios.
2. Batch ingest events/s: 1,000-event POSTs from one sender, then from two concurrent senders
   (together), several runs each.
3. Latency of single-event POSTs and of /healthz while `spendtray import claude-code` sends a
   large history (the real Claude Code logs of ../shared/corpora scaled to --import-size with
   unique ids per copy) to the same server — and without the import, just before, as reference.
4. Peak RSS of `spendtray serve`.

Targets: single ≥ 60 % of the baseline; batch ≥ 50,000 events/s; two senders ≥ one;
p99 of single POSTs ≤ 20 ms during the import. Summaries: bench/summary.py.

Usage: python bench/ingest.py [--seconds 5] [--rounds 3] [--runs 5] [--import-size 300M]
       [--skip-import]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "bench"))

from traffic import AGENTS, DAYS, MODELS, PROJECTS, Traffic, scale_claude_logs  # noqa: E402

BATCH = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    """median (min–max over n)"""
    return (
        f"{fmt.format(statistics.median(values))} "
        f"({fmt.format(min(values))}–{fmt.format(max(values))} over {len(values)})"
    )


def wrk_script(token: str | None) -> Path:
    """A wrk script posting a new event per request, shaped like bench/traffic.py's."""
    lua = [
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        f'local run = "{uuid.uuid4().hex[:10]}"',
        f"local projects = {{{', '.join(json.dumps(p) for p in PROJECTS)}}}",
        f"local agents = {{{', '.join(json.dumps(a) for a in AGENTS)}}}",
        f"local models = {{{', '.join(json.dumps(m) for m in MODELS)}}}",
        f"local now = {int(time.time())}",
        "local counter = 0",
        "local thread_no = 0",
        "setup = function(thread) thread_no = thread_no + 1; thread:set('tid', thread_no) end",
        "request = function()",
        "  counter = counter + 1",
        "  local age = math.random(0, " + str(DAYS * 86400) + ")",
        "  local inp = math.random(200, 60000)",
        "  local body = string.format("
        '\'{"request_id":"%s-%s-%d","timestamp":%d,"project":"%s","agent":"%s",'
        '"model":"%s","input_tokens":%d,"cache_read_tokens":%d,"output_tokens":%d}\','
        " run, tostring(tid), counter, now - age, projects[math.random(#projects)],"
        " agents[math.random(#agents)], models[math.random(#models)], inp,"
        " math.random(0, math.floor(inp / 2)), math.random(20, 4000))",
        "  return wrk.format(nil, nil, nil, body)",
        "end",
    ]
    if token:
        lua.insert(2, f'wrk.headers["Authorization"] = "Bearer {token}"')
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text("\n".join(lua) + "\n")
    return path


def wrk(url: str, seconds: int, script: Path) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(script), f"{url}/v1/usage"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = [line for line in out.splitlines() if "Non-2xx" in line]
    if non2xx:
        raise SystemExit(f"wrk saw errors: {non2xx}")
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit(out)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def client(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=60,
    )


def post_all(url: str, token: str, bodies: list[bytes]) -> None:
    with client(url, token) as c:
        for body in bodies:
            r = c.post("/v1/usage", content=body)
            if r.status_code != 202:
                raise SystemExit(f"batch refused: {r.status_code} {r.text[:300]}")


def batch_rate(url: str, token: str, traffic: Traffic, senders: int, batches: int) -> float:
    """Events/s of ``senders`` concurrent senders posting ``batches`` 1,000-event POSTs each."""
    work = [list(traffic.bodies(batches, BATCH)) for _ in range(senders)]
    threads = [threading.Thread(target=post_all, args=(url, token, w)) for w in work]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return senders * batches * BATCH / (time.perf_counter() - start)


class Probe:
    """Single-event POSTs one after another (and a /healthz every tenth), timed each."""

    def __init__(self, url: str, token: str, traffic: Traffic) -> None:
        self.url, self.token, self.traffic = url, token, traffic
        self.posts: list[float] = []
        self.health: list[float] = []
        self.errors: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with client(self.url, self.token) as c:
            n = 0
            while not self._stop.is_set():
                n += 1
                if n % 10 == 0:
                    t = time.perf_counter()
                    c.get("/healthz")
                    self.health.append((time.perf_counter() - t) * 1000)
                body = json.dumps(self.traffic.event()).encode()
                t = time.perf_counter()
                r = c.post("/v1/usage", content=body)
                elapsed = (time.perf_counter() - t) * 1000
                if r.status_code == 202:
                    self.posts.append(elapsed)
                else:
                    self.errors[r.status_code] = self.errors.get(r.status_code, 0) + 1
                time.sleep(0.002)  # a busy agent fleet, not a flood: ~300 POSTs/s at most


def latency_line(name: str, values: list[float]) -> str:
    if len(values) < 2:
        return f"  {name}: too few samples ({len(values)})"
    q = statistics.quantiles(values, n=100)
    return (
        f"  {name}: n={len(values):,}  p50 {q[49]:.1f}  p90 {q[89]:.1f}  p99 {q[98]:.1f}  "
        f"max {max(values):.1f} ms"
    )


def start_serve(env: dict[str, str], home: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    serve = subprocess.Popen(
        [sys.executable, "-m", "spendtray", "serve", "--port", str(port)],
        env={**env, "SPENDTRAY_HOME": str(home)},
        stderr=subprocess.DEVNULL,
    )
    wait_up(port)
    return serve, (home / "token").read_text().strip()


def machine_speed() -> float:
    """Milliseconds for a fixed pure-Python workload (best of 5): printed beside the figures,
    because this VM's speed changes by up to ~1.8x from one minute to the next."""
    doc = {"model": "gpt-4o", "tokens": list(range(50)), "tags": {"a": "b" * 20}}
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(20_000):
            json.loads(json.dumps(doc))
        best = min(best, time.perf_counter() - t)
    return best * 1000


def parse_size(text: str) -> int:
    units = {"K": 10**3, "M": 10**6, "G": 10**9}
    text = text.strip().upper().removesuffix("B")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved baseline/ours rounds")
    parser.add_argument("--runs", type=int, default=5, help="batch runs per case")
    parser.add_argument("--batches", type=int, default=40, help="1,000-event POSTs per run")
    parser.add_argument("--import-size", default="300M")
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="spendtray-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "app")}
    traffic = Traffic(seed=int(time.time()))
    try:
        speed_before = machine_speed()
        noop_port = free_port()
        noop = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "noop_server.py"), str(noop_port)], env=env
        )
        wait_up(noop_port)
        port = free_port()
        serve, token = start_serve(env, work / "serve", port)
        url, noop_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{noop_port}"
        ours_script, noop_script = wrk_script(token), wrk_script(None)
        wrk(noop_url, 1, noop_script)  # warm-up
        wrk(url, 1, ours_script)
        rounds: list[tuple[float, float]] = []
        for i in range(args.rounds):
            if i % 2:
                ours = wrk(url, args.seconds, ours_script)
                baseline = wrk(noop_url, args.seconds, noop_script)
            else:
                baseline = wrk(noop_url, args.seconds, noop_script)
                ours = wrk(url, args.seconds, ours_script)
            rounds.append((baseline, ours))
        noop.terminate()
        noop.wait()

        batch_rate(url, token, traffic, 1, 5)  # warm-up
        one: list[float] = []
        two: list[float] = []
        for _ in range(args.runs):  # alternating, so both see the same machine
            one.append(batch_rate(url, token, traffic, 1, args.batches))
            two.append(batch_rate(url, token, traffic, 2, args.batches // 2))

        quiet = during = None
        imported = (0, 0)
        import_wall = 0.0
        if not args.skip_import:
            logs = work / "claude-logs"
            imported = scale_claude_logs(logs, parse_size(args.import_size))
            with Probe(url, token, traffic) as quiet:
                time.sleep(4)
            with Probe(url, token, traffic) as during:
                t = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "spendtray", "--port", str(port), "import",
                     "claude-code", "--path", str(logs / "projects")],
                    env={**env, "SPENDTRAY_HOME": str(work / "serve")},
                    capture_output=True,
                    text=True,
                )  # fmt: skip
                import_wall = time.perf_counter() - t
            if done.returncode != 0:
                raise SystemExit(f"import failed: {done.stderr.strip()[-400:]}")
            import_summary = done.stdout.strip().splitlines()[-1:]
        rss = peak_rss_mb(serve.pid)
        serve.terminate()
        serve.wait()
        speed_after = machine_speed()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"machine speed (fixed Python workload, lower is faster): {speed_before:.0f} ms before, "
        f"{speed_after:.0f} ms after"
    )
    print(
        f"1. single-event POSTs, new event per request, wrk 8 connections, {args.rounds} rounds "
        f"of {args.seconds}s:"
    )
    for i, (baseline, ours) in enumerate(rounds, 1):
        print(
            f"  round {i}: no-op uvicorn+starlette {baseline:8.0f} req/s, "
            f"spendtray {ours:8.0f} req/s = {100 * ours / baseline:.0f} %"
        )
    ratios = [100 * ours / baseline for baseline, ours in rounds]
    print(f"  ratio: {spread(ratios, '{:.0f} %')} (target ≥ 60 %)")
    print(f"2. batch ingest, {BATCH:,}-event POSTs, {args.batches} per run, events/s:")
    print(f"  one sender:          {spread(one)} (target ≥ 50,000)")
    print(f"  two senders, total:  {spread(two)} (target ≥ one sender)")
    ratio_two = [b / a for a, b in zip(one, two, strict=True)]
    print(f"  two / one, same run: {spread(ratio_two, '{:.2f}')}")
    if quiet is not None and during is not None:
        files, size = imported
        print(
            f"3. `spendtray import claude-code` of {size / 1e6:,.0f} MB ({files:,} files, real "
            f"logs scaled with unique ids) into the running server took {import_wall:.1f} s"
            f" — {' '.join(import_summary)}"
        )
        print("  without the import (4 s, reference):")
        print(latency_line("single POST", quiet.posts))
        print(latency_line("/healthz   ", quiet.health))
        print("  during the import (target: p99 of single POSTs ≤ 20 ms):")
        print(latency_line("single POST", during.posts))
        print(latency_line("/healthz   ", during.health))
        if during.errors or quiet.errors:
            print(f"  non-202 answers: {quiet.errors} before, {during.errors} during")
    print(f"4. peak RSS of `spendtray serve`: {rss:.0f} MB")


if __name__ == "__main__":
    main()
