"""POST /v1/logs and /v1/metrics against the real server: the real OpenTelemetry SDK log and
metric exporters (protobuf, gzip), hand-written OTLP/JSON in each agent's documented shape,
retries stored once, a call seen as a span and as an event stored once, counters as a fallback
that never doubles per-request events, and no prompt text in the database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from spendtray.core import Core

PROMPT = "PROMPT-TEXT-MUST-NOT-BE-STORED-51c0"
JSON = {"Content-Type": "application/json"}
NOW_NS = time.time_ns() - 120 * 10**9


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def _logs_body(
    service: str, records: list[dict[str, Any]], resource: dict[str, str] | None = None
) -> bytes:
    res = {"service.name": service, **(resource or {})}
    return json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {"attributes": [_attr(k, v) for k, v in res.items()]},
                    "scopeLogs": [{"scope": {"name": service}, "logRecords": records}],
                }
            ]
        }
    ).encode()


def _record(body: str, attrs: dict[str, Any], *, trace: str = "", span: str = "") -> dict[str, Any]:
    record: dict[str, Any] = {
        "timeUnixNano": str(NOW_NS),
        "body": {"stringValue": body},
        "attributes": [_attr(k, v) for k, v in attrs.items()],
    }
    if trace:
        record["traceId"], record["spanId"] = trace, span
    return record


def events(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/v1/usage", params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


def db_bytes(core: Core) -> bytes:
    """Everything SQLite has on disk: the database, its WAL and shared-memory index."""
    base = Path(core.settings.db_path)
    parts = [p.read_bytes() for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()]
    return b"".join(parts)


def claude_code_provider(core: Core) -> Iterator[tuple[Any, LoggerProvider]]:
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "claude-code", "spendtray.project": "acme"})
    )
    exporter = OTLPLogExporter(
        endpoint=f"{core.url}/v1/logs",
        headers={"Authorization": f"Bearer {core.token}"},
        compression=Compression.Gzip,
        timeout=10,
    )
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider.get_logger("com.anthropic.claude_code.events"), provider
    provider.shutdown()


def test_claude_code_events_through_the_real_log_exporter(core: Core, client: httpx.Client) -> None:
    for logger, provider in claude_code_provider(core):
        common = {
            "session.id": "sess-1",
            "prompt.id": "p-1",
            "event.timestamp": "2026-11-03T10:00:00.000Z",
        }
        logger.emit(
            body="claude_code.user_prompt",
            attributes={**common, "event.name": "user_prompt", "prompt": PROMPT},
        )
        logger.emit(
            body="claude_code.api_request",
            attributes={
                **common,
                "event.name": "api_request",
                "event.sequence": 3,
                "model": "claude-sonnet-4-5-20250929",
                # Claude Code sends some numbers as strings; both must be read.
                "input_tokens": "100",
                "cache_read_tokens": 20_000,
                "cache_creation_tokens": 1_000,
                "output_tokens": 500,
                "cost_usd": 0.0165,
                "duration_ms": 2345,
                "query_source": "main",
            },
        )
        provider.force_flush()
    stored = events(client, source="otlp")
    assert len(stored) == 1
    event = stored[0]
    assert event["model"] == "claude-sonnet-4-5-20250929"
    assert event["agent"] == "claude-code"
    assert event["project"] == "acme"
    assert event["session"] == "sess-1"
    # Anthropic's uncached input plus both cache counts: the canonical total input.
    assert event["input_tokens"] == 21_100
    assert event["cache_read_tokens"] == 20_000
    assert event["cache_write_tokens"] == 1_000
    assert event["output_tokens"] == 500
    assert event["timestamp"].startswith("2026-11-03T10:00:00")
    assert event["reported_cost_usd"] == pytest.approx(0.0165)
    # $3/M uncached + $0.30/M read + $3.75/M write + $15/M output
    assert event["cost_usd"] == pytest.approx(
        (100 * 3 + 20_000 * 0.3 + 1_000 * 3.75 + 500 * 15) / 1e6
    )
    assert PROMPT.encode() not in db_bytes(core)


def test_an_exporter_retry_is_stored_once(core: Core, client: httpx.Client) -> None:
    body = _logs_body(
        "claude-code",
        [
            _record(
                "claude_code.api_request",
                {
                    "event.name": "api_request",
                    "session.id": "s-retry",
                    "event.sequence": 7,
                    "model": "claude-haiku-4-5",
                    "input_tokens": 10,
                    "output_tokens": 5,
                },
            )
        ],
    )
    for _ in range(2):
        r = client.post("/v1/logs", content=body, headers=JSON)
        assert r.status_code == 200, r.text
        assert r.json() == {}
    assert len(events(client, source="otlp")) == 1


def test_codex_gemini_and_genai_events_in_otlp_json(core: Core, client: httpx.Client) -> None:
    codex = _logs_body(
        "codex_cli_rs",
        [
            _record(
                "codex.sse_event",
                {
                    "event.kind": "response.created",
                    "conversation.id": "c-1",
                    "model": "gpt-5-codex",
                },
            ),
            _record(
                "codex.sse_event",
                {
                    "event.name": "codex.sse_event",
                    "event.kind": "response.completed",
                    "event.timestamp": "2026-11-04T08:00:00Z",
                    "conversation.id": "c-1",
                    "model": "gpt-5-codex",
                    "input_token_count": 12_000,
                    "cached_token_count": 8_000,
                    "output_token_count": 900,
                    "reasoning_token_count": 600,
                    "tool_token_count": 0,
                },
            ),
        ],
    )
    gemini = _logs_body(
        "gemini-cli",
        [
            _record(
                "gemini_cli.api_response",
                {
                    "event.name": "gemini_cli.api_response",
                    "session.id": "g-1",
                    "prompt_id": "g-1########0",
                    "model": "gemini-2.5-pro",
                    "input_token_count": 5_000,
                    "cached_content_token_count": 1_000,
                    "output_token_count": 300,
                    "thoughts_token_count": 200,
                    "tool_token_count": 50,
                    "response_text": PROMPT,
                    "status_code": 200,
                },
            )
        ],
    )
    for body in (codex, gemini):
        r = client.post("/v1/logs", content=body, headers=JSON)
        assert r.status_code == 200, r.text
    by_agent = {e["agent"]: e for e in events(client, source="otlp")}
    assert set(by_agent) == {"codex", "gemini-cli"}
    cx = by_agent["codex"]
    assert (cx["input_tokens"], cx["cache_read_tokens"]) == (12_000, 8_000)
    assert (cx["output_tokens"], cx["reasoning_tokens"]) == (900, 600)
    assert cx["timestamp"].startswith("2026-11-04T08:00:00")
    gm = by_agent["gemini-cli"]
    # tool-use prompt tokens are input; thoughts are billed as output and are its reasoning part
    assert (gm["input_tokens"], gm["cache_read_tokens"]) == (5_050, 1_000)
    assert (gm["output_tokens"], gm["reasoning_tokens"]) == (500, 200)
    assert gm["provider"] == "google"
    assert PROMPT.encode() not in db_bytes(core)


def test_a_call_sent_as_a_span_and_as_an_event_is_stored_once(
    core: Core, client: httpx.Client
) -> None:
    trace, span = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4.1",
        "gen_ai.response.model": "gpt-4.1",
        "gen_ai.usage.input_tokens": 700,
        "gen_ai.usage.output_tokens": 70,
    }
    logs = _logs_body(
        "github-copilot",
        [
            _record(
                "",
                {"event.name": "gen_ai.client.inference.operation.details", **attrs},
                trace=trace,
                span=span,
            )
        ],
    )
    spans = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", "github-copilot")]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace,
                                "spanId": span,
                                "name": "chat gpt-4.1",
                                "startTimeUnixNano": str(NOW_NS),
                                "endTimeUnixNano": str(NOW_NS + 10**9),
                                "attributes": [_attr(k, v) for k, v in attrs.items()],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    assert client.post("/v1/logs", content=logs, headers=JSON).status_code == 200
    assert client.post("/v1/traces", json=spans).status_code == 200
    stored = events(client, source="otlp")
    assert len(stored) == 1
    assert stored[0]["agent"] == "copilot-cli"
    assert stored[0]["input_tokens"] == 700


def test_telemetry_takes_the_project_of_its_session(core: Core, client: httpx.Client) -> None:
    r = client.post(
        "/v1/usage",
        json={
            "model": "claude-haiku-4-5",
            "input_tokens": 1,
            "project": "webshop",
            "session": "sess-w",
        },
    )
    assert r.status_code == 202, r.text
    body = _logs_body(
        "claude-code",
        [
            _record(
                "claude_code.api_request",
                {
                    "event.name": "api_request",
                    "session.id": "sess-w",
                    "event.sequence": 1,
                    "model": "claude-haiku-4-5",
                    "input_tokens": 10,
                    "output_tokens": 5,
                },
            )
        ],
    )
    assert client.post("/v1/logs", content=body, headers=JSON).status_code == 200
    assert [e["project"] for e in events(client, source="otlp")] == ["webshop"]


def test_partial_success_names_the_bad_record(core: Core, client: httpx.Client) -> None:
    body = _logs_body(
        "claude-code",
        [
            _record(
                "claude_code.api_request",
                {
                    "event.name": "api_request",
                    "session.id": "s",
                    "event.sequence": 1,
                    "input_tokens": 5,
                },
            ),
            _record(
                "claude_code.api_request",
                {
                    "event.name": "api_request",
                    "session.id": "s",
                    "event.sequence": 2,
                    "model": "claude-haiku-4-5",
                    "input_tokens": 5,
                },
            ),
        ],
    )
    r = client.post("/v1/logs", content=body, headers=JSON)
    assert r.status_code == 200, r.text
    partial = r.json()["partialSuccess"]
    assert partial["rejectedLogRecords"] == "1"
    assert "model" in partial["errorMessage"]
    assert len(events(client, source="otlp")) == 1


@pytest.mark.parametrize(
    ("headers", "body", "status", "words"),
    [
        (JSON, b"{not json", 400, "not valid JSON"),
        (
            {"Content-Type": "application/x-protobuf"},
            b"\xff\xff\xff",
            400,
            "ExportLogsServiceRequest",
        ),
        ({"Content-Type": "text/plain"}, b"{}", 415, "content type"),
    ],
)
def test_bad_log_bodies_change_nothing(
    client: httpx.Client, headers: dict[str, str], body: bytes, status: int, words: str
) -> None:
    r = client.post("/v1/logs", content=body, headers=headers)
    assert r.status_code == status
    assert words in r.json()["error"]["message"]
    assert events(client) == []


def test_logs_and_metrics_need_the_token(core: Core) -> None:
    with httpx.Client(base_url=core.url) as anonymous:
        for path in ("/v1/logs", "/v1/metrics"):
            assert anonymous.post(path, content=b"{}", headers=JSON).status_code == 401


# -- metrics -------------------------------------------------------------------------------


def _meter(core: Core, temporality: AggregationTemporality, service: str) -> tuple[Any, Any]:
    exporter = OTLPMetricExporter(
        endpoint=f"{core.url}/v1/metrics",
        headers={"Authorization": f"Bearer {core.token}"},
        compression=Compression.Gzip,
        timeout=10,
        preferred_temporality={Counter: temporality},
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(
        resource=Resource.create({"service.name": service}), metric_readers=[reader]
    )
    return provider.get_meter(service), provider


def test_claude_code_delta_counters_become_usage_windows(core: Core, client: httpx.Client) -> None:
    meter, provider = _meter(core, AggregationTemporality.DELTA, "claude-code")
    tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
    cost = meter.create_counter("claude_code.cost.usage", unit="USD")
    session = {"session.id": "metrics-only", "model": "claude-sonnet-4-5"}
    for kind, value in (
        ("input", 100),
        ("cacheRead", 20_000),
        ("cacheCreation", 1_000),
        ("output", 500),
    ):
        tokens.add(value, {**session, "type": kind})
    cost.add(0.0165, session)
    provider.force_flush()
    tokens.add(50, {**session, "type": "output"})  # the next window
    provider.force_flush()
    provider.shutdown()
    stored = sorted(events(client, source="otlp"), key=lambda e: e["output_tokens"])
    assert len(stored) == 2
    small, first = stored
    assert (first["input_tokens"], first["cache_read_tokens"], first["cache_write_tokens"]) == (
        21_100,
        20_000,
        1_000,
    )
    assert first["output_tokens"] == 500
    assert first["reported_cost_usd"] == pytest.approx(0.0165)
    assert small["output_tokens"] == 50
    assert {e["agent"] for e in stored} == {"claude-code"}


def test_cumulative_counters_are_one_growing_event(core: Core, client: httpx.Client) -> None:
    meter, provider = _meter(core, AggregationTemporality.CUMULATIVE, "gemini-cli")
    tokens = meter.create_counter("gemini_cli.token.usage", unit="token")
    session = {"session.id": "g-cumulative", "model": "gemini-2.5-flash"}
    tokens.add(1_000, {**session, "type": "input"})
    tokens.add(100, {**session, "type": "output"})
    provider.force_flush()
    tokens.add(1_000, {**session, "type": "input"})
    tokens.add(100, {**session, "type": "output"})
    provider.force_flush()
    provider.force_flush()  # an export with nothing new: still the same totals
    provider.shutdown()
    stored = events(client, source="otlp")
    assert len(stored) == 1
    assert (stored[0]["input_tokens"], stored[0]["output_tokens"]) == (2_000, 200)


def test_counters_of_a_session_with_per_request_events_are_not_counted_again(
    core: Core, client: httpx.Client
) -> None:
    body = _logs_body(
        "claude-code",
        [
            _record(
                "claude_code.api_request",
                {
                    "event.name": "api_request",
                    "session.id": "both",
                    "event.sequence": 1,
                    "model": "claude-sonnet-4-5",
                    "input_tokens": 100,
                    "output_tokens": 500,
                },
            )
        ],
    )
    assert client.post("/v1/logs", content=body, headers=JSON).status_code == 200
    meter, provider = _meter(core, AggregationTemporality.DELTA, "claude-code")
    tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
    tokens.add(100, {"session.id": "both", "model": "claude-sonnet-4-5", "type": "input"})
    tokens.add(500, {"session.id": "both", "model": "claude-sonnet-4-5", "type": "output"})
    provider.force_flush()
    provider.shutdown()
    stored = events(client, source="otlp")
    assert len(stored) == 1
    assert stored[0]["request_id"].startswith("cc-otel:")


def test_metrics_in_otlp_json_and_bad_points(core: Core, client: httpx.Client) -> None:
    def point(value: Any, kind: str) -> dict[str, Any]:
        return {
            "attributes": [
                _attr("gen_ai.token.type", kind),
                _attr("gen_ai.request.model", "gpt-4.1-mini"),
            ],
            "startTimeUnixNano": str(NOW_NS - 10**9),
            "timeUnixNano": str(NOW_NS),
            "sum": value,
            "count": "1",
        }

    body = {
        "resourceMetrics": [
            {
                "resource": {"attributes": [_attr("service.name", "github-copilot")]},
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "gen_ai.client.token.usage",
                                "histogram": {
                                    "aggregationTemporality": 1,
                                    "dataPoints": [point(4000, "input"), point(250, "output")],
                                },
                            }
                        ]
                    }
                ],
            }
        ]
    }
    r = client.post("/v1/metrics", json=body)
    assert r.status_code == 200, r.text
    stored = events(client, source="otlp")
    assert [(e["agent"], e["input_tokens"], e["output_tokens"]) for e in stored] == [
        ("copilot-cli", 4000, 250)
    ]
    r = client.post("/v1/metrics", content=b"[1,2]", headers=JSON)
    assert r.status_code == 400
    assert "must be an object" in r.json()["error"]["message"]
