"""What the Claude Code parser reuses from line to line of one file (the last model, session and
working folder, and their names), its file facts taken from the path as text, and its token
counts taken as they are when they are plain whole numbers: every record gets the same fields as
when each line is read on its own, and the counts (or the error) ``anthropic_tokens`` gives."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from logfactory import cc_assistant, cc_usage

from spendtray.claude_code_projects import ProjectNames
from spendtray.importers.claude_code import ClaudeCodeParser, file_facts, token_counts
from spendtray.importers.parsing import ParseStats
from spendtray.ingest.event import EventError
from spendtray.ingest.provider_usage import anthropic_tokens
from spendtray.prices.calc import TokenCounts

NOW = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "claude_code"


@pytest.mark.parametrize(
    "relative",
    [
        "-home-dev-shop/s.jsonl",
        "-home-dev-shop/s/subagents/agent-a1.jsonl",
        "-home-dev-shop/agent-b2.jsonl",
        "-home-dev-shop/deeper/subagents/x.jsonl",
        "s.jsonl",
    ],
)
def test_file_facts_from_text_equal_those_from_path(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "projects"
    path = str(root / relative)
    assert file_facts(root, path) == file_facts(root, Path(path))
    assert file_facts(root, path)[1] == ("subagents" in relative or "/agent-" in f"/{relative}")


@pytest.mark.parametrize("name", ["s.jsonl", "agent-a1.jsonl"])
def test_file_facts_of_a_file_given_as_the_root(tmp_path: Path, name: str) -> None:
    path = tmp_path / "-w" / name
    assert file_facts(path, str(path)) == file_facts(path, path) == (name, name != "s.jsonl")


def test_file_facts_outside_the_root_use_the_last_folder(tmp_path: Path) -> None:
    assert file_facts(tmp_path / "projects", f"{tmp_path}{os.sep}other{os.sep}x.jsonl") == (
        "other",
        False,
    )


def _read(lines: list[str], folder: str = "-home-dev-shop") -> list[tuple[object, ...]]:
    parser = ClaudeCodeParser("x.jsonl", folder, False, ProjectNames(), ParseStats(), NOW)
    parser.feed([line.encode() for line in lines], 0)
    return [
        (r.event.model, r.event.session, r.event.project, r.event.call_key, r.event.request_id)
        for r in parser.records
    ]


def test_each_line_gets_its_own_model_session_and_project() -> None:
    ts = "2026-03-02T10:00:{:02d}.000Z"
    lines = [
        cc_assistant(ts.format(0), "s1", "m0", "r0", cc_usage(1, 1), cwd="/home/dev/shop"),
        cc_assistant(ts.format(1), "s1", "m1", "r1", cc_usage(2, 1), cwd="/home/dev/shop"),
        cc_assistant(ts.format(2), "s2", "m2", "r2", cc_usage(3, 1), model="claude-opus-4-1"),
        cc_assistant(ts.format(3), "s2", "m3", "r3", cc_usage(4, 1), cwd="/srv/other"),
        cc_assistant(ts.format(4), "s1", "m4", "r4", cc_usage(5, 1), cwd="/home/dev/shop"),
    ]
    no_cwd = json.loads(cc_assistant(ts.format(5), "s1", "m5", "r5", cc_usage(6, 1)))
    del no_cwd["cwd"]
    lines.append(json.dumps(no_cwd))
    together = _read(lines)
    one_by_one = [_read([line])[0] for line in lines]
    assert [r[:3] for r in together] == [
        ("claude-sonnet-4-5-20250929", "s1", "shop"),
        ("claude-sonnet-4-5-20250929", "s1", "shop"),
        ("claude-opus-4-1", "s2", "shop"),
        ("claude-sonnet-4-5-20250929", "s2", "other"),
        ("claude-sonnet-4-5-20250929", "s1", "shop"),
        ("claude-sonnet-4-5-20250929", "s1", "shop"),  # no cwd: the folder's learnt name
    ]
    # Alone, the line without a cwd can only use the folder's encoded name.
    assert together[:5] == one_by_one[:5] and one_by_one[5][2] == "home-dev-shop"


def test_a_bad_model_after_a_good_one_is_still_a_bad_line() -> None:
    ts = "2026-03-02T10:00:{:02d}.000Z"
    bad = json.loads(cc_assistant(ts.format(1), "s1", "m1", "r1", cc_usage(2, 1)))
    bad["message"]["model"] = " "
    parser = ClaudeCodeParser("x.jsonl", "-w", False, ProjectNames(), stats := ParseStats(), NOW)
    good = cc_assistant(ts.format(0), "s1", "m0", "r0", cc_usage(1, 1))
    parser.feed([good.encode(), json.dumps(bad).encode(), good.encode()], 0)
    assert stats.malformed == 1 and "message.model" in (stats.last_problem or "")
    assert len(parser.records) == 1


def _reference(usage: dict[str, Any]) -> TokenCounts:
    """The counts as ``provider_usage.anthropic_tokens`` gives them, the split checked."""
    tokens = anthropic_tokens(usage, "message.usage")
    write_5m = tokens.get("cache_write_5m_tokens", 0)
    write_1h = tokens.get("cache_write_1h_tokens", 0)
    if write_5m + write_1h > tokens["cache_write_tokens"]:
        raise EventError("message.usage.cache_creation", "the 5m + 1h split is larger")
    return TokenCounts(
        tokens["input_tokens"],
        tokens["output_tokens"],
        tokens["cache_read_tokens"],
        tokens["cache_write_tokens"],
        write_5m,
        write_1h,
    )


def _outcome(count: Callable[[dict[str, Any]], TokenCounts], usage: dict[str, Any]) -> object:
    try:
        return count(usage)
    except EventError as exc:
        return exc.field


def _corpus_usages() -> list[dict[str, Any]]:
    found = []
    for path in sorted(CORPUS.rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            if b'"usage"' in line:
                try:
                    message = json.loads(line).get("message")
                except ValueError:
                    continue
                if isinstance(message, dict) and isinstance(message.get("usage"), dict):
                    found.append(message["usage"])
    return found


def test_token_counts_equal_anthropic_tokens_on_every_usage_and_odd_ones() -> None:
    usages = _corpus_usages() if CORPUS.is_dir() else []
    plain = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 30,
        "cache_read_input_tokens": 100,
        "output_tokens": 7,
    }
    odd_values: list[object] = [None, 0, 5, 2.0, 2.5, -1, True, "4", [1]]
    for key in plain:
        usages += [{**plain, key: value} for value in odd_values]
        usages.append({k: v for k, v in plain.items() if k != key})
    for creation in [None, {}, [], {"ephemeral_5m_input_tokens": 10}]:
        usages.append({**plain, "cache_creation": creation})
    for five, hour in [(10, 20), (20, 20), (None, 5), (1.0, 2), (True, 0), (-1, 3), (0, 0)]:
        split = {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}
        usages.append({**plain, "cache_creation": split})
        usages.append({**plain, "cache_creation_input_tokens": 0, "cache_creation": split})
    assert len(usages) > 100
    for usage in usages:
        assert _outcome(token_counts, usage) == _outcome(_reference, usage), usage


def test_each_lines_time_is_what_parse_timestamp_gives_it_or_its_error() -> None:
    """Times in Claude Code's own shape are read without ``parse_timestamp`` once it accepted an
    earlier one in the file; every line still gets its time or its error as when read alone."""
    from spendtray.ingest.event import parse_timestamp

    times = [
        "2026-03-02T10:00:00.000Z",
        "2026-03-02T10:00:01.250Z",
        "2026-03-04T10:00:00.000Z",  # more than a day after NOW: bad
        "2014-12-31T23:59:59.999Z",  # before 2015: bad
        "2026-03-01T09:00:00.000Z",  # earlier than the first, still good
        "2026-02-30T10:00:00.000Z",  # no such day: bad
        "2026-03-02T10:00:00.000+00:00",
        "2026-03-02 10:00:02.000Z",
        "2026-03-02T12:00:02.000+02:00",
        " 2026-03-02T10:00:03.000Z",
        1772445600,
        "yesterday",
    ]
    lines = [
        cc_assistant(stamp, "s1", f"m{n}", f"r{n}", cc_usage(n + 1, 1))  # type: ignore[arg-type]
        for n, stamp in enumerate(times)
    ]

    def outcome(value: object) -> object:
        try:
            return parse_timestamp(value, NOW)
        except EventError as exc:
            return str(exc)

    stats = ParseStats()
    parser = ClaudeCodeParser("x.jsonl", "-w", False, ProjectNames(), stats, NOW)
    got: list[object] = []
    for line in lines:
        parser.feed([line.encode()], 0)
        if parser.records:
            got.append(parser.records.pop().event.timestamp)
        else:
            got.append((stats.last_problem or "").removeprefix("byte 0: "))
    assert got == [outcome(stamp) for stamp in times]
    assert all(g.tzinfo is dt.UTC for g in got if isinstance(g, dt.datetime))
    assert stats.malformed == 4
