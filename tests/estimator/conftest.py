"""Shared fixtures for the estimator tests: the real price book and real text from disk."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from spendtray.prices.book import PriceBook


@pytest.fixture(scope="session")
def book() -> PriceBook:
    """The shipped price data (genai-prices + pricing/*.toml), no user overrides."""
    return PriceBook.load()


@pytest.fixture(scope="session")
def stdlib_text() -> str:
    """About 1 MB of real text: the Python standard library's own sources (code + prose)."""
    parts: list[str] = []
    size = 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        parts.append(text)
        size += len(text)
        if size >= 1_000_000:
            break
    return "".join(parts)[:1_000_000]
