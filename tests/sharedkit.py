"""Helpers for tests in more than one folder (tests/ is on sys.path: the root conftest is here).

- What both fake LLM upstreams say on the wire: model ids, usage blocks, SSE framing. The two
  servers stay apart: tests/client/client_upstream.py records the exact bytes it sends and can
  gzip or hold back a stream; tests/proxy/fake_llm_upstream.py takes queued replies, echoes, and
  runs as the proxy bench's upstream process.
- The price file of ``unit-model`` (provider ``testco``): one token costs exactly $0.000001.
- `python -m spendtray` as a child process, and waiting until it answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx

from spendtray.prices.calc import CompiledPrice, PricingError, TokenCounts

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"
CHAT_USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 85,
    "total_tokens": 1285,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 20, "audio_tokens": 0},
}
ANTHROPIC_START_USAGE = {
    "input_tokens": 2000,
    "cache_creation_input_tokens": 2000,
    "cache_read_input_tokens": 6000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 1000},
    "output_tokens": 1,
    "service_tier": "standard",
}
ANTHROPIC_FINAL_OUTPUT = 500


def sse(events: list[tuple[str | None, Any]]) -> list[bytes]:
    """One SSE frame per (event name, payload); payload "[DONE]" is sent as is."""
    frames = []
    for name, payload in events:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        head = f"event: {name}\n" if name else ""
        frames.append(f"{head}data: {data}\n\n".encode())
    return frames


UNIT_PRICES = """
[[model]]
provider = "testco"
models = ["unit-model"]
id = "unit-model"
input_mtok = 1
output_mtok = 1
checked = 2026-11-22
source = "tests: $1 per million tokens"
"""


def spawn_spendtray(*args: str, env: Mapping[str, str], **popen: Any) -> subprocess.Popen[str]:
    """`python -m spendtray ARGS` as a child, its stderr (where it prints its URL) a text pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "spendtray", *args],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_healthy(url: str, timeout: float = 20) -> None:
    """Returns once ``url``/healthz answers 200; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer /healthz in {timeout} s"
        time.sleep(0.05)


def reference_cost(compiled: CompiledPrice, counts: TokenCounts) -> int:
    """The costing before the plan: every step, counts read through engine_usage()."""
    usage = counts.engine_usage()
    denominator, rates = compiled._exact_rates()
    leaves: list[int] = []
    total = 0
    for step, (_, options) in zip(compiled.steps, rates, strict=True):
        if step.per_request:
            leaf = 1
        else:
            reported = usage.get(step.usage_key, 0)
            leaf = reported
            for j in step.descendants:
                leaf -= leaves[j]
            if leaf < 0:
                raise PricingError(
                    f"usage for {step.usage_key} ({reported}) is smaller than its parts"
                )
        leaves.append(leaf)
        if leaf == 0:
            continue
        rate = options[0][1]
        for start, numerator in reversed(options[1:]):
            if counts.input_tokens > start:
                rate = numerator
                break
        total += leaf * rate
    quotient, remainder = divmod(total, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient
