"""`spendtray sources` (table and JSON) and `spendtray import` with no source, against a user's
home laid out with Claude Code and Codex logs (HOME points at it, as it would for ccusage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from logfactory import write_lines
from logscenarios import write_claude, write_codex

from spendtray.cli.main import main
from spendtray.importers.registry import KINDS

AGENT_ENV = ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    return home


def _sources(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    assert main(["sources", "--format", "json"]) == 0
    return {s["name"]: s for s in json.loads(capsys.readouterr().out)["sources"]}


def test_sources_before_and_after_importing_everything_found(
    no_server: None, user_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_claude(user_home / ".claude")
    write_codex(user_home / ".codex")
    (user_home / ".claude" / "settings.json").write_text('{"cleanupPeriodDays": 14}')
    before = _sources(capsys)
    assert list(before) == list(KINDS)
    assert before["claude-code"]["found"] is True
    assert before["claude-code"]["files"] == 3
    assert before["claude-code"]["calls"] == 0 and before["claude-code"]["last_import"] is None
    assert str(user_home / ".claude" / "projects") in before["claude-code"]["looked_in"]
    (warning,) = before["claude-code"]["warnings"]
    assert "older than 14 days" in warning and "cleanupPeriodDays" in warning
    assert before["codex"]["found"] is True
    assert before["codex"]["warnings"] == []

    assert main(["import"]) == 0  # no source: every one found
    out = capsys.readouterr().out
    assert "claude-code:" in out and "codex:" in out
    after = _sources(capsys)
    assert after["claude-code"]["calls"] == 7
    assert after["codex"]["calls"] == 5
    assert after["claude-code"]["last_import"] is not None
    assert after["claude-code"]["parse_problems"] == 2
    assert "not valid JSON" in str(after["claude-code"]["latest_problem"])
    assert after["codex"]["parse_problems"] == 1

    assert main(["sources"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == [
        "source",
        "found",
        "files",
        "calls",
        "last",
        "import",
        "bad",
        "lines",
        "looked",
        "in",
    ]
    assert "! claude-code: Claude Code deletes transcripts older than 14 days" in table


def test_sources_that_are_not_there_say_where_they_were_looked_for(
    no_server: None, user_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = _sources(capsys)
    assert not any(s["found"] for s in found.values())
    assert found["codex"]["looked_in"] == [
        str(user_home / ".codex" / "archived_sessions"),
        str(user_home / ".codex" / "sessions"),
    ]
    assert found["claude-code"]["warnings"] == []  # nothing to lose when nothing is there
    assert main(["import"]) == 0
    assert "no agent logs found" in capsys.readouterr().out


def test_import_all_with_a_path_needs_a_source(
    no_server: None, user_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_lines(user_home / "x.jsonl", ["{}"])
    assert main(["import", "--path", str(user_home / "x.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "name the SOURCE" in err
