"""What the Claude Code parser reuses from line to line of one file (the last model, session and
working folder, and their names) and its file facts taken from the path as text: every record
gets the same fields as when each line is read on its own."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from logfactory import cc_assistant, cc_usage

from spendtray.claude_code_projects import ProjectNames
from spendtray.importers.claude_code import ClaudeCodeParser, file_facts
from spendtray.importers.parsing import ParseStats

NOW = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)


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
