"""What `spendtray limits` and ``/v1/limits`` show from the store: the newest official reading
per window, and the five-hour block estimated from Claude Code's logs. Any thread, on the
caller's read connection.

Apart from ``limits.service`` (the running app's recording and alerts), so that the
``limits`` command imports only this, the block rules and the store's queries: it is a quick
command (``cli.main.QUICK_COMMANDS``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from spendtray.limits.blocks import BLOCK_MS, Block, blocks, current_block
from spendtray.store import limits as store

ESTIMATE_SOURCE = "claude-code"
# How far back the active-block estimate reads: enough to find the gap that opened its chain.
ESTIMATE_LOOKBACK_MS = 48 * 60 * 60 * 1000


def active_estimate(conn: sqlite3.Connection, now_ms: int) -> Block | None:
    rows = store.block_usage_rows(conn, ESTIMATE_SOURCE, now_ms - ESTIMATE_LOOKBACK_MS)
    return current_block(rows, now_ms)


def estimated_blocks(
    conn: sqlite3.Connection, since_ms: int, until_ms: int | None, now_ms: int
) -> list[Block]:
    return blocks(store.block_usage_rows(conn, ESTIMATE_SOURCE, since_ms, until_ms), now_ms)


def limits_report(conn: sqlite3.Connection, now_ms: int) -> dict[str, Any]:
    """Official readings first (newest per window), then the estimated block, labelled."""
    rows = [obs.to_json(now_ms) for obs in store.latest_observations(conn)]
    block = active_estimate(conn, now_ms)
    if block is not None:
        rows.append(estimate_json(block, now_ms))
    return {"limits": rows}


def estimate_json(block: Block, now_ms: int) -> dict[str, Any]:
    """The active block as a ``/v1/limits`` row: ``source: estimated``, ``used_percent`` null
    (the window's size is not published), and the block's own figures under ``block``."""
    from spendtray.limits.model import iso

    return {
        "provider": "anthropic",
        "account": "claude-code logs",
        "window": "five_hour",
        "window_minutes": BLOCK_MS // 60_000,
        "used_percent": None,
        "resets_at": iso(block.end_ms),
        "observed_at": iso(block.last_ms),
        "source": "estimated",
        "stale": False,
        "origin": "logs",
        "block": block.to_json(now_ms),
    }
