"""`spendtray reprice`: a dry run by default, `--apply` stores the prices in force now and keeps
the old ones, summaries follow, and the running app is not changed under its feet."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spendtray.config import load_settings
from spendtray.core import Core

ROOT = Path(__file__).resolve().parents[2]
OVERRIDES = """
[[model]]
provider = "openai"
models = ["acme-support-ft-*"]
input_mtok = 2
output_mtok = 8
checked = 2026-12-01
source = "our fine-tune's rate"

[[model]]
provider = "openai"
models = ["gpt-4o"]
discount_percent = 10
checked = 2026-12-01
source = "negotiated"
"""


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    return subprocess.run(
        [sys.executable, "-m", "spendtray", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def stored(home: Path) -> Path:
    core = Core(load_settings(home=home, port=0))
    core.start_store()
    events: list[dict[str, Any]] = [
        {
            "model": "acme-support-ft-1",
            "project": "acme",
            "input_tokens": 1_000_000,
            "output_tokens": 100_000,
            "timestamp": f"2026-11-2{i}T10:00:00Z",
        }
        for i in range(3)
    ]
    events += [
        {
            "model": "gpt-4o",
            "provider": "openai",
            "project": "blog",
            "input_tokens": 1_000_000,
            "timestamp": "2026-11-25T10:00:00Z",
        },
        {
            "model": "gpt-4o",
            "provider": "openai",
            "project": "acme",
            "input_tokens": 2_000_000,
            "timestamp": "2026-11-26T10:00:00Z",
        },
        {  # a stream that reported no usage: stays unpriced whatever the prices
            "model": "gpt-4o",
            "provider": "openai",
            "project": "acme",
            "timestamp": "2026-11-26T11:00:00Z",
            "tags": {"usage": "missing"},
        },
    ]
    core.ingest.ingest(events)
    core.stop()  # folds every event into the rollups
    return home


def report(home: Path, *args: str) -> dict[str, Any]:
    r = cli(home, "report", "--by", "model", "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    result: dict[str, Any] = json.loads(r.stdout)
    return result


def events(home: Path) -> dict[int, tuple[Any, ...]]:
    with sqlite3.connect(home / "spendtray.db") as conn:
        rows = conn.execute("SELECT id, provider, cost_nanos, priced, price_id FROM events")
        return {row[0]: row[1:] for row in rows}


def test_dry_run_then_apply_keeps_the_old_prices(stored: Path) -> None:
    before = events(stored)
    nothing = cli(stored, "reprice")
    assert nothing.returncode == 0 and "Nothing to reprice: 6 selected calls" in nothing.stdout

    (stored / "prices.toml").write_text(OVERRIDES, encoding="utf-8")
    dry = cli(stored, "reprice", "--model", "acme-support-ft-1")
    assert dry.returncode == 0, dry.stderr
    assert "acme-support-ft-1" in dry.stdout and "3 unpriced" in dry.stdout
    assert "$8.40" in dry.stdout  # 3 × (1M × $2 + 100k × $8)
    assert "Dry run: 3 calls of 3 selected would change; nothing was stored" in dry.stdout
    assert events(stored) == before

    total_before = report(stored)["total"]
    assert total_before["unpriced_calls"] == 4 and total_before["cost_usd"] == 7.5
    applied = cli(stored, "reprice", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert "Repriced 5 calls of 6 selected" in applied.stdout

    after = events(stored)
    ft = [after[i] for i in (1, 2, 3)]
    assert all(p == "openai" and c == 2_800_000_000 and priced == 1 for p, c, priced, _ in ft)
    assert after[4][1] == 2_250_000_000 and after[5][1] == 4_500_000_000  # 10 % off $2.50/M
    assert after[6] == before[6]  # usage: missing stays unpriced

    total = report(stored)["total"]  # the rollups follow the rewritten events
    assert total["unpriced_calls"] == 1
    assert total["cost_usd"] == pytest.approx(3 * 2.8 + 2.25 + 4.5)
    by_provider = cli(stored, "report", "--by", "provider", "--format", "json")
    keys = {row["key"] for row in json.loads(by_provider.stdout)["rows"]}
    assert keys == {"openai"}  # the fine-tune's calls moved from "unknown"

    with sqlite3.connect(stored / "spendtray.db") as conn:
        history = conn.execute(
            "SELECT event_id, old_provider, old_cost_nanos, old_priced, new_cost_nanos "
            "FROM reprices ORDER BY event_id"
        ).fetchall()
    assert [h[0] for h in history] == [1, 2, 3, 4, 5]
    assert history[0] == (1, "unknown", None, 0, 2_800_000_000)
    assert history[3] == (4, "openai", 2_500_000_000, 1, 2_250_000_000)

    again = cli(stored, "reprice", "--apply")
    assert "Nothing to reprice" in again.stdout


def test_json_and_a_selection_by_project_and_range(stored: Path) -> None:
    (stored / "prices.toml").write_text(OVERRIDES, encoding="utf-8")
    r = cli(
        stored,
        "reprice",
        "--project",
        "acme",
        "--since",
        "2026-11-21",
        "--until",
        "2026-11-26",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["dry_run"] is True and plan["selected"] == 2 and plan["changing"] == 2
    assert plan["models"][0]["model"] == "acme-support-ft-1"
    assert plan["models"][0]["after_cost_usd"] == pytest.approx(5.6)
    only_unpriced = json.loads(cli(stored, "reprice", "--unpriced", "--format", "json").stdout)
    assert only_unpriced["selected"] == 4 and only_unpriced["changing"] == 3


def test_apply_waits_for_the_running_app(stored: Path) -> None:
    core = Core(load_settings(home=stored, port=0))
    from spendtray.instance_lock import InstanceLock

    lock = InstanceLock(stored)
    lock.acquire("spendtray serve")
    core.start_background()
    lock.describe(core.url)
    try:
        (stored / "prices.toml").write_text(OVERRIDES, encoding="utf-8")
        refused = cli(stored, "reprice", "--apply")
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
        assert f"pid {os.getpid()}" in refused.stderr and "stop it" in refused.stderr
        assert cli(stored, "reprice").returncode == 0  # the dry run is fine
    finally:
        core.stop()
        lock.release()
    assert cli(stored, "reprice", "--apply").returncode == 0
