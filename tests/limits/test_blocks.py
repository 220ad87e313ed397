"""Estimated 5-hour blocks: the block rule, the active block's burn rate and projection, and how
`/v1/limits` and `/v1/limits/blocks` show them (labelled estimated, apart from official figures).
The comparison with ccusage on real logs is tests/importers/test_blocks_vs_ccusage.py."""

from __future__ import annotations

import datetime as dt

from limitskit import LimitsApp

from spendtray.ingest.event import UsageEvent
from spendtray.limits.blocks import BLOCK_MS, blocks, current_block
from spendtray.prices.calc import TokenCounts

H = 3600 * 1000
M = 60 * 1000
T0 = 1_800_000_000_000 - 1_800_000_000_000 % H  # on the hour


def row(ts: int, tokens: int = 100, cost: int = 1000) -> tuple[int, int, int, int, int, int, str]:
    return (ts, tokens, 10, 0, 0, cost, "claude-sonnet-4-5")


def test_block_rule_hour_floor_five_hours_and_gaps() -> None:
    rows = [
        row(T0 + 17 * M),  # opens a block at T0
        row(T0 + 4 * H + 50 * M),  # inside it
        row(T0 + 5 * H + 10 * M),  # after its end: a new block at T0 + 5 h
        row(T0 + 16 * H + 5 * M),  # more than 5 h after the previous call: gap, new block
    ]
    found = blocks(rows, now_ms=T0 + 100 * H)
    assert [(b.start_ms - T0, b.end_ms - T0, b.gap, b.calls) for b in found] == [
        (0, 5 * H, False, 2),
        (5 * H, 10 * H, False, 1),
        (5 * H + 10 * M + 5 * H, 16 * H + 5 * M, True, 0),  # from last call + 5 h to the next
        (16 * H, 21 * H, False, 1),
    ]
    assert not any(b.active for b in found)
    assert found[0].total_tokens == 220 and found[0].cost_nanos == 2000


def test_active_block_burn_rate_and_projection() -> None:
    rows = [row(T0 + 10 * M, 1000, 10_000_000), row(T0 + 70 * M, 2000, 20_000_000)]
    now = T0 + 2 * H
    block = current_block(rows, now)
    assert block is not None and block.active
    data = block.to_json(now)
    # 3,020 tokens and $0.03 over the 60 minutes between the first and the last call
    assert data["burn_rate"] == {"tokens_per_minute": 50.3, "cost_per_hour_usd": 0.03}
    # three hours left at that rate
    assert data["projection"] == {
        "total_tokens": round(3020 + 3020 / 60 * 180),
        "cost_usd": 0.12,
        "remaining_minutes": 180,
    }
    assert data["source"] == "estimated"
    assert current_block(rows, T0 + 5 * H) is None  # the block ended
    assert current_block(rows, T0 + 70 * M + BLOCK_MS + 1) is None


def test_limits_lists_the_active_block_as_estimated(limits_app: LimitsApp) -> None:
    app = limits_app
    now = app.clock.now
    events = [
        UsageEvent(
            model="claude-sonnet-4-5",
            provider="anthropic",
            counts=TokenCounts(input_tokens=1000, output_tokens=100, cache_read_tokens=400),
            timestamp=now - dt.timedelta(minutes=minutes),
            source="claude-code",
            request_id=f"blk-{minutes}",
        )
        for minutes in (50, 20)
    ]
    assert app.core.ingest.ingest_events(events).accepted == 2
    app.http.post(
        "/v1/limits",
        json={"provider": "anthropic", "window": "five_hour", "used_percent": 30},
    )
    rows = app.http.get("/v1/limits").json()["limits"]
    official, estimated = rows
    assert official["source"] == "official" and official["used_percent"] == 30
    assert estimated["source"] == "estimated" and estimated["used_percent"] is None
    assert estimated["window"] == "five_hour" and estimated["origin"] == "logs"
    block = estimated["block"]
    assert block["start"] == "2026-11-18T11:00:00Z" and block["end"] == "2026-11-18T16:00:00Z"
    assert estimated["resets_at"] == block["end"]
    assert (block["calls"], block["input_tokens"], block["cache_read_tokens"]) == (2, 1200, 800)
    assert block["cost_usd"] > 0 and block["burn_rate"] is not None
    listed = app.http.get("/v1/limits/blocks", params={"since": "7d"}).json()["blocks"]
    assert [b["start"] for b in listed] == ["2026-11-18T11:00:00Z"]
    assert app.http.get("/v1/limits/blocks", params={"since": "whenever"}).status_code == 400
