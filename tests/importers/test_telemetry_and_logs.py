"""A call that reaches Spendtray both as native OTLP telemetry (POST /v1/logs) and from the
agent's log files is stored once, whichever arrives first (the call key, ingest.call_keys).

Real data: a real Claude Code session from ../shared/corpora (inline sub-agent side chains,
streaming copies of one message with growing output), and the telemetry Claude Code emits for
the same calls, built from those lines with the attribute names its documentation gives.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.core import Core
from spendtray.importers import Importer

CORPUS = (
    Path(__file__).resolve().parents[2].parent
    / "shared/corpora/claude_code/claude-code-viewer/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"
)
pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpora is not here")


def _calls() -> list[dict[str, Any]]:
    """One telemetry api_request per distinct message of the session (its largest copy)."""
    calls: dict[str, dict[str, Any]] = {}
    for line in CORPUS.read_text().splitlines():
        obj = json.loads(line)
        message = obj.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("usage"), dict):
            continue
        if message.get("model") == "<synthetic>":
            continue
        usage = message["usage"]
        call = {
            "session.id": obj["sessionId"],
            "model": message["model"],
            "input_tokens": usage.get("input_tokens", 0),
            "cache_read_tokens": usage.get("cache_read_input_tokens", 0),
            "cache_creation_tokens": usage.get("cache_creation_input_tokens", 0),
            "output_tokens": usage.get("output_tokens", 0),
            "event.timestamp": obj["timestamp"],
        }
        known = calls.get(message["id"])
        if known is None or call["output_tokens"] > known["output_tokens"]:
            calls[message["id"]] = call
    return list(calls.values())


def _telemetry(calls: list[dict[str, Any]]) -> dict[str, Any]:
    def attr(key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value)}}
        return {"key": key, "value": {"stringValue": str(value)}}

    records = [
        {
            "body": {"stringValue": "claude_code.api_request"},
            "attributes": [
                attr(k, v)
                for k, v in {**call, "event.name": "api_request", "event.sequence": n}.items()
            ],
        }
        for n, call in enumerate(calls)
    ]
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [attr("service.name", "claude-code")]},
                "scopeLogs": [{"logRecords": records}],
            }
        ]
    }


def _import(make_importer: Callable[..., Importer], tmp_path: Path) -> None:
    folder = tmp_path / "claude" / "projects" / "-path-to-Demo"
    folder.mkdir(parents=True)
    shutil.copy(CORPUS, folder / CORPUS.name)
    make_importer("claude-code", tmp_path / "claude").run()


def _totals(client: httpx.Client) -> dict[str, int]:
    r = client.get("/v1/summary", params={"group_by": "model", "since": "2020-01-01"})
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    return {k: total[k] for k in ("calls", "input_tokens", "output_tokens", "cache_read_tokens")}


def test_log_file_first_then_telemetry(
    core: Core, client: httpx.Client, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    calls = _calls()
    _import(make_importer, tmp_path)
    imported = _totals(client)
    assert imported["calls"] == len(calls) > 20
    r = client.post("/v1/logs", json=_telemetry(calls))
    assert r.status_code == 200, r.text
    assert _totals(client) == imported


@pytest.mark.slow
def test_telemetry_first_then_log_file(
    core: Core, client: httpx.Client, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    calls = _calls()
    r = client.post("/v1/logs", json=_telemetry(calls))
    assert r.status_code == 200, r.text
    live = _totals(client)
    assert live["calls"] == len(calls)
    _import(make_importer, tmp_path)
    assert _totals(client) == live
    sources = {
        e["source"] for e in client.get("/v1/usage", params={"limit": 1000}).json()["events"]
    }
    assert sources == {"otlp"}  # the first copy stays; the log file's equal copies are duplicates
