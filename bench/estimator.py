"""Bench: count and price a 1 MB prompt on 8 models (target ≤ 0.5 s once encodings are loaded).

Run from the repo root: ``.venv/bin/python bench/estimator.py``. Main thread
only (the estimator spreads tokenization over its own worker threads). Prints figures, asserts
nothing. The prompt is real text: the Python standard library's sources, cut to 1 MB.
"""

from __future__ import annotations

import os
import statistics
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "app"))

from spendtray.estimator import tokenizers
from spendtray.estimator.estimate import estimate
from spendtray.prices.book import PriceBook

MODELS = [
    "gpt-4o",
    "gpt-4.1-mini",
    "gpt-5",
    "o3",
    "gpt-4-turbo",
    "claude-sonnet-4-5",
    "gemini-2.5-pro",
    "deepseek-chat",
]
SIZE = 1_000_000
RUNS = 5


def one_megabyte() -> str:
    parts: list[str] = []
    size = 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        parts.append(text)
        size += len(text.encode("utf-8"))
        if size >= SIZE:
            break
    return "".join(parts).encode("utf-8")[:SIZE].decode("utf-8", errors="ignore")


def main() -> None:
    text = one_megabyte()
    print(f"prompt: {len(text.encode('utf-8')):,} bytes, {len(text):,} chars")
    print(f"cpus: {os.cpu_count()}")

    started = time.perf_counter()
    book = PriceBook.load()
    print(f"price book load: {time.perf_counter() - started:.3f} s")

    for name in tokenizers.ENCODING_NAMES:
        started = time.perf_counter()
        tokenizers.get_encoding(name)
        print(f"load {name}: {time.perf_counter() - started:.3f} s")

    for name in tokenizers.ENCODING_NAMES:
        encoding = tokenizers.get_encoding(name)
        started = time.perf_counter()
        single = len(encoding.encode_ordinary(text))
        one_thread = time.perf_counter() - started
        started = time.perf_counter()
        chunked = tokenizers.count_text(text, name)
        threaded = time.perf_counter() - started
        print(
            f"count {name}: {single:,} tokens; one thread {one_thread:.3f} s, "
            f"chunked {threaded:.3f} s (same count: {single == chunked})"
        )

    timings: list[float] = []
    results = []
    for _ in range(RUNS):
        started = time.perf_counter()
        results = estimate(
            text, MODELS, 1_000, book=book, calls_per_day=100, cached_prefix_tokens=10_000
        )
        timings.append(time.perf_counter() - started)
    print(
        f"estimate 1 MB × {len(MODELS)} models: median {statistics.median(timings):.3f} s, "
        f"best {min(timings):.3f} s, worst {max(timings):.3f} s over {RUNS} runs"
    )
    for result in results:
        nanos = result.total_cost_nanos
        total = "n/a" if nanos is None else f"${nanos / 1e9:.4f}"
        print(
            f"  {result.model:<20} {result.input_tokens:>9,} tok  {total:>9}  "
            f"{'exact' if result.exact else result.method}"
        )


if __name__ == "__main__":
    main()
