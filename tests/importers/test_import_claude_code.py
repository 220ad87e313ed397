"""Claude Code logs: exact totals after dedup of snapshots, replays and missing request ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from importkit import ccusage_cost, day_rows, events, token_mismatches, total_row
from logfactory import cc_assistant, cc_usage, dumps, write_lines
from logscenarios import CLAUDE_DAYS, CLAUDE_MALFORMED, write_claude

from spendtray.core import Core
from spendtray.importers import Importer
from spendtray.store.reader import Filters


def test_fixture_totals_are_exact(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    write_claude(tmp_path / "claude")
    report = make_importer("claude-code", tmp_path / "claude").run()

    days = day_rows(core, "claude-code")
    assert set(days) == set(CLAUDE_DAYS)
    for day, want in CLAUDE_DAYS.items():
        got = days[day]
        assert got["calls"] == want.calls, day
        assert got["input_tokens"] == want.input_tokens, day
        assert got["output_tokens"] == want.output_tokens, day
        assert got["cache_read_tokens"] == want.cache_read_tokens, day
        assert got["cache_write_tokens"] == want.cache_write_tokens, day
        assert got["cost_nanos"] == want.cost_nanos, day
    assert report.files_seen == report.files_read == 3
    assert report.stored == 7
    assert report.stats.malformed == CLAUDE_MALFORMED
    assert report.stats.skipped_synthetic == 1
    assert report.stats.skipped_errors == 1
    assert len(report.stats.malformed_examples) == 2
    assert "sess-a.jsonl @ byte" in report.stats.malformed_examples[0]


def test_attribution_split_and_kept_copy(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    write_claude(tmp_path / "claude")
    make_importer("claude-code", tmp_path / "claude").run()

    by_id = {e["request_id"]: e for e in events(core, "claude-code")}
    assert set(by_id) == {
        "cc:msg_a1:req_a1",
        "cc:msg_a2:req_a2",
        "cc:msg_a3:",
        "cc:msg_b1:req_b1",
        "cc:msg_a4:req_a4",
        "cc:msg_c1:req_c1",
        "cc:msg_p1:req_p1",
    }
    # The main-chain copy is kept over the side-chain replay.
    assert by_id["cc:msg_a2:req_a2"]["project"] == "shop"
    assert not (by_id["cc:msg_a2:req_a2"].get("tags") or {}).get("sidechain")
    # cwd inside the repository still names the repository's project.
    assert by_id["cc:msg_c1:req_c1"]["project"] == "api"
    assert by_id["cc:msg_p1:req_p1"]["project"] == "api"
    assert by_id["cc:msg_b1:req_b1"]["output_tokens"] == 90  # biggest snapshot, not the last
    assert by_id["cc:msg_a2:req_a2"]["cache_write_1h_tokens"] == 900
    assert by_id["cc:msg_a2:req_a2"]["cache_write_5m_tokens"] == 100
    assert by_id["cc:msg_a2:req_a2"]["session"] == "sess-a"
    assert all(e["source"] == "claude-code" for e in by_id.values())
    # Side-chain-only calls name the sub-agent (these fixtures do not say which kind).
    agents = {key: e["agent"] for key, e in by_id.items()}
    sidechain_only = {k for k, e in by_id.items() if (e.get("tags") or {}).get("sidechain")}
    assert sidechain_only
    assert all(agents[k] == "claude-code/sub-agent" for k in sidechain_only)
    assert all(agents[k] == "claude-code" for k in set(agents) - sidechain_only)
    projects = core.reader.summary("project", Filters(source="claude-code"))
    assert sum(r.calls for r in projects.rows) == 7
    assert {r.key for r in projects.rows} == {"shop", "api"}


def test_second_run_adds_nothing(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    write_claude(tmp_path / "claude")
    make_importer("claude-code", tmp_path / "claude").run()
    before = total_row(core, "claude-code")
    # A fresh importer (new process) over the same logs, state read from the database.
    again = make_importer("claude-code", tmp_path / "claude").run()
    assert again.files_read == 0 and again.bytes_read == 0 and again.stored == 0
    assert total_row(core, "claude-code") == before


def test_copies_split_across_runs_still_count_once(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    projects = tmp_path / "claude" / "projects" / "-home-dev-src-shop"
    log = projects / "s.jsonl"
    ts = "2026-02-01T10:00:00.000Z"
    write_lines(log, [cc_assistant(ts, "s", "msg_x", "req_x", cc_usage(10, 5))])
    importer = make_importer("claude-code", tmp_path / "claude")
    importer.run()
    # The final snapshot arrives later; then a copy without a request id; then a side-chain
    # replay in a sub-agent file: still one call, with the final snapshot's tokens.
    write_lines(log, [cc_assistant(ts, "s", "msg_x", "req_x", cc_usage(10, 500))], mode="a")
    importer.run()
    write_lines(log, [cc_assistant(ts, "s", "msg_x", None, cc_usage(10, 500))], mode="a")
    importer.run()
    agent = projects / "s" / "subagents" / "agent-1.jsonl"
    write_lines(agent, [cc_assistant(ts, "s", "msg_x", "req_x", cc_usage(10, 500), sidechain=True)])
    importer.run()
    total = total_row(core, "claude-code")
    assert total["calls"] == 1
    assert total["output_tokens"] == 500
    # A message first seen without a request id absorbs a later copy that has one.
    write_lines(log, [cc_assistant(ts, "s", "msg_y", None, cc_usage(1, 2))], mode="a")
    importer.run()
    write_lines(log, [cc_assistant(ts, "s", "msg_y", "req_y", cc_usage(1, 7))], mode="a")
    importer.run()
    total = total_row(core, "claude-code")
    assert total["calls"] == 2
    assert total["output_tokens"] == 507
    theirs = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})["daily"]
    # ccusage cannot pair a copy without a request id with its message (its issue #976) and
    # adds both such copies: msg_x's 10 / 500 and msg_y's 1 / 2.
    assert token_mismatches(day_rows(core, "claude-code"), theirs) == {
        "2026-02-01": {"inputTokens": (11, 11 + 10 + 1), "outputTokens": (507, 507 + 500 + 2)}
    }


def test_unknown_model_is_stored_unpriced(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    log = tmp_path / "claude" / "projects" / "-w" / "s.jsonl"
    write_lines(
        log,
        [
            cc_assistant(
                "2026-02-01T10:00:00.000Z",
                "s",
                "m1",
                "r1",
                cc_usage(100, 10),
                model="claude-nonexistent-9",
                cwd="/w",
            )
        ],
    )
    report = make_importer("claude-code", tmp_path / "claude").run()
    assert report.stored == 1 and report.unpriced == 1
    (event,) = events(core, "claude-code")
    assert event["priced"] is False and event["cost_usd"] is None
    assert event["project"] == "w"
    theirs = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})["daily"]
    # ccusage has no price either (missingPricing) and shows $0.
    assert token_mismatches(day_rows(core, "claude-code"), theirs) == {}
    assert ccusage_cost(theirs[0]) == 0


def test_line_without_ids_is_keyed_by_its_uuid(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path, ccusage: Any
) -> None:
    line = json.loads(cc_assistant("2026-02-01T10:00:00.000Z", "s", "m", None, cc_usage(3, 4)))
    del line["message"]["id"]
    log = tmp_path / "claude" / "projects" / "-w" / "s.jsonl"
    write_lines(log, [dumps(line)])
    importer = make_importer("claude-code", tmp_path / "claude")
    importer.run()
    # Rewritten from scratch with another line first: read again, the old line counted once.
    log.unlink()
    other = cc_assistant("2026-02-01T09:00:00.000Z", "s", "m0", "r0", cc_usage(1, 1))
    write_lines(log, [other, dumps(line)])
    report = importer.run()
    assert report.files_read == 1 and report.stored == 1 and report.duplicates == 1
    keys = {e["request_id"] for e in events(core, "claude-code")}
    assert keys == {f"cc:line:{line['uuid']}", "cc:m0:r0"}
    theirs = ccusage("daily", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")})["daily"]
    assert token_mismatches(day_rows(core, "claude-code"), theirs) == {}
    ours = day_rows(core, "claude-code")["2026-02-01"]["cost_nanos"]
    assert abs(ccusage_cost(theirs[0]) - ours / 1e9) < 1e-12


def test_repeated_snapshot_lines_count_once_and_stay_checked(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    """Claude Code writes one line per content block of a response, repeating its usage: the
    copies of the line before are duplicates (not built again); a copy with a bad time is
    still a bad line, and a copy that differs in anything the call is keyed by is its own."""
    log = tmp_path / "claude" / "projects" / "-home-dev-src-shop" / "s.jsonl"
    ts, later = "2026-02-01T10:00:00.000Z", "2026-02-01T10:00:01.000Z"
    usage = cc_usage(10, 5)
    write_lines(
        log,
        [
            cc_assistant(ts, "s", "msg_a", "req_a", usage, text="thinking"),
            cc_assistant(later, "s", "msg_a", "req_a", usage, text="tool use"),  # a copy
            cc_assistant("yesterday", "s", "msg_a", "req_a", usage),  # a copy, bad time
            cc_assistant(later, "s", "msg_a", "req_a", cc_usage(10, 9)),  # grown: kept
            cc_assistant(later, "s", "msg_b", "req_b", cc_usage(10, 9)),  # another call
            cc_assistant(later, "s", "msg_b", "req_b", cc_usage(10, 9), sidechain=True),
        ],
    )
    report = make_importer("claude-code", tmp_path / "claude").run()
    assert report.stats.repeated_copies == 1
    assert report.stats.malformed == 1 and "yesterday" in (report.stats.last_problem or "")
    assert (report.stored, report.duplicates) == (2, 3)
    total = total_row(core, "claude-code")
    assert (total["calls"], total["output_tokens"]) == (2, 9 + 9)
