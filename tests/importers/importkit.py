"""Helpers for importer tests: totals and events read back through the real Reader."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from spendtray.core import Core
from spendtray.store.reader import Filters

UTC = ZoneInfo("UTC")


def day_rows(core: Core, source: str, zone: str = "UTC") -> dict[str, dict[str, int]]:
    summary = core.reader.summary("day", Filters(source=source), ZoneInfo(zone))
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


# ccusage's per-day columns, in its own terms, from one of our day rows. ccusage's Claude Code
# ``inputTokens`` leave out cache reads and writes (Anthropic's usage); its Codex ones leave out
# cached input (``cacheReadTokens``), and Codex has no cache writes.
def as_ccusage_claude(day: dict[str, int]) -> dict[str, int]:
    return {
        "inputTokens": day["input_tokens"] - day["cache_read_tokens"] - day["cache_write_tokens"],
        "outputTokens": day["output_tokens"],
        "cacheCreationTokens": day["cache_write_tokens"],
        "cacheReadTokens": day["cache_read_tokens"],
    }


def as_ccusage_codex(day: dict[str, int]) -> dict[str, int]:
    return {
        "inputTokens": day["input_tokens"] - day["cache_read_tokens"],
        "outputTokens": day["output_tokens"],
        "cacheReadTokens": day["cache_read_tokens"],
        "reasoningOutputTokens": day["reasoning_tokens"],
    }


def token_mismatches(
    ours: dict[str, dict[str, int]], theirs: list[dict[str, Any]], codex: bool = False
) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    """Day -> column -> (ours, ccusage's) for every token column that differs, over the days
    either side has; an empty dict is per-day agreement on tokens."""
    view = as_ccusage_codex if codex else as_ccusage_claude
    by_day = {d.get("date") or d["period"]: d for d in theirs}
    out: dict[str, dict[str, tuple[int | None, int | None]]] = {}
    for day in sorted(set(ours) | set(by_day)):
        mine = view(ours[day]) if day in ours else {}
        their = by_day.get(day, {})
        for column in view(_ZERO_DAY):
            if mine.get(column) != their.get(column):
                out.setdefault(day, {})[column] = (mine.get(column), their.get(column))
    return out


def ccusage_cost(day: dict[str, Any]) -> float:
    """A ccusage day's cost: ``totalCost`` (Claude Code) or ``costUSD`` (Codex)."""
    return float(day["totalCost"] if "totalCost" in day else day["costUSD"])


_ZERO_DAY = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "reasoning_tokens": 0,
}
