"""Estimated 5-hour blocks from local Claude Code logs: where no official figure exists, how much
the current (and each past) 5-hour window holds. Pure; any thread.

The rule is the one ``ccusage blocks`` uses, so both tools draw the same blocks from the same
logs: calls are taken oldest first; a block starts at the hour (UTC) of the first call not in a
block and lasts five hours; the next call opens a new block when it falls after the block's end
or more than five hours after the previous call. A stretch of more than five hours without calls
is a gap. The block is ``active`` while ``now`` is before its end and within five hours of its
last call. Burn rate and projection are given for the active block only: tokens per minute and
cost per hour over the block's calls so far, projected at that rate to the block's end.

These are estimates: Anthropic's real window is not published, and use from other machines or
claude.ai does not reach these logs. They are labelled ``estimated`` and never mixed with an
official reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spendtray.limits.model import iso

BLOCK_MS = 5 * 60 * 60 * 1000
HOUR_MS = 60 * 60 * 1000

# (ts ms, uncached input, output, cache write, cache read, cost nanos, model)
UsageRow = tuple[int, int, int, int, int, int, str]


@dataclass
class Block:
    start_ms: int
    end_ms: int
    first_ms: int = 0
    last_ms: int = 0
    calls: int = 0
    input_tokens: int = 0  # uncached input (Anthropic's ``input_tokens``)
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_nanos: int = 0
    models: list[str] = field(default_factory=list)
    gap: bool = False
    active: bool = False

    @property
    def total_tokens(self) -> int:
        return sum(
            (self.input_tokens, self.output_tokens, self.cache_write_tokens, self.cache_read_tokens)
        )

    def add(self, row: UsageRow) -> None:
        ts, uncached, output, write, read, cost, model = row
        if self.calls == 0:
            self.first_ms = ts
        self.last_ms = ts
        self.calls += 1
        self.input_tokens += uncached
        self.output_tokens += output
        self.cache_write_tokens += write
        self.cache_read_tokens += read
        self.cost_nanos += cost
        if model not in self.models:
            self.models.append(model)

    def burn_rate(self, now_ms: int) -> tuple[float, float] | None:
        """(tokens per minute, USD per hour) over the block's calls so far; None when the block
        is not active or its calls span less than a minute."""
        if not self.active or self.calls < 2:
            return None
        minutes = (self.last_ms - self.first_ms) / 60_000
        if minutes <= 0:
            return None
        return self.total_tokens / minutes, self.cost_nanos / 1e9 / minutes * 60

    def projection(self, now_ms: int) -> dict[str, Any] | None:
        rate = self.burn_rate(now_ms)
        if rate is None:
            return None
        remaining = max(self.end_ms - now_ms, 0) / 60_000
        tokens_per_minute, usd_per_hour = rate
        return {
            "total_tokens": round(self.total_tokens + tokens_per_minute * remaining),
            "cost_usd": round(self.cost_nanos / 1e9 + usd_per_hour / 60 * remaining, 6),
            "remaining_minutes": round(remaining),
        }

    def to_json(self, now_ms: int) -> dict[str, Any]:
        rate = self.burn_rate(now_ms)
        return {
            "start": iso(self.start_ms),
            "end": iso(self.end_ms),
            "last_call": iso(self.last_ms) if self.calls else None,
            "gap": self.gap,
            "active": self.active,
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": round(self.cost_nanos / 1e9, 9),
            "models": list(self.models),
            "burn_rate": None
            if rate is None
            else {"tokens_per_minute": round(rate[0], 1), "cost_per_hour_usd": round(rate[1], 6)},
            "projection": self.projection(now_ms),
            "source": "estimated",
        }


def _hour_floor(ts_ms: int) -> int:
    return ts_ms - ts_ms % HOUR_MS


def blocks(rows: list[UsageRow], now_ms: int, gaps: bool = True) -> list[Block]:
    """The 5-hour blocks of ``rows`` (oldest first), with gap blocks between them when
    ``gaps``."""
    out: list[Block] = []
    current: Block | None = None
    for row in rows:
        ts = row[0]
        if current is not None and (
            ts - current.start_ms > BLOCK_MS or ts - current.last_ms > BLOCK_MS
        ):
            out.append(current)
            if gaps and ts - current.last_ms > BLOCK_MS:
                out.append(Block(current.last_ms + BLOCK_MS, ts, gap=True))
            current = None
        if current is None:
            start = _hour_floor(ts)
            current = Block(start, start + BLOCK_MS)
        current.add(row)
    if current is not None:
        out.append(current)
    for block in out:
        block.active = not block.gap and now_ms < block.end_ms and now_ms - block.last_ms < BLOCK_MS
    return out


def current_block(rows: list[UsageRow], now_ms: int) -> Block | None:
    """The active block of ``rows``, if any."""
    found = blocks(rows, now_ms, gaps=False)
    return found[-1] if found and found[-1].active else None
