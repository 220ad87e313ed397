"""Codex's rate_limits read by the real Codex importer into the real store, seen through
`/v1/limits`: the agent-sessions fixture, and rollouts written here in Codex's shapes
(resets_at, resets_in_seconds, limit_id, null windows, bad values, repeats, appended lines)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from limitskit import LimitsApp

from spendtray.core import Core
from spendtray.importers import Importer

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "codex"
RATE_LIMIT_FIXTURE = CORPUS / "agent-sessions" / "codex_053_rate_limit.jsonl"


def by_window(client: httpx.Client) -> dict[str, dict[str, Any]]:
    rows = client.get("/v1/limits").json()["limits"]
    return {r["window"]: r for r in rows if r["provider"] == "openai"}


def history(core: Core) -> list[tuple[str, float, int]]:
    rows = core.reader.conn().execute(
        "SELECT window_name, used_percent, observed_at FROM limit_observations "
        "ORDER BY observed_at, window_name"
    )
    return [tuple(r) for r in rows]


@pytest.mark.skipif(not RATE_LIMIT_FIXTURE.exists(), reason="../shared/corpora is not here")
def test_agent_sessions_rate_limit_fixture(core: Core, client: httpx.Client) -> None:
    importer = Importer.for_core(core, "codex", [RATE_LIMIT_FIXTURE])
    try:
        report = importer.run()
    finally:
        importer.close()
    assert report.stored == 1  # the one usage line still counts
    seen = by_window(client)
    # the last line (account/rateLimits/updated, older `reset_at` name) is the newest reading
    assert seen["primary"]["used_percent"] == 85.0
    assert seen["primary"]["window_minutes"] == 300
    assert seen["primary"]["resets_at"] == "2024-10-31T16:45:12Z"
    assert seen["secondary"]["used_percent"] == 12.0
    assert seen["secondary"]["window_minutes"] == 10080
    for row in seen.values():
        assert row["source"] == "official" and row["origin"] == "codex"
        assert row["observed_at"] == "2025-10-31T17:00:20Z"
        assert row["stale"] is True  # a log from 2025
    # token_count with info and with info:null both carry readings; the repeated 7 % secondary
    # is one row whose time moved to its second sighting
    assert [(w, p) for w, p, _ in history(core)] == [
        ("primary", 0.0),
        ("primary", 1.0),
        ("secondary", 7.0),
        ("primary", 85.0),
        ("secondary", 12.0),
    ]


def token_count(stamp: dt.datetime, rate_limits: Any, total: int | None = None) -> str:
    info = None
    if total is not None:
        usage = {
            "input_tokens": total,
            "cached_input_tokens": 0,
            "output_tokens": 10,
            "reasoning_output_tokens": 0,
            "total_tokens": total + 10,
        }
        info = {"total_token_usage": usage, "last_token_usage": usage}
    line = {
        "timestamp": stamp.isoformat().replace("+00:00", "Z"),
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info, "rate_limits": rate_limits},
    }
    return json.dumps(line, separators=(",", ":"))


def window(used: Any, minutes: int, **reset: Any) -> dict[str, Any]:
    return {"used_percent": used, "window_minutes": minutes, **reset}


def test_own_rollout_shapes_incremental_and_alerts(limits_app: LimitsApp, tmp_path: Path) -> None:
    app = limits_app
    now = app.clock.now
    t0 = now - dt.timedelta(minutes=3)
    resets = int(now.timestamp()) + 3600
    folder = tmp_path / "sessions" / "2026" / "11" / "18"
    folder.mkdir(parents=True)
    rollout = folder / "rollout-2026-11-18T11-57-00-0000.jsonl"
    meta = {
        "timestamp": t0.isoformat().replace("+00:00", "Z"),
        "type": "session_meta",
        "payload": {"id": "own-session", "cwd": "/home/dev/acme", "cli_version": "0.58.0"},
    }
    lines = [
        json.dumps(meta),
        token_count(
            t0,
            {
                "primary": window(52.0, 300, resets_at=resets),
                "secondary": window(40.0, 10080, resets_in_seconds=86400),
            },
            total=1000,
        ),
        # the same figures again, the reset a second later: one reading, its time moved
        token_count(
            t0 + dt.timedelta(seconds=30),
            {
                "primary": window(52.0, 300, resets_at=resets + 1),
                "secondary": window(40.0, 10080, resets_in_seconds=86370),
            },
        ),
        # a plan without a secondary window, and a bad primary: skipped, the rest still read
        token_count(
            t0 + dt.timedelta(seconds=40),
            {"limit_id": "codex", "primary": window("high", 300), "secondary": None},
        ),
        token_count(
            t0 + dt.timedelta(minutes=1),
            {"primary": window(71.5, 300, resets_at=resets), "plan_type": "plus"},
            total=2000,
        ),
    ]
    rollout.write_text("\n".join(lines) + "\n", encoding="utf-8")
    importer = Importer.for_core(app.core, "codex", [tmp_path / "sessions"])
    try:
        first = importer.run()
        seen = by_window(app.http)
        assert first.stored == 2
        assert first.stats.malformed == 0
        assert seen["primary"]["used_percent"] == 71.5
        assert seen["primary"]["stale"] is False
        assert seen["secondary"]["used_percent"] == 40.0
        assert seen["secondary"]["observed_at"] == "2026-11-18T11:57:30Z"
        assert seen["secondary"]["resets_at"] == "2026-11-19T11:57:00Z"  # 11:57:30 + 86370 s
        assert [a.threshold for a in app.sink.alerts] == [70.0]
        assert "Codex 5h window at 72 %" in app.sink.alerts[0].text
        rows = len(history(app.core))
        assert rows == 3

        assert importer.run().files_read == 0  # unchanged file: nothing read or recorded
        assert len(history(app.core)) == rows

        # a premium bucket appended later: its own window name
        with rollout.open("a", encoding="utf-8") as out:
            premium = {"limit_id": "premium", "primary": window(5.0, 300, resets_at=resets)}
            out.write(token_count(now, premium) + "\n")
        importer.run()
        assert by_window(app.http)["premium:primary"]["used_percent"] == 5.0
        assert len(app.sink.alerts) == 1  # 71.5 % already fired for this window
    finally:
        importer.close()


def test_windows_parsed_alone() -> None:
    from spendtray.limits.codex_rate_limits import codex_observations

    problems: list[str] = []
    seen = codex_observations(
        {
            "primary": window(10.0, 300, resets_at=0),
            "secondary": window(20.0, -1, resets_at=1_800_000_000),
        },
        1_700_000_000_000,
        problems,
    )
    assert [(o.window, o.resets_at) for o in seen] == [("primary", None)]
    assert problems == [
        "rate_limits.secondary.window_minutes: must be a whole number of minutes > 0, got -1"
    ]
    assert codex_observations(None, 0) == [] and codex_observations({"primary": None}, 0) == []
