"""`spendtray limits` as a real subprocess: the same rows as `/v1/limits`, as a table or JSON,
with the app not running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spendtray.limits.model import Observation
from spendtray.store.db import open_for_writing
from spendtray.store.limits import record_observations

ROOT = Path(__file__).resolve().parents[2]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    return subprocess.run(
        [sys.executable, "-m", "spendtray", "limits", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_limits_table_and_json(home: Path) -> None:
    now = int(time.time())
    db = open_for_writing(home / "spendtray.db")
    record_observations(
        db.conn,
        [
            Observation("openai", "subscription", "primary", 300, 52.0, now + 3000, now * 1000),
            Observation("openai", "subscription", "secondary", 10080, 40.0, now + 86400, 1000),
        ],
    )
    db.conn.close()
    done = run(home, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["limits"]
    assert [(r["window"], r["used_percent"], r["stale"]) for r in rows] == [
        ("primary", 52.0, False),
        ("secondary", 40.0, True),
    ]
    table = run(home)
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    head = ["provider", "account", "window", "used", "resets", "in", "source", "pace"]
    assert lines[0].split() == head
    assert "52 %" in lines[2] and "official" in lines[2]
    assert "official (stale)" in lines[3]


@pytest.mark.slow
def test_bad_flags_are_one_line(home: Path) -> None:
    done = run(home, "--since", "7d")
    assert done.returncode == 2
    assert done.stderr.strip() == "spendtray: --since/--until go with --blocks"
    done = run(home, "--blocks", "--since", "someday")
    assert done.returncode == 2 and "--since" in done.stderr and "Traceback" not in done.stderr


def test_estimated_block_row_and_blocks_table(home: Path) -> None:
    import datetime as dt

    from spendtray.config import load_settings
    from spendtray.core import Core
    from spendtray.ingest.event import UsageEvent
    from spendtray.prices.calc import TokenCounts

    core = Core(load_settings(home=home, port=0))
    core.start_store()
    now = dt.datetime.now(dt.UTC)
    calls = [
        UsageEvent(
            model="claude-sonnet-4-5",
            provider="anthropic",
            counts=TokenCounts(input_tokens=20_000, output_tokens=800, cache_read_tokens=15_000),
            timestamp=now - dt.timedelta(minutes=minutes),
            source="claude-code",
            request_id=f"cli-block-{minutes}",
        )
        for minutes in (40, 10)
    ]
    assert core.ingest.ingest_events(calls).accepted == 2
    core.stop()
    table = run(home)
    assert table.returncode == 0, table.stderr
    row = table.stdout.splitlines()[2]
    assert row.split()[:5] == ["anthropic", "claude-code", "logs", "five_hour", "$0.06"]
    assert "41,600 tok" in row and "estimated" in row
    assert "block estimated from local logs; ≈ $" in row
    blocks = run(home, "--blocks", "--format", "json")
    [block] = json.loads(blocks.stdout)["blocks"]
    assert block["active"] and block["calls"] == 2 and block["source"] == "estimated"


@pytest.mark.slow
def test_a_data_folder_without_a_store_answers_empty_and_creates_none(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    done = run(home, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"limits": []}
    blocks = run(home, "--blocks", "--format", "json")
    assert json.loads(blocks.stdout) == {"blocks": []}
    table = run(home)
    assert table.returncode == 0 and "no subscription windows seen yet" in table.stdout
    assert not (home / "spendtray.db").exists()
