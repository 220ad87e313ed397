"""Commands that talk to the running app check who answers first (spendtray.identity):
`import --home X` against another data folder's server says so in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from spendtray.cli.main import main
from spendtray.core import Core


def test_import_against_another_homes_server_is_one_line(
    core: Core,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs = tmp_path / "claude" / "projects" / "-p"
    logs.mkdir(parents=True)
    (logs / "s.jsonl").write_text("", encoding="utf-8")
    port = core.runner.port if core.runner else 0
    monkeypatch.setenv("SPENDTRAY_PORT", str(port))
    other = tmp_path / "other-home"
    code = main(["--home", str(other), "import", "claude-code", "--path", str(tmp_path / "claude")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "not the Spendtray of this data folder" in err
    assert "Traceback" not in err
