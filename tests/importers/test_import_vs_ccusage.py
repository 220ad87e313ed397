"""The same logs through ccusage (pinned, --offline) and through Spendtray: per-day tokens equal,
costs within a cent-fraction, and the one known difference explained.

ccusage reports Anthropic-style ``inputTokens`` (without cache tokens); Spendtray's canonical
input includes them, so uncached input = input - cache reads - cache writes. Prices: ccusage
uses its embedded LiteLLM snapshot, Spendtray genai-prices; for these models both list the same
rates, so the only cost differences are ccusage's float sums (< 1e-6 USD per day here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from importkit import day_rows
from loggen import generate_claude
from logscenarios import write_claude, write_codex

from spendtray.core import Core
from spendtray.importers import Importer


def _compare(ours: dict[str, dict[str, int]], theirs: list[dict[str, Any]]) -> dict[str, Any]:
    diffs: dict[str, Any] = {}
    assert {d["period"] for d in theirs} == set(ours)
    for day in theirs:
        mine = ours[day["period"]]
        uncached = mine["input_tokens"] - mine["cache_read_tokens"] - mine["cache_write_tokens"]
        diff = {
            "input": day["inputTokens"] - uncached,
            "output": day["outputTokens"] - mine["output_tokens"],
            "cache_write": day["cacheCreationTokens"] - mine["cache_write_tokens"],
            "cache_read": day["cacheReadTokens"] - mine["cache_read_tokens"],
            "cost_usd": day["totalCost"] - mine["cost_nanos"] / 1e9,
        }
        diffs[day["period"]] = diff
    return diffs


def test_generated_logs_match_ccusage(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    generated = generate_claude(tmp_path / "claude", 6_000_000, seed=11)
    assert generated.usage_lines > generated.messages  # snapshots and replays are in there
    make_importer("claude-code", tmp_path / "claude").run()
    theirs = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})["daily"]
    diffs = _compare(day_rows(core, "claude-code"), theirs)
    for day, diff in diffs.items():
        assert diff["input"] == diff["output"] == 0, day
        assert diff["cache_write"] == diff["cache_read"] == 0, day
        assert abs(diff["cost_usd"]) < 1e-6, (day, diff)


def test_fixture_differs_from_ccusage_only_where_ccusage_double_counts(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    write_claude(tmp_path / "claude")
    make_importer("claude-code", tmp_path / "claude").run()
    theirs = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})["daily"]
    diffs = _compare(day_rows(core, "claude-code"), theirs)
    # msg_a3 has no request id and two streaming snapshots (10 in / 30 out, then 10 / 80):
    # ccusage cannot pair copies without a request id (its issue #976) and adds both;
    # Spendtray falls back to the message id and keeps the bigger copy.
    assert diffs["2026-01-09"]["input"] == 10
    assert diffs["2026-01-09"]["output"] == 30
    assert abs(diffs["2026-01-09"]["cost_usd"] - (10 * 3 + 30 * 15) / 1e6) < 1e-9
    assert diffs["2026-01-09"]["cache_write"] == diffs["2026-01-09"]["cache_read"] == 0
    assert diffs["2026-01-10"] == {
        "input": 0,
        "output": 0,
        "cache_write": 0,
        "cache_read": 0,
        "cost_usd": diffs["2026-01-10"]["cost_usd"],
    }
    assert abs(diffs["2026-01-10"]["cost_usd"]) < 1e-9


def test_codex_fixture_matches_ccusage(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    write_codex(tmp_path / "codex")
    make_importer("codex", tmp_path / "codex").run()
    theirs = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    ours = day_rows(core, "codex")
    assert {d["date"] for d in theirs} == set(ours)
    for day in theirs:
        mine = ours[day["date"]]
        # ccusage's Codex inputTokens are the uncached part.
        assert day["inputTokens"] == mine["input_tokens"] - mine["cache_read_tokens"]
        assert day["cacheReadTokens"] == mine["cache_read_tokens"]
        assert day["outputTokens"] == mine["output_tokens"]
        assert day["reasoningOutputTokens"] == mine["reasoning_tokens"]
        assert abs(day["costUSD"] - mine["cost_nanos"] / 1e9) < 1e-9
