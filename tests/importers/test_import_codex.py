"""Codex rollouts: deltas of running totals, re-emits, forks, model from turn_context."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from importkit import day_rows, events, total_row
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
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    files = write_codex(tmp_path / "codex", with_parent=False)
    make_importer("codex", files["f1"]).run()
    total = total_row(core, "codex")
    assert total["input_tokens"] == 4500
    assert total["cache_read_tokens"] == 1600
    assert total["output_tokens"] == 700
    assert total["calls"] == 4
    # The parent's file showing up later changes nothing.
    write_codex(tmp_path / "codex", with_parent=True)
    make_importer("codex", tmp_path / "codex").run()
    assert total_row(core, "codex")["input_tokens"] == 4900


def test_running_state_survives_between_runs(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
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


def test_usage_before_any_turn_context_is_unpriced_not_guessed(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
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


def test_fork_of_an_archived_session_keeps_the_parents_dates(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    files = write_codex(tmp_path / "codex")
    archived = tmp_path / "codex" / "archived_sessions" / files["s1"].name
    files["s1"].rename(archived)
    make_importer("codex", tmp_path / "codex").run()
    days = day_rows(core, "codex")
    assert days["2026-01-09"]["input_tokens"] == 3000  # not moved to the fork's day
    assert days["2026-01-10"]["input_tokens"] == 1500
    assert total_row(core, "codex")["input_tokens"] == CODEX_TOTALS["input_tokens"]
