"""Proxy benchmark (issue 6). Prints figures; asserts nothing.

Three processes, like real use: the fake OpenAI upstream (tests/proxy/fake_llm_upstream.py),
`spendtray serve` configured to forward to it, and this client (httpx, keep-alive).

1. Latency the proxy adds to a non-streamed chat completion: the same request sent directly
   to the upstream and through the proxy, interleaved; p50 / p99 of each and of the difference.
   Once for a project without budgets and once for a project with a hard budget: there every
   call's worst case is worked out (tokenizer count of the request, output cap, price), reserved
   against the budget before forwarding and released once its cost is stored (SPEC §13).
   Then both again with what a coding agent sends each turn: ~5,600 tokens of conversation
   so far plus one new message, with max_tokens — counting the input to reserve costs most here
   (the history's count is remembered by digest; the new message is counted).
2. Streams (upstream pauses ``--gap`` ms between SSE frames): time to first byte and to the
   last byte, direct vs through the proxy.
3. Every proxied call was recorded: the count of stored proxy events.

Usage: python bench/proxy.py [--calls 2000] [--streams 300] [--gap 5]
Main thread; the two servers are child processes.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
Body = dict[str, Any]
BODY: Body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
# A coding agent's typical turn: ~5,000 tokens of context (the reservation counts them).
CONTEXT = " ".join(
    f"def handler_{i}(request): return respond(request, status={i})" for i in range(400)
)
LARGE: Body = {
    "model": "gpt-4o-mini",
    "max_tokens": 1024,
    "messages": [
        {"role": "system", "content": "You are a careful coding agent."},
        {"role": "user", "content": CONTEXT},
    ],
}


def start(cmd: list[str], env: dict[str, str], pattern: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stream = proc.stdout if "fake" in cmd[1] else proc.stderr
    assert stream is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = stream.readline()
        match = re.search(pattern, line)
        if match:
            return proc, match.group(0)
    proc.kill()
    raise RuntimeError(f"{cmd} did not start")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.3f} ms"


def timed_post(client: httpx.Client, url: str, body: Body = BODY) -> float:
    t0 = time.perf_counter()
    r = client.post(url, json=body)
    r.read()
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    return elapsed


def agent_turn(i: int) -> Body:
    """LARGE plus a new message: an agent re-sends its conversation with one more turn."""
    turn = {"role": "user", "content": f"Turn {i}: now fix handler_{i % 400} and rerun the tests."}
    return {**LARGE, "messages": [*LARGE["messages"], turn]}


def latency(
    client: httpx.Client,
    direct: str,
    proxied: str,
    calls: int,
    make: Callable[[int], Body] = lambda i: BODY,
) -> None:
    for i in range(200):  # warm up connections, caches, price look-ups
        timed_post(client, direct, make(-i))
        timed_post(client, proxied, make(-i))
    d: list[float] = []
    p: list[float] = []
    for i in range(calls):
        body = make(i)
        d.append(timed_post(client, direct, body))
        p.append(timed_post(client, proxied, body))
    added = [b - a for a, b in zip(d, p, strict=True)]
    print(f"    direct   p50 {ms(pct(d, 0.5))}   p99 {ms(pct(d, 0.99))}")
    print(f"    proxied  p50 {ms(pct(p, 0.5))}   p99 {ms(pct(p, 0.99))}")
    print(
        f"    added    p50 {ms(pct(p, 0.5) - pct(d, 0.5))}   p99 {ms(pct(p, 0.99) - pct(d, 0.99))}"
        f"   (median of per-pair differences {ms(statistics.median(added))})"
    )


def stream_times(client: httpx.Client, url: str) -> tuple[float, float]:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    with client.stream("POST", url, json=body) as r:
        chunks = r.iter_raw()
        next(chunks)
        first = time.perf_counter() - t0
        for _ in chunks:
            pass
    return first, time.perf_counter() - t0


def streams(client: httpx.Client, direct: str, proxied: str, n: int) -> None:
    for _ in range(20):
        stream_times(client, direct)
        stream_times(client, proxied)
    d = [stream_times(client, direct) for _ in range(n)]
    p = [stream_times(client, proxied) for _ in range(n)]
    for label, rows in (("direct ", d), ("proxied", p)):
        first = [r[0] for r in rows]
        last = [r[1] for r in rows]
        print(
            f"    {label}  first byte p50 {ms(pct(first, 0.5))} p99 {ms(pct(first, 0.99))}"
            f"   last byte p50 {ms(pct(last, 0.5))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--gap", type=float, default=5.0, help="ms between stream frames")
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT / "app")}
    fake, fake_url = start(
        [sys.executable, str(ROOT / "tests/proxy/fake_llm_upstream.py"), str(args.gap / 1000)],
        env,
        r"http://127\.0\.0\.1:\d+",
    )
    home = Path(tempfile.mkdtemp(prefix="spendtray-bench-proxy-"))
    (home / "config.toml").write_text(f'[upstreams]\nopenai = "{fake_url}"\n', encoding="utf-8")
    serve, base = start(
        [sys.executable, "-m", "spendtray", "serve", "--port", "0"],
        {**env, "SPENDTRAY_HOME": str(home)},
        r"http://127\.0\.0\.1:\d+",
    )
    token = (home / "token").read_text().strip()
    try:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as admin:
            admin.put(
                f"{base}/v1/budgets/capped",
                json={"period": "month", "limit_usd": 1_000_000, "mode": "hard"},
            ).raise_for_status()
        direct = f"{fake_url}/v1/chat/completions"
        print(f"Proxy benchmark: {args.calls} interleaved calls per case; upstream {fake_url}")
        with httpx.Client(timeout=30) as client:
            print("1a. non-streamed chat completion, project without budgets")
            latency(client, direct, f"{base}/p/bench/openai/v1/chat/completions", args.calls)
            print("1b. same, project with a hard budget (reserve + settle on every call)")
            latency(client, direct, f"{base}/p/capped/openai/v1/chat/completions", args.calls)
            large = max(args.calls // 4, 50)
            print(f"1c. an agent's turn: ~5.6k tokens of history + a new message ({large} calls)")
            latency(client, direct, f"{base}/p/bench/openai/v1/chat/completions", large, agent_turn)
            print("1d. same, project with a hard budget (the turn's tokens counted to reserve)")
            latency(
                client, direct, f"{base}/p/capped/openai/v1/chat/completions", large, agent_turn
            )
            print(f"2. SSE stream of 9 frames, {args.gap:g} ms apart, {args.streams} each")
            streams(client, direct, f"{base}/p/bench/openai/v1/chat/completions", args.streams)
        expected = 2 * (args.calls + 200) + 2 * (large + 200) + args.streams + 20
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as admin:
            deadline = time.monotonic() + 10
            while True:
                total = admin.get(f"{base}/v1/summary", params={"source": "proxy"}).json()
                calls = total["total"]["calls"]
                if calls >= expected or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        print(f"3. proxy events stored: {calls} of {expected} proxied calls")
    finally:
        serve.terminate()
        fake.terminate()
        serve.wait(30)
        fake.wait(30)


if __name__ == "__main__":
    main()
