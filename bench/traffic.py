"""What real senders post, for the ingest and summary benchmarks (bench/ingest.py, summary.py).

Every event has its own ``request_id``; timestamps spread over the last 90 days, a share of
them arriving late for old days; 20 projects × 5 agents × 6 models of 3 providers; cache reads;
about half the events carry the provider's raw usage object (OpenAI, Anthropic or Gemini
shape) instead of canonical token fields. Also scales the real Claude Code logs in
``../shared/corpora/claude_code`` to a given size, with unique ids per copy.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "claude_code"
# The folders of real (not hand-written) Claude Code logs, per corpora/SOURCES.md.
REAL_LOG_FOLDERS = ("sniffly", "claude-code-viewer", "claude-code-log/real_projects")

PROJECTS = [f"project-{i:02d}" for i in range(20)]
AGENTS = ["coder", "reviewer", "planner", "tester", "docs"]
MODELS = {  # model -> provider
    "gpt-4o": "openai",
    "gpt-4o-mini": "openai",
    "claude-sonnet-4-5": "anthropic",
    "claude-haiku-4-5": "anthropic",
    "gemini-2.5-pro": "google",
    "gemini-2.5-flash": "google",
}
DAYS = 90
LATE_SHARE = 0.05  # events arriving late, for days 60–90 ago


def _raw_usage(provider: str, inp: int, cached: int, out: int, reasoning: int) -> dict[str, Any]:
    if provider == "openai":
        return {
            "prompt_tokens": inp,
            "completion_tokens": out,
            "total_tokens": inp + out,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }
    if provider == "anthropic":
        return {
            "input_tokens": inp - cached,
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": 0,
            "output_tokens": out,
        }
    return {
        "promptTokenCount": inp,
        "cachedContentTokenCount": cached,
        "candidatesTokenCount": out - reasoning,
        "thoughtsTokenCount": reasoning,
        "totalTokenCount": inp + out,
    }


class Traffic:
    """An endless supply of distinct events; ``seed`` makes a run repeatable."""

    def __init__(
        self, seed: int = 1, now: dt.datetime | None = None, random_ids: bool = False
    ) -> None:
        """``random_ids``: request ids random like providers' (``chatcmpl-…``, ``msg_…``)
        instead of a prefix and a counter, which sort in arrival order and so only ever append
        to the database's unique index (bench/insert.py: a random id costs the writer about a
        third more)."""
        self.rng = random.Random(seed)
        self.random_ids = random_ids
        self.now = (now or dt.datetime.now(dt.UTC)).timestamp()
        self.prefix = uuid.UUID(int=self.rng.getrandbits(128)).hex[:12]
        self.count = 0

    def event(self) -> dict[str, Any]:
        rng = self.rng
        self.count += 1
        model = rng.choice(list(MODELS))
        provider = MODELS[model]
        if rng.random() < LATE_SHARE:
            age = rng.uniform(60, DAYS) * 86400
        else:
            age = rng.expovariate(1 / (20 * 86400)) % (DAYS * 86400)
        inp = rng.randint(200, 60_000)
        cached = rng.randint(0, inp * 3 // 4) if rng.random() < 0.6 else 0
        out = rng.randint(20, 4_000)
        reasoning = rng.randint(0, out // 2) if provider != "anthropic" else 0
        event: dict[str, Any] = {
            "request_id": (
                f"chatcmpl-{rng.getrandbits(128):032x}"
                if self.random_ids
                else f"{self.prefix}-{self.count}"
            ),
            "timestamp": dt.datetime.fromtimestamp(self.now - age, dt.UTC).isoformat(),
            "project": rng.choice(PROJECTS),
            "agent": rng.choice(AGENTS),
            "model": model,
            "provider": provider,
            "session": f"s-{rng.randint(1, 400)}",
            "latency_ms": rng.randint(200, 30_000),
        }
        if rng.random() < 0.5:
            event["usage"] = _raw_usage(provider, inp, cached, out, reasoning)
        else:
            event["input_tokens"] = inp
            event["output_tokens"] = out
            if cached:
                event["cache_read_tokens"] = cached
            if reasoning:
                event["reasoning_tokens"] = reasoning
        return event

    def batch(self, n: int) -> list[dict[str, Any]]:
        return [self.event() for _ in range(n)]

    def bodies(self, n_batches: int, size: int) -> Iterator[bytes]:
        for _ in range(n_batches):
            yield json.dumps(self.batch(size)).encode()


_IDS = re.compile(rb'("(?:requestId|id|uuid|parentUuid|sessionId)"\s*:\s*")')


def real_log_files() -> list[Path]:
    files: list[Path] = []
    for folder in REAL_LOG_FOLDERS:
        files.extend(sorted((CORPUS / folder).rglob("*.jsonl")))
    if not files:
        raise SystemExit(f"no Claude Code logs under {CORPUS}")
    return files


def scale_claude_logs(target: Path, size_bytes: int) -> tuple[int, int]:
    """Copies of the real Claude Code logs under ``target/projects`` until ``size_bytes``;
    each copy's message, request and session ids get a prefix of their own, so every copy is
    new usage to an importer. Returns (files, bytes) written."""
    sources = [(path, path.read_bytes()) for path in real_log_files()]
    written = files = copy = 0
    while written < size_bytes:
        copy += 1
        for path, data in sources:
            scaled = _IDS.sub(rb"\g<1>c%d-" % copy, data)
            out = target / "projects" / f"copy-{copy:04d}-{path.parent.name}" / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(scaled)
            written += len(scaled)
            files += 1
            if written >= size_bytes:
                break
    return files, written
