"""`spendtray` with no display runs headless, says so in one line, serves, and stops cleanly."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import httpx
import pytest

from sharedkit import spawn_spendtray, wait_healthy

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_no_display_runs_headless_and_says_so(home: Path) -> None:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = spawn_spendtray("--port", "0", env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "No display found" in line and "running headless" in line
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}"
        wait_healthy(url)
        token = (home / "token").read_text().strip()
        r = httpx.post(
            f"{url}/v1/usage",
            json={"model": "gpt-4o", "input_tokens": 5},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 202
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
