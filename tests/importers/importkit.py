"""Helpers for importer tests: totals and events read back through the real Reader."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from spendtray.core import Core
from spendtray.store.reader import Filters

UTC = ZoneInfo("UTC")


def day_rows(core: Core, source: str) -> dict[str, dict[str, int]]:
    summary = core.reader.summary("day", Filters(source=source), UTC)
    return {
        row.key: {
            "calls": row.calls,
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
            "cache_read_tokens": row.cache_read_tokens,
            "cache_write_tokens": row.cache_write_tokens,
            "reasoning_tokens": row.reasoning_tokens,
            "cost_nanos": row.cost_nanos,
        }
        for row in summary.rows
        if row.calls
    }


def total_row(core: Core, source: str) -> dict[str, int]:
    total = core.reader.summary("source", Filters(source=source), UTC).total
    return {
        "calls": total.calls,
        "input_tokens": total.input_tokens,
        "output_tokens": total.output_tokens,
        "cache_read_tokens": total.cache_read_tokens,
        "cache_write_tokens": total.cache_write_tokens,
        "reasoning_tokens": total.reasoning_tokens,
        "cost_nanos": total.cost_nanos,
    }


def events(core: Core, source: str) -> list[dict[str, Any]]:
    rows, _ = core.reader.events(Filters(source=source), limit=1000)
    return rows
