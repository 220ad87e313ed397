"""``spendtray import`` sending to the running app lowers its own CPU priority (a batch job
beside the app's interactive server); writing the database itself, with no app to yield to,
it keeps its priority. The real command in its own process, the real server on port 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from logscenarios import write_claude

from spendtray.core import Core
from spendtray.importers.remote import BACKGROUND_NICENESS

# The import in a fresh interpreter, then its own niceness.
PROBE = """
import json, os, sys
from spendtray.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "nice": os.nice(0)}))
"""


def _import(folder: Path, port: int) -> tuple[dict[str, int], str]:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "import", "claude-code", "--path", str(folder)],
        env={**os.environ, "PYTHONPATH": str(root / "app"), "SPENDTRAY_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    *printed, last = done.stdout.strip().splitlines()
    return json.loads(last), "\n".join(printed) + done.stderr


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no os.nice on this system")
def test_import_into_the_running_app_runs_at_background_priority(
    core: Core, tmp_path: Path
) -> None:
    write_claude(tmp_path / "claude")
    start = os.nice(0)
    assert core.runner is not None
    result, out = _import(tmp_path / "claude", core.runner.port)
    assert "sending to the running Spendtray" in out
    assert "7 new calls stored" in out
    assert result == {"code": 0, "nice": min(19, start + BACKGROUND_NICENESS)}


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no os.nice on this system")
def test_import_without_the_app_keeps_its_priority(no_server: None, tmp_path: Path) -> None:
    write_claude(tmp_path / "claude")
    start = os.nice(0)
    result, out = _import(tmp_path / "claude", int(os.environ["SPENDTRAY_PORT"]))
    assert "sending to the running Spendtray" not in out
    assert "7 new calls stored" in out
    assert result == {"code": 0, "nice": start}
