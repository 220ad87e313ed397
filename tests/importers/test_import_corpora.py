"""The real logs in ../shared/corpora (SOURCES.md) through Spendtray and through ccusage 20.0.24:
per-day tokens equal, costs equal where both price the same way, and every day where the two
disagree on purpose named here (and in the README). Also one test per correctness rule that
peers get wrong, on the real files where a real file shows it.

The corpora are read in place or copied into ``tmp_path`` (laid out as in a user's home);
nothing from them enters the repository.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from importkit import ccusage_cost, day_rows, events, token_mismatches, total_row
from logfactory import cc_assistant, cc_usage, codex_meta, codex_tokens, codex_turn, write_lines

from spendtray.core import Core
from spendtray.importers import Importer

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
CLAUDE = CORPORA / "claude_code"
CODEX = CORPORA / "codex"
RUST_FIXTURES = CODEX / "ccusage-rust-fixtures"

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora is not here")


def _claude_home(tmp_path: Path) -> Path:
    """Every Claude Code corpus file under one ``projects/`` folder, one project per source."""
    projects = tmp_path / "claude" / "projects"
    for folder in (CLAUDE / "claude-code-log" / "real_projects").iterdir():
        shutil.copytree(folder, projects / folder.name)
    shutil.copytree(CLAUDE / "ccusage" / "projects", projects, dirs_exist_ok=True)
    for name in ("claude-code-viewer", "sniffly", "toktrack"):
        shutil.copytree(CLAUDE / name, projects / f"-corpus-{name}")
    shutil.copytree(CLAUDE / "agent-sessions" / "subagent", projects / "-corpus-agent-sessions")
    for name in ("small.jsonl", "schema_drift.jsonl"):
        shutil.copy(CLAUDE / "agent-sessions" / name, projects / "-corpus-agent-sessions" / name)
    return tmp_path / "claude"


def test_real_claude_code_logs_match_ccusage_per_day(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    home = _claude_home(tmp_path)
    make_importer("claude-code", home).run()
    ours = day_rows(core, "claude-code")
    days = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(home)})["daily"]
    # The one difference in tokens: toktrack/real-shape-session.jsonl writes "version":"2.x";
    # ccusage drops lines whose version is not semver (the next test shows that is the only
    # reason). The call is real (its usage is whole), so Spendtray counts it.
    assert token_mismatches(ours, days) == {
        "2026-05-20": {
            "inputTokens": (6, None),
            "outputTokens": (1075, None),
            "cacheCreationTokens": (19693, None),
            "cacheReadTokens": (17079, None),
        }
    }
    reported = _reported_by_day(core)
    for their in days:
        day = their["period"]
        if day in reported:
            # ccusage's hand fixtures carry costUSD and ccusage shows it; Spendtray keeps it as
            # reported cost beside its own computed cost.
            assert abs(their["totalCost"] - reported[day]) < 1e-9, day
        else:
            assert abs(their["totalCost"] - ours[day]["cost_nanos"] / 1e9) < 1e-6, day
    assert set(reported) == {"2026-01-09", "2026-01-10", "2026-02-03"}
    # agent-sessions/small.jsonl: one priced call (the rest are <synthetic>, zero usage or
    # "[trimmed for fixture]" timestamps), counted the same by both.
    assert ours["2025-12-16"]["calls"] == 1


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Chatham"])
def test_days_end_at_the_same_local_midnight_as_ccusages(
    zone: str, core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    # The same corpus with both sides pinned to a zone far from UTC (-8/-7 h; +13:45 h):
    # calls move across midnight the same way on both sides, so only the toktrack day differs.
    home = _claude_home(tmp_path)
    make_importer("claude-code", home).run()
    ours = day_rows(core, "claude-code", zone)
    assert ours != day_rows(core, "claude-code")
    days = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(home)}, timezone=zone)["daily"]
    assert set(token_mismatches(ours, days)) == {"2026-05-20"}


def test_the_claude_call_ccusage_drops_is_dropped_for_its_version_alone(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    # The same toktrack line with a semver version: ccusage counts and prices it exactly as
    # Spendtray counts the original. So "version":"2.x" is the whole difference on 2026-05-20,
    # and the only cause of the per-day differences on bench/importers.py's scaled copy, where
    # copies moved back by whole days put this call on days ccusage also has.
    original = CLAUDE / "toktrack" / "real-shape-session.jsonl"
    home = tmp_path / "claude"
    make_importer("claude-code", original).run()
    ours = day_rows(core, "claude-code")
    log = home / "projects" / "-redacted" / "s.jsonl"
    log.parent.mkdir(parents=True)
    log.write_bytes(original.read_bytes())
    assert ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(home)})["daily"] == []
    log.write_bytes(original.read_bytes().replace(b'"version":"2.x"', b'"version":"2.1.0"'))
    days = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(home)})["daily"]
    assert token_mismatches(ours, days) == {}
    assert ccusage_cost(days[0]) == pytest.approx(ours["2026-05-20"]["cost_nanos"] / 1e9, abs=1e-9)


def _reported_by_day(core: Core) -> dict[str, float]:
    out: dict[str, float] = {}
    for event in events(core, "claude-code"):
        if event["reported_cost_usd"] is not None:
            day = event["timestamp"][:10]
            out[day] = out.get(day, 0.0) + event["reported_cost_usd"]
    return out


# Per folder of the Codex corpus: the days where ccusage 20.0.24 and Spendtray differ on
# purpose, and why. Every other day must be equal in tokens and cost.
CODEX_DIFFERENCES: dict[str, dict[str, str]] = {
    "agent-sessions": {
        "2025-10-31": "cost only: model unknown to both; ccusage prices it as gpt-5 "
        "(isFallback), Spendtray stores it unpriced instead of guessing",
    },
    "ccusage": {},
    "codex-session-view": {},
    "codex-sessions-tool": {
        "2025-11-23": "ccusage skips lines written with spaces after colons; Spendtray reads them",
    },
    "tokscale": {
        f"2040-01-0{n}": "dated 2040: Spendtray refuses timestamps more than a day ahead and "
        "counts the line as malformed"
        for n in range(1, 5)
    },
    "toktrack": {
        "2026-01-20": "cost only: model unknown (no turn_context) priced as gpt-5 by ccusage; "
        "ccusage also prices o4-mini below OpenAI's list price",
        "2026-02-10": "cost only: ccusage prices o4-mini below OpenAI's list price",
        "2026-08-11": "cost only: gpt-5.6-sol prices differ between ccusage's snapshot and "
        "genai-prices",
    },
    "claude-code-transcripts": {},
}


@pytest.mark.parametrize("folder", sorted(CODEX_DIFFERENCES))
def test_real_codex_logs_match_ccusage_per_day(
    folder: str,
    core: Core,
    make_importer: Callable[..., Importer],
    tmp_path: Path,
    ccusage: Any,
) -> None:
    home = tmp_path / "codex"
    shutil.copytree(CODEX / folder, home / "sessions")
    make_importer("codex", home).run()
    ours = day_rows(core, "codex")
    theirs = {
        d["date"]: d for d in ccusage("codex", "daily", env={"CODEX_HOME": str(home)})["daily"]
    }
    named = CODEX_DIFFERENCES[folder]
    for day in set(ours) | set(theirs):
        mine, their = ours.get(day), theirs.get(day)
        if mine is None or their is None:
            assert day in named, (day, mine, their)
            continue
        assert their["inputTokens"] == mine["input_tokens"] - mine["cache_read_tokens"], day
        assert their["cacheReadTokens"] == mine["cache_read_tokens"], day
        assert their["outputTokens"] == mine["output_tokens"], day
        assert their["reasoningOutputTokens"] == mine["reasoning_tokens"], day
        same_cost = abs(their["costUSD"] - mine["cost_nanos"] / 1e9) < 1e-9
        assert same_cost or day in named, (day, their["costUSD"], mine["cost_nanos"])


# -- the correctness rules -----------------------------------------------------------------


def test_streaming_snapshots_count_once_with_the_final_usage(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    # Real CC 1.0.56 session: 32 responses each written as several snapshots whose output
    # grows; the first copies say 626 output tokens in all, the final ones 6,064.
    folder = (
        CLAUDE
        / "claude-code-log"
        / "real_projects"
        / "-Users-dain-workspace-claude-code-log-sample"
    )
    make_importer("claude-code", folder / "12a546d1-83a7-49a6-abba-5400db340b43.jsonl").run()
    total = total_row(core, "claude-code")
    assert total["output_tokens"] == 6064
    assert total["calls"] == len({e["request_id"] for e in events(core, "claude-code")})
    # ccusage keeps the final copy too.
    log = (
        tmp_path
        / "claude"
        / "projects"
        / folder.name
        / "12a546d1-83a7-49a6-abba-5400db340b43.jsonl"
    )
    log.parent.mkdir(parents=True)
    shutil.copy(folder / log.name, log)
    days = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})["daily"]
    assert token_mismatches(day_rows(core, "claude-code"), days) == {}


def test_sub_agents_are_counted_and_named(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    real = CLAUDE / "claude-code-log" / "real_projects"
    projects = tmp_path / "claude" / "projects"
    for name in ("-experiments-worktrees", "-Users-dain-workspace-JSSoundRecorder"):
        shutil.copytree(real / name, projects / name)
    shutil.copytree(CLAUDE / "claude-code-viewer", projects / "-viewer")
    make_importer("claude-code", tmp_path / "claude").run()
    by_agent: dict[str, int] = {}
    for event in events(core, "claude-code"):
        by_agent[event["agent"]] = by_agent.get(event["agent"], 0) + 1
    # 2.1.x sub-agent files name their type in .meta.json (all "general-purpose" here);
    # legacy agent-*.jsonl files and inline isSidechain lines do not say which sub-agent.
    assert by_agent["claude-code/general-purpose"] > 0
    assert by_agent["claude-code/sub-agent"] > 0
    assert by_agent["claude-code"] > 0
    sub = [e for e in events(core, "claude-code") if e["agent"] != "claude-code"]
    assert all(e["tags"] and e["tags"].get("sidechain") for e in sub)


def test_inline_side_chains_are_counted_and_named(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    # Real CC 1.0.98 session: parallel Task sub-agents written inline in the parent's file
    # (isSidechain true), 170 distinct requests of which 161 are the sub-agents'.
    home = tmp_path / "claude"
    log = home / "projects" / "-path-to-Demo" / "fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"
    log.parent.mkdir(parents=True)
    shutil.copy(CLAUDE / "claude-code-viewer" / log.name, log)
    make_importer("claude-code", home).run()
    by_agent: dict[str, int] = {}
    for event in events(core, "claude-code"):
        by_agent[event["agent"]] = by_agent.get(event["agent"], 0) + 1
    assert by_agent == {"claude-code": 9, "claude-code/sub-agent": 161}
    days = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(home)})["daily"]
    assert token_mismatches(day_rows(core, "claude-code"), days) == {}


def test_codex_sub_agent_rollouts_are_counted_and_named(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    # Codex writes each sub-agent's thread to a rollout of its own whose session_meta.source
    # says so: "review"/"compact" as a string, a spawned thread as {"thread_spawn": {...}}
    # with the role it was given (shape as in Codex's SessionSource::SubAgent).
    day = tmp_path / "codex" / "sessions" / "2026" / "03" / "04"
    sources: dict[str, Any] = {
        "main": "cli",
        "review": {"subagent": "review"},
        "worker": {
            "subagent": {
                "thread_spawn": {
                    "parent_thread_id": "main",
                    "depth": 1,
                    "agent_nickname": "Boole",
                    "agent_role": "worker",
                }
            }
        },
        "spawned": {"subagent": {"thread_spawn": {"parent_thread_id": "main", "depth": 1}}},
    }
    for n, (session, source) in enumerate(sources.items(), start=1):
        meta = json.loads(codex_meta("2026-03-04T10:00:00.000Z", session, "/w"))
        meta["payload"]["source"] = source
        write_lines(
            day / f"rollout-2026-03-04T10-00-0{n}-{session}.jsonl",
            [
                json.dumps(meta, separators=(",", ":")),
                codex_turn("2026-03-04T10:00:01.000Z", "gpt-5", "/w"),
                codex_tokens(f"2026-03-04T10:0{n}:00.000Z", (n * 100, 0, n, 0), (n * 100, 0, n, 0)),
            ],
        )
    make_importer("codex", tmp_path / "codex").run()
    agents = {e["agent"]: e["input_tokens"] for e in events(core, "codex")}
    assert agents == {
        "codex": 100,
        "codex/review": 200,
        "codex/worker": 300,
        "codex/thread_spawn": 400,
    }
    days = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    assert token_mismatches(day_rows(core, "codex"), days, codex=True) == {}


def _rust_fixture(home: Path, name: str) -> Path:
    target = home / "sessions" / "2026" / "06" / "08" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(RUST_FIXTURES / name, target)
    return target


@pytest.mark.parametrize("flavour", ["legacy", "modern"])
def test_fork_whose_parent_file_is_absent_counts_the_copied_history_once_on_its_own_dates(
    flavour: str, core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    home = tmp_path / "codex"
    _rust_fixture(home, f"replay-multisecond-{flavour}.jsonl")
    report = make_importer("codex", home).run()
    days = day_rows(core, "codex")
    # The parent's two turns, copied into the fork and re-stamped with its creation time,
    # are the parent's calls: dated by their task_started.started_at (2026-04-01), keyed to
    # the parent so its own file would be the same rows. The fork's own turn is 5,000 tokens.
    assert days["2026-04-01"]["calls"] == 2
    assert days["2026-04-01"]["input_tokens"] == 236_700_000
    assert days["2026-06-08"] == {
        "calls": 1,
        "input_tokens": 5000,
        "output_tokens": 500,
        "cache_read_tokens": 3000,
        "cache_write_tokens": 0,
        "reasoning_tokens": 50,
        "cost_nanos": 0,
    }
    assert report.stats.malformed == (1 if flavour == "modern" else 0)
    keys = {e["request_id"] for e in events(core, "codex")}
    assert sum(k.startswith("codex:multi-parent:") for k in keys) == 2
    assert sum(k.startswith("codex:multi-leaf:") for k in keys) == 1
    # ccusage 20.0.24 counts the same tokens once too, but dates the copied turns by the
    # lines' timestamps, which the fork re-stamped with its own creation time: all three calls
    # on 2026-06-08. The rollout names no model: ccusage prices it as gpt-5 (isFallback),
    # Spendtray stores it unpriced.
    (theirs,) = ccusage("codex", "daily", env={"CODEX_HOME": str(home)})["daily"]
    assert theirs["date"] == "2026-06-08"
    assert token_mismatches({"2026-06-08": total_row(core, "codex")}, [theirs], codex=True) == {}
    assert ccusage_cost(theirs) > 0 == total_row(core, "codex")["cost_nanos"]


def test_the_same_parent_copied_into_two_forks_and_present_itself_is_stored_once(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    home = tmp_path / "codex"
    _rust_fixture(home, "replay-multisecond-legacy.jsonl")
    _rust_fixture(home, "replay-multisecond-modern.jsonl")
    parent = home / "sessions" / "2026" / "04" / "01" / "rollout-parent.jsonl"
    write_lines(
        parent,
        [
            codex_meta("2026-04-01T00:00:00.000Z", "multi-parent", "/w"),
            codex_tokens(
                "2026-04-01T00:10:00.000Z",
                (100_000_000, 80_000_000, 1_000_000, 100_000),
                (100_000_000, 80_000_000, 1_000_000, 100_000),
            ),
            codex_tokens(
                "2026-04-01T01:10:00.000Z",
                (236_700_000, 200_000_000, 2_000_000, 200_000),
                (136_700_000, 120_000_000, 1_000_000, 100_000),
            ),
        ],
    )
    make_importer("codex", home).run()
    total = total_row(core, "codex")
    # Parent's two calls once; each fork's own identical 5,000-token turn once (both forks
    # are the same fork id here, the legacy and modern spelling of one file).
    assert total["calls"] == 3
    assert total["input_tokens"] == 236_705_000
    assert set(day_rows(core, "codex")) == {"2026-04-01", "2026-06-08"}


@pytest.mark.parametrize("flavour", ["legacy", "modern"])
def test_a_forks_own_calls_in_its_first_second_are_kept(
    flavour: str, core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    home = tmp_path / "codex"
    _rust_fixture(home, f"fork-local-same-second-{flavour}.jsonl")
    make_importer("codex", home).run()
    total = total_row(core, "codex")
    # No parent session_meta is copied in, and the turn started when the fork did: all three
    # calls are the fork's own. ccusage 20.0.24 drops the first two by a same-second rule
    # (fixed in later ccusage, whose fixture this is); the difference is named here.
    assert (total["calls"], total["input_tokens"], total["output_tokens"]) == (3, 3000, 120)
    (theirs,) = ccusage("codex", "daily", env={"CODEX_HOME": str(home)})["daily"]
    assert (theirs["inputTokens"] + theirs["cacheReadTokens"], theirs["outputTokens"]) == (
        1000,
        30,
    )


def test_a_branch_copy_without_session_meta_counts_once(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    home = tmp_path / "codex"
    shutil.copytree(CODEX / "ccusage" / "branch-history", home / "sessions")
    make_importer("codex", home).run()
    (theirs,) = ccusage("codex", "daily", env={"CODEX_HOME": str(home)})["daily"]
    total = total_row(core, "codex")
    assert total["input_tokens"] == 1600 == theirs["inputTokens"] + theirs["cacheReadTokens"]
    assert total["output_tokens"] == 450 == theirs["outputTokens"]


def test_events_are_dated_by_their_own_time(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    # One Codex session and one Claude Code session, each running past midnight.
    codex = tmp_path / "codex" / "sessions" / "2026" / "03" / "01" / "rollout-night.jsonl"
    write_lines(
        codex,
        [
            codex_meta("2026-03-01T23:50:00.000Z", "night", "/w"),
            codex_turn("2026-03-01T23:50:01.000Z", "gpt-5", "/w"),
            codex_tokens("2026-03-01T23:59:00.000Z", (100, 0, 10, 0), (100, 0, 10, 0)),
            codex_tokens("2026-03-02T00:30:00.000Z", (300, 0, 30, 0), (200, 0, 20, 0)),
        ],
    )
    claude = tmp_path / "claude" / "projects" / "-w" / "night.jsonl"
    write_lines(
        claude,
        [
            cc_assistant("2026-03-01T23:58:00.000Z", "night", "m1", "r1", cc_usage(5, 5), cwd="/w"),
            cc_assistant("2026-03-02T02:00:00.000Z", "night", "m2", "r2", cc_usage(7, 7), cwd="/w"),
        ],
    )
    make_importer("codex", tmp_path / "codex").run()
    make_importer("claude-code", tmp_path / "claude").run()
    assert {d: r["input_tokens"] for d, r in day_rows(core, "codex").items()} == {
        "2026-03-01": 100,
        "2026-03-02": 200,
    }
    assert {d: r["input_tokens"] for d, r in day_rows(core, "claude-code").items()} == {
        "2026-03-01": 5,
        "2026-03-02": 7,
    }
    # ccusage dates them the same way.
    codex_days = ccusage("codex", "daily", env={"CODEX_HOME": str(tmp_path / "codex")})["daily"]
    assert token_mismatches(day_rows(core, "codex"), codex_days, codex=True) == {}
    claude_days = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})["daily"]
    assert token_mismatches(day_rows(core, "claude-code"), claude_days) == {}


def test_cache_fields_are_normalised_per_source(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    # Anthropic (Claude Code) counts input WITHOUT cache tokens; Codex (OpenAI) WITH cached
    # input. Stored input is the total either way, cache reads a subset.
    claude = tmp_path / "claude" / "projects" / "-w" / "c.jsonl"
    usage = cc_usage(10, 5, cache_read=1000, cache_5m=200, cache_1h=30)
    write_lines(claude, [cc_assistant("2026-03-01T10:00:00.000Z", "c", "m", "r", usage, cwd="/w")])
    codex = tmp_path / "codex" / "sessions" / "rollout-c.jsonl"
    write_lines(
        codex,
        [
            codex_meta("2026-03-01T10:00:00.000Z", "c", "/w"),
            codex_turn("2026-03-01T10:00:01.000Z", "gpt-5", "/w"),
            codex_tokens("2026-03-01T10:00:02.000Z", (1240, 1000, 5, 0), (1240, 1000, 5, 0)),
        ],
    )
    make_importer("claude-code", tmp_path / "claude").run()
    make_importer("codex", tmp_path / "codex").run()
    (cc,) = events(core, "claude-code")
    (cx,) = events(core, "codex")
    assert (cc["input_tokens"], cc["cache_read_tokens"], cc["cache_write_tokens"]) == (
        1240,
        1000,
        230,
    )
    assert (cc["cache_write_5m_tokens"], cc["cache_write_1h_tokens"]) == (200, 30)
    assert (cx["input_tokens"], cx["cache_read_tokens"], cx["cache_write_tokens"]) == (
        1240,
        1000,
        0,
    )
    # ccusage reads each source's fields its own way; per day it agrees, tokens and cost.
    for source, args, env, codex in (
        ("claude-code", ("daily",), {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}, False),
        ("codex", ("codex", "daily"), {"CODEX_HOME": str(tmp_path / "codex")}, True),
    ):
        ours = day_rows(core, source)
        (theirs,) = ccusage(*args, env=env)["daily"]
        assert token_mismatches(ours, [theirs], codex=codex) == {}, source
        assert ccusage_cost(theirs) == pytest.approx(ours["2026-03-01"]["cost_nanos"] / 1e9)


def test_the_agents_own_cost_is_kept_as_reported_cost(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    # ccusage's fixtures carry costUSD on each line (older Claude Code wrote it).
    make_importer("claude-code", CLAUDE / "ccusage").run()
    rows = events(core, "claude-code")
    assert len(rows) == 5
    reported = sorted(e["reported_cost_usd"] for e in rows)
    assert all(r is not None and r > 0 for r in reported)
    # Computed cost stays ours, from prices, next to what the agent said.
    assert all(e["priced"] and e["cost_usd"] != e["reported_cost_usd"] for e in rows)


def test_ccusage_fixtures_match_ccusages_published_daily_output(
    core: Core, make_importer: Callable[..., Importer]
) -> None:
    # ccusage's own snapshot of `ccusage daily --offline --json` over its two fixture files
    # (expected/daily-json.txt): an expectation written by ccusage's authors, checked without
    # node. Its costs are the lines' costUSD, which Spendtray keeps as reported cost.
    make_importer("claude-code", CLAUDE / "ccusage" / "projects").run()
    published = json.loads((CLAUDE / "ccusage" / "expected" / "daily-json.txt").read_text())
    assert token_mismatches(day_rows(core, "claude-code"), published["daily"]) == {}
    reported = _reported_by_day(core)
    for day in published["daily"]:
        assert reported[day["period"]] == pytest.approx(day["totalCost"], abs=1e-9)


def test_real_gemini_cli_chats_match_ccusage_per_day(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    gemini = CORPORA / "gemini_cli"
    data = tmp_path / "home" / ".gemini" / "tmp"
    shutil.copytree(gemini / "toktrack", data)
    shutil.copytree(gemini / "agent-sessions", data / "agent-sessions" / "chats")
    make_importer("gemini-cli", data).run()
    ours = day_rows(core, "gemini-cli")
    days = ccusage("gemini", "daily", env={"HOME": str(tmp_path / "home")})["daily"]
    theirs = {d["date"]: d for d in days}
    # toktrack's session-abc123.json names its model once at the top, not per message: ccusage
    # drops such messages, Spendtray uses the session's model.
    assert set(ours) - set(theirs) == {"2026-01-15"}
    assert ours["2026-01-15"]["calls"] == 2
    for day, their in theirs.items():
        mine = ours[day]
        assert their["inputTokens"] == mine["input_tokens"] - mine["cache_read_tokens"], day
        assert their["cacheReadTokens"] == mine["cache_read_tokens"], day
        assert their["outputTokens"] == mine["output_tokens"] - mine["reasoning_tokens"], day
        assert abs(their["totalCost"] - mine["cost_nanos"] / 1e9) < 1e-9, day
    sub = [e for e in events(core, "gemini-cli") if e["agent"] == "gemini-cli/sub-agent"]
    assert len(sub) == 1 and sub[0]["input_tokens"] == 40
