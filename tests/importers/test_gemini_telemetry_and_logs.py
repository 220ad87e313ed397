"""Gemini CLI's telemetry (gemini_cli.api_response through the real OpenTelemetry SDK log
exporter, protobuf + gzip, to the real server on port 0) and its chat recordings (the fixture
home) describe the same calls: stored once, whichever arrives first (the Gemini call key:
session + usageMetadata counts; a sub-agent's recording keyed by its parent session, which the
telemetry names). Copilot CLI's two ways share no id: `spendtray sources` says so."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from importkit import total_row
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from sourcekit import AGENT_ENV, CASES

from spendtray.cli.main import main
from spendtray.core import Core
from spendtray.importers import Importer

CHATS = "*/chats"


@pytest.fixture
def gemini_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    shutil.copytree(CASES["gemini-cli"].home, home)
    monkeypatch.setenv("HOME", str(home))
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    return home


def _recorded_calls(home: Path) -> list[dict[str, Any]]:
    """Each call the recordings hold (a message's last copy), with the session the CLI's
    telemetry names it by: the recording's own, or a sub-agent's parent's (its folder)."""
    calls: list[dict[str, Any]] = []
    for path in sorted((home / ".gemini" / "tmp").rglob("*.json*")):
        nested = path.parent.name != "chats"
        if path.suffix == ".json":
            doc = json.loads(path.read_text())
            session, messages = doc["sessionId"], doc["messages"]
        else:
            lines = [json.loads(line) for line in path.read_text().splitlines() if line]
            session = lines[0]["sessionId"]
            last: dict[str, dict[str, Any]] = {}
            for line in lines[1:]:
                if "id" in line:
                    last[line["id"]] = line
            messages = list(last.values())
        for message in messages:
            if message.get("type") == "gemini" and message.get("tokens"):
                parent = path.parent.name if nested else session
                calls.append({"session": parent, "model": message["model"], **message})
    return calls


def _emit(core: Core, calls: list[dict[str, Any]], session_on_resource: bool = False) -> None:
    """One gemini_cli.api_response per call, as Gemini CLI logs it, through the SDK exporter."""
    by_session: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        by_session.setdefault(call["session"], []).append(call)
    for session, mine in by_session.items():
        resource = {"service.name": "gemini-cli"}
        if session_on_resource:  # older releases: session.id only on the resource
            resource["session.id"] = session
        provider = LoggerProvider(resource=Resource.create(resource))
        exporter = OTLPLogExporter(
            endpoint=f"{core.url}/v1/logs",
            headers={"Authorization": f"Bearer {core.token}"},
            compression=Compression.Gzip,
            timeout=10,
        )
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        logger = provider.get_logger("gemini-cli")
        for n, call in enumerate(mine):
            tokens = call["tokens"]
            attributes: dict[str, Any] = {
                "event.name": "gemini_cli.api_response",
                "event.timestamp": call["timestamp"],
                "prompt_id": f"{session}########{n}",
                "model": call["model"],
                "status_code": 200,
                "duration_ms": 1200,
                "input_token_count": tokens["input"],
                "output_token_count": tokens["output"],
                "cached_content_token_count": tokens["cached"],
                "thoughts_token_count": tokens["thoughts"],
                "tool_token_count": tokens["tool"],
                "total_token_count": tokens["total"],
            }
            if not session_on_resource:
                attributes["session.id"] = session
            logger.emit(body="API response from gemini", attributes=attributes)
        provider.force_flush()
        provider.shutdown()


def _all(client: httpx.Client) -> dict[str, int]:
    r = client.get("/v1/summary", params={"group_by": "source", "since": "2020-01-01"})
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    return {k: total[k] for k in ("calls", "input_tokens", "output_tokens", "cache_read_tokens")}


def test_telemetry_first_then_the_recordings(
    core: Core,
    client: httpx.Client,
    make_importer: Callable[..., Importer],
    gemini_home: Path,
) -> None:
    calls = _recorded_calls(gemini_home)
    sub_agent = [c for c in calls if c["id"] == "sg-1"]
    assert len(calls) >= 5 and sub_agent[0]["session"] == "ab12cd34-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    _emit(core, calls)
    live = _all(client)
    assert live["calls"] == len(calls)
    report = make_importer("gemini-cli").run()
    assert (report.stored, report.stats.malformed) == (0, 0)
    assert report.duplicates >= len(calls)
    assert _all(client) == live
    assert total_row(core, "gemini-cli")["calls"] == 0  # the telemetry's copies stay


def test_recordings_first_then_telemetry_even_without_a_session_attribute(
    core: Core,
    client: httpx.Client,
    make_importer: Callable[..., Importer],
    gemini_home: Path,
) -> None:
    calls = _recorded_calls(gemini_home)
    assert make_importer("gemini-cli").run().stored == len(calls)
    imported = _all(client)
    _emit(core, calls, session_on_resource=True)
    assert _all(client) == imported
    # a call only the telemetry saw (another count, e.g. a routing call) is its own call
    other = dict(calls[0], tokens={**calls[0]["tokens"], "input": 777, "total": 1})
    _emit(core, [other])
    assert _all(client)["calls"] == imported["calls"] + 1


def test_sources_says_copilot_cli_telemetry_and_logs_are_counted_twice(
    no_server: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "user"
    shutil.copytree(CASES["copilot-cli"].home, home)
    monkeypatch.setenv("HOME", str(home))
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    assert main(["sources", "--format", "json"]) == 0
    found = {s["name"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    (note,) = found["copilot-cli"]["warnings"]
    assert "counted twice" in note and "OpenTelemetry" in note
