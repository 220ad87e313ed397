"""The app's start stores what Python clients spooled while it was down — with no client
running afterwards — once each, and leaves a live client's open file to that client."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.config import load_settings
from spendtray.core import Core

APP = Path(__file__).resolve().parents[2] / "app"


def spool_files(home: Path) -> list[Path]:
    folder = home / "spool"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def stored(core: Core, project: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{core.url}/v1/usage",
        params={"project": project, "limit": "1000"},
        headers={"Authorization": f"Bearer {core.token}"},
    )
    answer.raise_for_status()
    return list(answer.json()["events"])


def wait_stored(core: Core, project: str, n: int, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        events = stored(core, project)
        if len(events) >= n or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def client_process(home: Path, code: str, port: int = 9) -> subprocess.CompletedProcess[str]:
    """A Python program using spendtray.client while no app answers (port 9: discard)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(APP),
        "SPENDTRAY_HOME": str(home),
        "SPENDTRAY_PORT": str(port),
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_app_stores_a_finished_scripts_spool_at_start(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script = client_process(
        home,
        """
        import spendtray.client as st
        for i in range(4):
            st.record(model="gpt-4o", input_tokens=100 + i, output_tokens=10, project="script")
        """,
    )
    assert script.returncode == 0, script.stderr
    assert spool_files(home), "the client kept its events on disk"
    folder = home / "spool"
    bad = {"model": "gpt-4o", "input_tokens": -5, "project": "script", "request_id": "bad-1"}
    (folder / "00000000000000000001-1-bad.ndjson").write_text(json.dumps(bad) + "\n")

    core = Core(load_settings(home=home, port=0))
    with caplog.at_level(logging.WARNING, logger="spendtray.ingest"):
        core.start_background()
        try:
            events = wait_stored(core, "script", 4)
            assert sorted(e["input_tokens"] for e in events) == [100, 101, 102, 103]
            assert all(e["source"] == "python-client" for e in events)
            deadline = time.monotonic() + 10
            while spool_files(home) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert spool_files(home) == []
        finally:
            core.stop()
    assert "a spooled client event for model 'gpt-4o' was refused" in caplog.text

    again = Core(load_settings(home=home, port=0))  # nothing left: nothing stored twice
    again.start_background()
    try:
        time.sleep(0.3)
        assert len(stored(again, "script")) == 4
    finally:
        again.stop()


def test_a_live_clients_open_file_is_left_to_it(home: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folder = home / "spool"
        folder.mkdir(parents=True)
        event = {"model": "gpt-4o", "input_tokens": 5, "project": "live", "request_id": "live-1"}
        part = folder / f"00000000000000000007-{sleeper.pid}-cccc.part"
        part.write_text(json.dumps(event) + "\n")
        core = Core(load_settings(home=home, port=0))
        core.start_background()
        try:
            time.sleep(0.5)
            core.spool_drain.stop()  # the drain has finished
            assert part.exists() and stored(core, "live") == []
        finally:
            core.stop()
    finally:
        sleeper.kill()
        sleeper.wait()
