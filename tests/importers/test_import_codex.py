"""Codex rollouts: deltas of running totals, re-emits, forks, model from turn_context."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from importkit import ccusage_cost, day_rows, events, token_mismatches, total_row
from logfactory import codex_meta, codex_tokens, codex_turn, write_lines
from logscenarios import CODEX_MALFORMED, CODEX_TOTALS, S1, write_codex

from spendtray.core import Core
from spendtray.importers import Importer


def test_fixture_totals_are_exact(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    write_codex(tmp_path / "codex")
    report = make_importer("codex", tmp_path / "codex").run()
    total = total_row(core, "codex")
    for name, want in CODEX_TOTALS.items():
        assert total[name] == want, name
    assert total["cache_write_tokens"] == 0
    # gpt-5 / gpt-5-codex at $1.25 in, $0.125 cached, $10 out per M:
    # (4,900 - 1,600) x 1.25 + 1,600 x 0.125 + 750 x 10 = 11,825 micro-dollars.
    assert total["cost_nanos"] == 11_825_000
    assert report.stats.malformed == CODEX_MALFORMED
    assert report.stats.skipped_repeats >= 1
    days = day_rows(core, "codex")
    assert days["2026-01-08"]["input_tokens"] == 400
    assert days["2026-01-09"]["input_tokens"] == 3000
    # Day 2: S1's last call and the fork's own call; the fork's replay of S1 adds nothing.
    assert days["2026-01-10"]["input_tokens"] == 500 + 1000
    assert days["2026-01-10"]["reasoning_tokens"] == 10
    assert {e["model"] for e in events(core, "codex")} == {"gpt-5-codex", "gpt-5"}
    assert {e["project"] for e in events(core, "codex")} == {"shop", "api"}
    assert all(e["agent"] == "codex" for e in events(core, "codex"))


def test_fork_without_its_parent_counts_the_history_once(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    files = write_codex(tmp_path / "codex", with_parent=False)
    make_importer("codex", files["f1"]).run()
    total = total_row(core, "codex")
    assert total["input_tokens"] == 4500
    assert total["cache_read_tokens"] == 1600
    assert total["output_tokens"] == 700
    assert total["calls"] == 4
    # ccusage 20.0.24 drops what a fork logs in its first second, which here is the copy of
    # the parent's history: right while the parent's file is there, but with it absent the
    # parent's three calls are lost. Spendtray counts them once, as the parent's.
    theirs = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    assert token_mismatches(day_rows(core, "codex"), theirs, codex=True) == {
        "2026-01-10": {  # ours, ccusage's: the difference is S1's 3500/1200/650/150
            "inputTokens": (2900, 2900 - (3500 - 1200)),
            "cacheReadTokens": (1600, 1600 - 1200),
            "outputTokens": (700, 700 - 650),
            "reasoningOutputTokens": (160, 160 - 150),
        }
    }
    # The parent's file showing up later changes nothing.
    write_codex(tmp_path / "codex", with_parent=True)
    make_importer("codex", tmp_path / "codex").run()
    assert total_row(core, "codex")["input_tokens"] == 4900
    # Each call is still counted once, but S1's first two calls stay on the fork's day: the
    # fork's copy (re-stamped, with no task_started.started_at to date it) was stored first,
    # and an equal copy does not replace a stored one. ccusage, reading both files afresh,
    # dates them by S1's own lines (as Spendtray does when both are there at the first import:
    # test_fixture_totals_are_exact).
    theirs = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    moved = token_mismatches(day_rows(core, "codex"), theirs, codex=True)
    assert set(moved) == {"2026-01-09", "2026-01-10"}
    assert moved["2026-01-09"]["inputTokens"] == (None, 3000 - 1200)
    assert sum(d["inputTokens"] + d["cacheReadTokens"] for d in theirs) == 4900


def test_running_state_survives_between_runs(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    log = tmp_path / "codex" / "sessions" / "2026/02/01" / "rollout-x.jsonl"
    write_lines(
        log,
        [
            codex_meta("2026-02-01T10:00:00.000Z", S1, "/home/dev/src/shop"),
            codex_turn("2026-02-01T10:00:01.000Z", "gpt-5-codex", "/home/dev/src/shop"),
            codex_tokens("2026-02-01T10:00:02.000Z", (1000, 0, 100, 0), (1000, 0, 100, 0)),
        ],
    )
    importer = make_importer("codex", tmp_path / "codex")
    importer.run()
    # The next run starts mid-file: model and running totals come from the stored context.
    write_lines(
        log,
        [codex_tokens("2026-02-01T10:01:00.000Z", (1800, 500, 160, 20), (800, 500, 60, 20))],
        mode="a",
    )
    report = importer.run()
    assert report.stored == 1
    newest = events(core, "codex")[0]
    assert newest["model"] == "gpt-5-codex"
    assert newest["project"] == "shop"
    assert (newest["input_tokens"], newest["cache_read_tokens"], newest["output_tokens"]) == (
        800,
        500,
        60,
    )
    assert newest["session"] == S1
    theirs = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    assert token_mismatches(day_rows(core, "codex"), theirs, codex=True) == {}
    assert abs(ccusage_cost(theirs[0]) - total_row(core, "codex")["cost_nanos"] / 1e9) < 1e-12


def test_usage_before_any_turn_context_is_unpriced_not_guessed(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    log = tmp_path / "codex" / "sessions" / "rollout-old.jsonl"
    write_lines(
        log,
        [
            codex_meta("2025-09-01T10:00:00.000Z", "old", "/w"),
            codex_tokens("2025-09-01T10:00:02.000Z", (100, 0, 10, 0), (100, 0, 10, 0)),
        ],
    )
    report = make_importer("codex", tmp_path / "codex").run()
    assert report.unpriced == 1
    (event,) = events(core, "codex")
    assert event["model"] == "unknown" and event["priced"] is False
    theirs = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    # Tokens agree; ccusage prices the unknown model as gpt-5 (isFallback).
    assert token_mismatches(day_rows(core, "codex"), theirs, codex=True) == {}


def test_fork_of_an_archived_session_keeps_the_parents_dates(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    files = write_codex(tmp_path / "codex")
    archived = tmp_path / "codex" / "archived_sessions" / files["s1"].name
    files["s1"].rename(archived)
    make_importer("codex", tmp_path / "codex").run()
    days = day_rows(core, "codex")
    assert days["2026-01-09"]["input_tokens"] == 3000  # not moved to the fork's day
    assert days["2026-01-10"]["input_tokens"] == 1500
    assert total_row(core, "codex")["input_tokens"] == CODEX_TOTALS["input_tokens"]
    theirs = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    print("ARCH", day_rows(core, "codex"), theirs)
    assert token_mismatches(day_rows(core, "codex"), theirs, codex=True) == {}
