"""Ingest under real traffic (issue 19). Prints figures with their spread; asserts nothing.

Traffic is what real senders post (bench/traffic.py): a unique ``request_id`` per event,
timestamps over the last 90 days with some arriving late for old days, 20 projects × 5 agents
× 6 models of 3 providers, cache reads, raw provider usage objects as well as canonical fields.

1. Single-event POSTs (wrk, 8 connections, every request a new event) as a % of a no-op
   uvicorn+Starlette endpoint that only parses the same JSON. Both servers stay up and the runs
   alternate round by round; the figure is the median of same-round ratios. With ``--against``
   the other checkout's server takes its turn in each round too. After a server's run the
   next starts once its fold has caught up with the run's events (no run pays for another's
   fold); its CPU per POST is printed with and without that fold. ``--budgets N`` first sets
   N budgets on each server through its API (a global month budget, then day budgets on the
   traffic's projects), so every reply carries budget status as it does for a user with budgets.
2. Batch ingest events/s: 1,000-event POSTs from one sender, then from two concurrent senders
   (together), several runs each; with ``--against DIR`` (the ``app`` folder of another
   checkout, e.g. ``git archive main app | tar -x -C /tmp/base``) a second server runs that
   code and the runs alternate between the two, each printed beside the other. After each run
   the bench reads the server's file on its own connection: how many events the rollups did
   not hold yet when the last POST was answered, what a summary (91 days by project) cost at
   that moment, and how long the fold took to catch up; the next run starts once it has.
3. Latency of single-event POSTs and of /healthz while `spendtray import claude-code` sends a
   large history (the real Claude Code logs of ../shared/corpora scaled to --import-size with
   unique ids per copy) to the same server — and without the import, just before, as reference.
4. Peak RSS of `spendtray serve`.

Targets: single ≥ 60 % of the baseline; batch ≥ 50,000 events/s; two senders ≥ one;
p99 of single POSTs ≤ 20 ms during the import. Summaries: bench/summary.py.

``--single-times live`` posts section 1's events as a client or the proxy does, as calls end
(within the last minute, 5 % late for older days), instead of spread over 90 days: the fold
that a long run of single events needs costs several times less when they share quarter-hours.

Usage: python bench/ingest.py [--seconds 5] [--rounds 3] [--warmup 1] [--runs 5]
       [--import-size 300M] [--skip-import] [--only single|batch] [--against DIR]
       [--budgets N] [--single-times spread|live]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "bench"))

from traffic import (  # noqa: E402
    AGENTS,
    DAYS,
    LATE_SHARE,
    MODELS,
    PROJECTS,
    Traffic,
    scale_claude_logs,
)

from spendtray.store.db import open_for_reading  # noqa: E402
from spendtray.store.fold import folded_through  # noqa: E402
from spendtray.store.reader import Filters, Reader  # noqa: E402

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


# Single events' times: "spread" over the last DAYS days, as bench/traffic.py's (the issue's
# shape, the default); "live" as a client or the proxy posts calls as they end: within the
# last minute, but for LATE_SHARE of them arriving late for any of those days.
LIVE_SECONDS = 60


def wrk_script(token: str | None, times: str = "spread") -> Path:
    """A wrk script posting a new event per request, shaped like bench/traffic.py's, its times
    ``times`` (see LIVE_SECONDS). For one wrk run only: its request ids (run id, thread,
    counter) and its random sequence start over in every run, so a script run twice posts the
    first run's events again — duplicates, which cost the server far less than new events (no
    insert, nothing to fold)."""
    age = f"math.random(0, {DAYS * 86400})"
    if times == "live":
        age = f"(math.random() < {LATE_SHARE} and {age} or math.random(0, {LIVE_SECONDS}))"
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
        f"init = function(args) math.randomseed({random.randrange(1 << 30)} + tid) end",
        "request = function()",
        "  counter = counter + 1",
        f"  local age = {age}",
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


def wrk(url: str, seconds: int, script: Path) -> tuple[float, float]:
    """(requests per second, the 99th percentile of their latency in ms) of one wrk run."""
    out = subprocess.run(
        ["wrk", "-t2", "-c8", "--latency", f"-d{seconds}s", "-s", str(script), f"{url}/v1/usage"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = [line for line in out.splitlines() if "Non-2xx" in line]
    if non2xx:
        raise SystemExit(f"wrk saw errors: {non2xx}")
    rate = p99 = None
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            rate = float(words[1])
        elif words[:1] == ["99%"]:
            p99 = _ms(words[1])
    if rate is None or p99 is None:
        raise SystemExit(out)
    return rate, p99


def _ms(text: str) -> float:
    """wrk's latency ("812.00us", "4.51ms", "1.02s") in milliseconds."""
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(f"not a wrk latency: {text!r}")


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
    errors: list[BaseException] = []

    def send(bodies: list[bytes]) -> None:
        try:
            post_all(url, token, bodies)
        except BaseException as exc:  # a sender that failed must not pass for a slow one
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(w,)) for w in work]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"a batch sender failed: {errors[0]!r}")
    return senders * batches * BATCH / (time.perf_counter() - start)


@dataclass
class Batched:
    """One server of the batch section and what its runs measured."""

    name: str
    url: str
    token: str
    db: Path
    pid: int
    one: list[float] = field(default_factory=list)
    two: list[float] = field(default_factory=list)
    # The server's CPU time (every thread) per event while the senders ran, in µs: steadier
    # than events/s on a shared machine, where the rate follows whoever else runs.
    cpu_one: list[float] = field(default_factory=list)
    cpu_two: list[float] = field(default_factory=list)
    backlog: list[float] = field(default_factory=list)  # events not folded at the last answer
    summary_ms: list[float] = field(default_factory=list)  # 91 days by project, then
    at_rest_ms: list[float] = field(default_factory=list)  # the same once folded
    catch_up: list[float] = field(default_factory=list)  # seconds until the rollups held all

    def run(self, traffic: Traffic, senders: int, batches: int) -> None:
        before = cpu_seconds(self.pid)
        rate = batch_rate(self.url, self.token, traffic, senders, batches)
        cpu_us = 1e6 * (cpu_seconds(self.pid) - before) / (senders * batches * BATCH)
        (self.one if senders == 1 else self.two).append(rate)
        (self.cpu_one if senders == 1 else self.cpu_two).append(cpu_us)
        self._settle()

    def _settle(self) -> None:
        """Right after a run: the backlog it left, a summary's cost with that backlog, and
        the time until the fold caught up (the next run starts only then)."""
        start = time.perf_counter()
        reader = Reader(self.db, ZoneInfo("UTC"))
        conn = open_for_reading(self.db)
        try:
            self.backlog.append(_unfolded(conn))
            self.summary_ms.append(_summary_ms(reader))
            while _unfolded(conn) and time.perf_counter() - start < 300:
                time.sleep(0.02)
            self.catch_up.append(time.perf_counter() - start)
            self.at_rest_ms.append(_summary_ms(reader))
        finally:
            conn.close()
            reader.close()


def _unfolded(conn: sqlite3.Connection) -> int:
    newest = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    return int(newest) - folded_through(conn)


def _summary_ms(reader: Reader) -> float:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=91)
    t = time.perf_counter()
    reader.summary("project", Filters(since=since))
    return (time.perf_counter() - t) * 1000


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


@dataclass
class Single:
    """Section 1 for one server: its req/s per round, beside the no-op's of the same round."""

    name: str
    url: str
    token: str
    pid: int
    db: Path | None  # None: the no-op, which stores nothing
    times: str = "spread"  # the events' times (wrk_script)
    rates: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)  # wrk's 99th percentile latency
    cpu_us: list[float] = field(default_factory=list)  # the server's CPU time per POST
    # The same once the fold has caught up with the run's events (the server's whole cost
    # of them), and the seconds that took: the next run starts only then, so no run pays
    # for another's fold.
    cpu_folded_us: list[float] = field(default_factory=list)
    catch_up: list[float] = field(default_factory=list)
    # Events not folded yet when the run ended (single events arriving fast defer the fold),
    # and what a summary (91 days by project) cost then.
    backlog: list[float] = field(default_factory=list)
    summary_ms: list[float] = field(default_factory=list)

    def run(self, seconds: int) -> None:
        script = wrk_script(self.token or None, self.times)  # new events in every run
        before = cpu_seconds(self.pid)
        try:
            rate, p99 = wrk(self.url, seconds, script)
        finally:
            script.unlink()
        posts = rate * seconds
        self.rates.append(rate)
        self.p99_ms.append(p99)
        self.cpu_us.append(1e6 * (cpu_seconds(self.pid) - before) / posts)
        if self.db is not None:
            start = time.perf_counter()
            conn = open_for_reading(self.db)
            reader = Reader(self.db, ZoneInfo("UTC"))
            try:
                self.backlog.append(_unfolded(conn))
                self.summary_ms.append(_summary_ms(reader))
                while _unfolded(conn) and time.perf_counter() - start < 300:
                    time.sleep(0.1)
            finally:
                conn.close()
                reader.close()
            self.catch_up.append(time.perf_counter() - start)
            self.cpu_folded_us.append(1e6 * (cpu_seconds(self.pid) - before) / posts)


def set_budgets(url: str, token: str, count: int) -> None:
    """``count`` budgets through the app's own API, as a user sets them: a global month budget
    and day budgets on the first ``count - 1`` projects the traffic posts for."""
    if count == 0:
        return
    wanted = [("*", "month", 2_000)] + [(p, "day", 50) for p in PROJECTS[: count - 1]]
    with client(url, token) as http:
        for project, period, limit in wanted:
            reply = http.put(f"/v1/budgets/{project}", json={"period": period, "limit_usd": limit})
            reply.raise_for_status()


def budgets_text(count: int) -> str:
    if count == 0:
        return "no budgets"
    days = f" and {count - 1} day budgets on projects the traffic posts for" if count > 1 else ""
    return f"{count} budget{'s' if count > 1 else ''} (a global month budget{days})"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def single_rounds(
    env: dict[str, str],
    servers: list[Single],
    n_rounds: int,
    seconds: int,
    warmup: int,
    times: str = "spread",
) -> Single:
    """Section 1: the no-op server's runs; each server's in its own ``Single``. Within a round
    the no-op and the servers take turns, in reverse order every other round."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "noop_server.py"), str(port)], env=env
    )
    try:
        wait_up(port)
        noop = Single("no-op", f"http://127.0.0.1:{port}", "", process.pid, None, times)
        everyone = [noop, *servers]
        for s in everyone:
            script = wrk_script(s.token or None, times)
            wrk(s.url, warmup, script)
            script.unlink()
        for i in range(n_rounds):
            for s in everyone if i % 2 == 0 else everyone[::-1]:
                s.run(seconds)
        return noop
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved baseline/ours rounds")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="seconds of single POSTs each server gets before the rounds (a fresh database "
        "answers slower for its first ~50k events)",
    )
    parser.add_argument("--runs", type=int, default=5, help="batch runs per case")
    parser.add_argument("--batches", type=int, default=40, help="1,000-event POSTs per run")
    parser.add_argument("--import-size", default="300M")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--only", choices=["single", "batch"], help="only this section")
    parser.add_argument(
        "--single-times",
        choices=["spread", "live"],
        default="spread",
        help=f"single events' times: spread over {DAYS} days (default, the issue's traffic) or "
        f"live (within the last {LIVE_SECONDS} s, {LATE_SHARE:.0%}% late for any of those days)",
    )
    parser.add_argument(
        "--random-ids",
        action="store_true",
        help="batch events carry random request ids, as providers' are (default: a prefix and "
        "a counter, which only ever append to the unique index)",
    )
    parser.add_argument(
        "--budgets",
        type=int,
        default=0,
        help=f"budgets each server gets before the single runs: a global month budget plus day "
        f"budgets on up to {len(PROJECTS)} of the traffic's projects (default 0, as earlier runs)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="the app folder of another checkout: single and batch runs A/B",
    )
    args = parser.parse_args()
    if args.against is not None and not (args.against / "spendtray").is_dir():
        # Without this, PYTHONPATH=DIR finds no package there and the other server imports
        # this checkout's (installed in the venv): an A/B of this code against itself.
        raise SystemExit(
            f"--against {args.against}: no spendtray package in it (give its app folder)"
        )
    if not 0 <= args.budgets <= len(PROJECTS) + 1:
        raise SystemExit(f"--budgets {args.budgets}: give 0 to {len(PROJECTS) + 1}")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="spendtray-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "app")}
    traffic = Traffic(seed=int(time.time()), random_ids=args.random_ids)
    noop: Single | None = None
    load_single = ""
    servers: list[subprocess.Popen[bytes]] = []
    try:
        load_before = f"{os.getloadavg()[0]:.1f}"
        speed_before = machine_speed()
        port = free_port()
        serve, token = start_serve(env, work / "serve", port)
        servers.append(serve)
        url = f"http://127.0.0.1:{port}"
        batched = [Batched("this code", url, token, work / "serve" / "spendtray.db", serve.pid)]
        if args.against is not None:
            other_port = free_port()
            other, other_token = start_serve(
                {**env, "PYTHONPATH": str(args.against.resolve())}, work / "against", other_port
            )
            servers.append(other)
            batched.append(
                Batched(
                    str(args.against),
                    f"http://127.0.0.1:{other_port}",
                    other_token,
                    work / "against" / "spendtray.db",
                    other.pid,
                )
            )
        singles = [
            Single(b.name, b.url, b.token, server.pid, b.db, args.single_times)
            for b, server in zip(batched, servers, strict=True)
        ]
        if args.only in (None, "single"):
            for s in singles:
                set_budgets(s.url, s.token, args.budgets)
            noop = single_rounds(
                env, singles, args.rounds, args.seconds, args.warmup, args.single_times
            )
            load_single = f"{os.getloadavg()[0]:.1f}"
        if args.only == "single":
            batched = []
        for b in batched:
            batch_rate(b.url, b.token, traffic, 1, 5)  # warm-up
        for i in range(args.runs):  # alternating, so both see the same machine
            for b in batched if i % 2 == 0 else batched[::-1]:
                b.run(traffic, 1, args.batches)
                b.run(traffic, 2, args.batches // 2)

        quiet = during = None
        imported = (0, 0)
        import_wall = 0.0
        if args.only is None and not args.skip_import:
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
        speed_after = machine_speed()
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"machine speed (fixed Python workload, lower is faster): {speed_before:.0f} ms before, "
        f"{speed_after:.0f} ms after"
    )
    if noop is not None:
        print(
            f"1. single-event POSTs, new event per request ({args.single_times} times), wrk 8 "
            f"connections, {args.rounds} "
            f"rounds of {args.seconds}s, {budgets_text(args.budgets)}, load average before: "
            f"{load_before}, after: {load_single}:"
        )
        for i, noop_rate in enumerate(noop.rates):
            shown = ", ".join(
                f"{s.name} {s.rates[i]:8.0f} req/s = {100 * s.rates[i] / noop_rate:.0f} %"
                for s in singles
            )
            print(f"  round {i + 1}: no-op uvicorn+starlette {noop_rate:8.0f} req/s, {shown}")
        print(
            f"  no-op server's CPU per POST: {spread(noop.cpu_us, '{:.0f}')} µs; p99 latency "
            f"{spread(noop.p99_ms, '{:.1f}')} ms"
        )
        for s in singles:
            ratios = [100 * r / b for r, b in zip(s.rates, noop.rates, strict=True)]
            print(
                f"  ratio, {s.name}: {spread(ratios, '{:.0f} %')} (target ≥ 60 %); server CPU "
                f"per POST {spread(s.cpu_us, '{:.0f}')} µs, {spread(s.cpu_folded_us, '{:.0f}')}"
                f" µs with the fold that followed (caught up in "
                f"{spread(s.catch_up, '{:.1f}')} s); p99 latency {spread(s.p99_ms, '{:.1f}')} ms"
            )
            print(
                f"    after each run: {spread(s.backlog)} events not folded yet; a summary (91 "
                f"days by project) then took {spread(s.summary_ms, '{:.1f}')} ms"
            )
        if len(singles) > 1:
            this, other = singles
            same_round = [a / b for a, b in zip(this.rates, other.rates, strict=True)]
            cpu = [a / b for a, b in zip(this.cpu_folded_us, other.cpu_folded_us, strict=True)]
            print(
                f"  this ÷ {other.name}, same round: req/s {spread(same_round, '{:.2f}')}, "
                f"CPU per POST with its fold {spread(cpu, '{:.2f}')}"
            )
    if not batched:
        return
    print(
        f"2. batch ingest, {BATCH:,}-event POSTs, {args.batches} per run, events/s "
        f"(load average before: {load_before}, after: {os.getloadavg()[0]:.1f}):"
    )
    for b in batched:
        if len(batched) > 1:
            print(f"  [{b.name}]")
        print(f"  one sender:          {spread(b.one)} (target ≥ 50,000)")
        print(f"  two senders, total:  {spread(b.two)} (target ≥ one sender)")
        ratio_two = [t / o for o, t in zip(b.one, b.two, strict=True)]
        print(f"  two / one, same run: {spread(ratio_two, '{:.2f}')}")
        print(
            f"  server CPU per event while sending: one sender {spread(b.cpu_one, '{:.1f}')} µs,"
            f" two senders {spread(b.cpu_two, '{:.1f}')} µs"
        )
        print(
            f"  after each run: {spread(b.backlog)} events not folded yet; a summary (91 days "
            f"by project) then took {spread(b.summary_ms, '{:.1f}')} ms, "
            f"{spread(b.at_rest_ms, '{:.1f}')} ms once folded; the fold caught up in "
            f"{spread(b.catch_up, '{:.2f}')} s"
        )
    if len(batched) > 1:
        this, other = batched
        print(
            f"  this ÷ {other.name}, same round: one sender "
            f"{spread([a / b for a, b in zip(this.one, other.one, strict=True)], '{:.2f}')}, "
            f"two senders "
            f"{spread([a / b for a, b in zip(this.two, other.two, strict=True)], '{:.2f}')}; "
            f"server CPU per event, one sender "
            f"{spread([a / b for a, b in zip(this.cpu_one, other.cpu_one, strict=True)], '{:.2f}')}"
        )
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
