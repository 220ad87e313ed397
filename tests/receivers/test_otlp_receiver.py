"""POST /v1/traces against the real server: the real OpenTelemetry SDK exporter (protobuf, gzip),
hand-written OTLP/JSON, partial success, de-duplication, limits, and no content in the DB."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from spendtray.core import Core

PROMPT = "PROMPT-TEXT-MUST-NOT-BE-STORED-7f3a"
COMPLETION = "COMPLETION-TEXT-MUST-NOT-BE-STORED-9b2c"
PROTOBUF = {"Content-Type": "application/x-protobuf"}
# Hand-written spans start a minute ago and last 1000.090682 ms.
START_NS = (time.time_ns() // 1_000_000 - 60_000) * 1_000_000 + 1_353_276
END_NS = START_NS + 1_000_090_682


def record_spans(build: Any, resource: dict[str, str] | None = None) -> list[ReadableSpan]:
    """Spans made by the real SDK tracer; ``build(tracer)`` starts and ends them."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(resource or {"service.name": "svc", "project.name": "acme-bot"})
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    build(provider.get_tracer("tests.receivers"))
    provider.shutdown()
    return list(memory.get_finished_spans())


def agent_run(tracer: Any) -> None:
    """An agent span (no usage) over a model call with current attribute names, one with the
    deprecated names (and content capture on), and a failed call."""
    with tracer.start_as_current_span(
        "invoke_agent planner",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.response.id": "chatcmpl-abc123",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 85,
                "gen_ai.usage.cache_read.input_tokens": 1024,
                "gen_ai.usage.reasoning.output_tokens": 20,
                "gen_ai.input.messages": json.dumps([{"role": "user", "content": PROMPT}]),
                "gen_ai.output.messages": json.dumps(
                    [{"role": "assistant", "content": COMPLETION}]
                ),
                "server.address": "api.openai.com",
            },
        ) as span:
            span.add_event("gen_ai.user.message", {"content": PROMPT})
        with tracer.start_as_current_span(
            "anthropic.chat",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.system": "anthropic",
                "gen_ai.request.model": "claude-sonnet-4-5",
                "gen_ai.usage.prompt_tokens": 3000,
                "gen_ai.usage.completion_tokens": 200,
                "gen_ai.usage.cache_read_input_tokens": 1000,
                "gen_ai.usage.cache_creation_input_tokens": 500,
                "gen_ai.prompt.0.content": PROMPT,
                "gen_ai.completion.0.content": COMPLETION,
                "gen_ai.agent.name": "critic",
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat gemini-2.5-flash",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "gcp.gemini",
                "gen_ai.request.model": "gemini-2.5-flash",
                "gen_ai.usage.input_tokens": 50,
                "gen_ai.usage.output_tokens": 0,
                "error.type": "RateLimitError",
            },
        ) as span:
            span.set_status(Status(StatusCode.ERROR, "429"))


def exporter(core: Core) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=f"{core.url}/v1/traces",
        headers={"Authorization": f"Bearer {core.token}"},
        compression=Compression.Gzip,
        timeout=10,
    )


def otlp_events(client: httpx.Client) -> dict[str, dict[str, Any]]:
    r = client.get("/v1/usage", params={"source": "otlp", "limit": 100})
    assert r.status_code == 200, r.text
    return {e["model"]: e for e in r.json()["events"]}


def db_bytes(core: Core) -> bytes:
    """Everything SQLite has on disk: the database, its WAL and shared-memory index."""
    base = Path(core.settings.db_path)
    parts = [p.read_bytes() for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()]
    return b"".join(parts)


def test_real_exporter_protobuf_gzip(core: Core, client: httpx.Client) -> None:
    spans = record_spans(agent_run)
    assert len(spans) == 4
    assert exporter(core).export(spans) == SpanExportResult.SUCCESS

    events = otlp_events(client)
    assert set(events) == {"gpt-4o-mini-2024-07-18", "claude-sonnet-4-5", "gemini-2.5-flash"}

    new = events["gpt-4o-mini-2024-07-18"]  # current names; the response model wins
    assert new["provider"] == "openai"
    assert (new["input_tokens"], new["output_tokens"]) == (1200, 85)
    assert (new["cache_read_tokens"], new["reasoning_tokens"]) == (1024, 20)
    assert new["project"] == "acme-bot"  # project.name beats service.name
    assert new["agent"] == "planner"  # inherited from the invoke_agent parent
    assert new["priced"] and new["cost_usd"] > 0
    assert new["status"] is None and new["latency_ms"] is not None and new["latency_ms"] >= 0
    chat = next(s for s in spans if s.name == "chat gpt-4o-mini")
    trace_hex = f"{chat.context.trace_id:032x}"
    assert new["trace_id"] == trace_hex
    assert new["request_id"] == f"{trace_hex}:{chat.context.span_id:016x}"
    assert chat.start_time is not None
    started = dt.datetime.fromtimestamp(chat.start_time / 1e9, dt.UTC)
    assert new["timestamp"].startswith(started.strftime("%Y-%m-%dT%H:%M:%S"))

    old = events["claude-sonnet-4-5"]  # deprecated names
    assert old["provider"] == "anthropic"
    assert (old["input_tokens"], old["output_tokens"]) == (3000, 200)
    assert (old["cache_read_tokens"], old["cache_write_tokens"]) == (1000, 500)
    assert old["agent"] == "critic"  # its own gen_ai.agent.name beats the parent's

    failed = events["gemini-2.5-flash"]
    assert failed["provider"] == "google" and failed["status"] == "error"
    assert failed["tags"]["error_type"] == "RateLimitError"

    summary = client.get("/v1/summary", params={"source": "otlp"}).json()["total"]
    assert summary["calls"] == 3  # the agent span made none

    # The exporter retries and a collector may forward twice: the same spans are stored once.
    assert exporter(core).export(spans) == SpanExportResult.SUCCESS
    assert client.get("/v1/summary", params={"source": "otlp"}).json()["total"] == summary

    with sqlite3.connect(f"file:{core.settings.db_path}?mode=ro", uri=True) as db:
        (raw,) = db.execute(
            "SELECT raw_usage FROM events WHERE model = 'gpt-4o-mini-2024-07-18'"
        ).fetchone()
    assert json.loads(raw) == {
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 85,
        "gen_ai.usage.cache_read.input_tokens": 1024,
        "gen_ai.usage.reasoning.output_tokens": 20,
    }
    stored = db_bytes(core)
    assert b"acme-bot" in stored  # the check below reads real data
    assert PROMPT.encode() not in stored and COMPLETION.encode() not in stored


def test_partial_success_names_the_rejected_spans(core: Core, client: httpx.Client) -> None:
    def build(tracer: Any) -> None:
        with tracer.start_as_current_span(
            "good",
            attributes={
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5,
            },
        ):
            pass
        with tracer.start_as_current_span("no model", attributes={"gen_ai.usage.input_tokens": 7}):
            pass
        with tracer.start_as_current_span(
            "negative",
            attributes={"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": -3},
        ):
            pass
        with tracer.start_as_current_span("http GET", attributes={"http.method": "GET"}):
            pass

    body = encode_spans(record_spans(build)).SerializeToString()
    r = client.post("/v1/traces", content=body, headers=PROTOBUF)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-protobuf"
    reply = ExportTraceServiceResponse.FromString(r.content)
    assert reply.partial_success.rejected_spans == 2
    assert "gen_ai.response.model" in reply.partial_success.error_message
    assert "gen_ai.usage.input_tokens" in reply.partial_success.error_message
    assert list(otlp_events(client)) == ["gpt-4o"]

    # Everything valid: an empty response (no partial_success).
    again = client.post(
        "/v1/traces",
        content=encode_spans(record_spans(build)[:1]).SerializeToString(),
        headers=PROTOBUF,
    )
    assert again.status_code == 200 and again.content == b""


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _span(span_id: str, parent: str, attrs: dict[str, Any], status: int = 0) -> dict[str, Any]:
    return {
        "traceId": "ebafd7ce20b86ef2c3e343c19ce33c3e",
        "spanId": span_id,
        "parentSpanId": parent,
        "name": "span " + span_id,
        "kind": 3,
        "startTimeUnixNano": str(START_NS),
        "endTimeUnixNano": str(END_NS),
        "attributes": [_attr(k, v) for k, v in attrs.items()],
        "events": [
            {"name": "gen_ai.content.prompt", "attributes": [_attr("gen_ai.prompt", PROMPT)]}
        ],
        "status": {"code": status},
    }


def _resource_spans(resource: dict[str, str], spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resource": {"attributes": [_attr(k, v) for k, v in resource.items()]},
        "scopeSpans": [{"scope": {"name": "manual", "version": "1"}, "spans": spans}],
    }


def test_otlp_json(core: Core, client: httpx.Client) -> None:
    usage = {"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10}
    body = {
        "resourceSpans": [
            _resource_spans(
                {"service.name": "svc", "project.name": "proj", "spendtray.project": "explicit"},
                [
                    # An agent span that repeats its children's summed usage: not counted.
                    _span(
                        "1000000000000001",
                        "",
                        {
                            "gen_ai.operation.name": "invoke_agent",
                            "gen_ai.agent.name": "writer",
                            "gen_ai.request.model": "gpt-4o",
                            **usage,
                        },
                    ),
                    _span(
                        "1000000000000002",
                        "1000000000000001",
                        {"gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai", **usage},
                        status=2,
                    ),
                ],
            ),
            _resource_spans(
                {"service.name": "billing-bot"},
                [
                    # Anthropic's exclusive input forwarded as is: 3 < 7 cached, so 3 + 7.
                    _span(
                        "1000000000000003",
                        "",
                        {
                            "gen_ai.provider.name": "anthropic",
                            "gen_ai.response.model": "claude-haiku-4-5",
                            "gen_ai.usage.input_tokens": 3,
                            "gen_ai.usage.cache_read.input_tokens": 7,
                            "gen_ai.usage.output_tokens": 4,
                            "gen_ai.conversation.id": "conv-1",
                        },
                    ),
                ],
            ),
            _resource_spans(
                {"service.name": "unknown_service:python"},
                [_span("1000000000000004", "", {"gen_ai.request.model": "o3-mini", **usage})],
            ),
        ]
    }
    r = client.post("/v1/traces", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json") and r.json() == {}

    events = otlp_events(client)
    assert set(events) == {"gpt-4o", "claude-haiku-4-5", "o3-mini"}
    assert events["gpt-4o"]["project"] == "explicit"
    assert events["gpt-4o"]["agent"] == "writer" and events["gpt-4o"]["status"] == "error"
    assert events["gpt-4o"]["latency_ms"] == pytest.approx(1000.090682)
    started = dt.datetime.fromtimestamp(START_NS // 1_000_000 / 1000, dt.UTC)
    assert events["gpt-4o"]["timestamp"] == started.isoformat().replace("+00:00", "Z")
    assert events["gpt-4o"]["request_id"] == "ebafd7ce20b86ef2c3e343c19ce33c3e:1000000000000002"
    haiku = events["claude-haiku-4-5"]
    assert (haiku["input_tokens"], haiku["cache_read_tokens"]) == (10, 7)
    assert haiku["project"] == "billing-bot" and haiku["session"] == "conv-1"
    assert events["o3-mini"]["project"] == "default"

    # The same span in protobuf (ids as bytes) is the same event: JSON hex ids map identically.
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    span = scope.spans.add(
        trace_id=bytes.fromhex("ebafd7ce20b86ef2c3e343c19ce33c3e"),
        span_id=bytes.fromhex("1000000000000004"),
        name="again",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=START_NS,
        end_time_unix_nano=END_NS,
    )
    span.attributes.add(key="gen_ai.request.model").value.string_value = "o3-mini"
    span.attributes.add(key="gen_ai.usage.input_tokens").value.int_value = 100
    span.attributes.add(key="gen_ai.usage.output_tokens").value.int_value = 10
    r = client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)
    assert r.status_code == 200 and r.content == b""
    assert client.get("/v1/summary", params={"source": "otlp"}).json()["total"]["calls"] == 3

    # A JSON partial success answers in JSON, int64 as a string.
    bad = {
        "resourceSpans": [
            _resource_spans({}, [_span("2000000000000001", "", {"gen_ai.usage.input_tokens": 1})])
        ]
    }
    r = client.post("/v1/traces", json=bad)
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and "gen_ai.response.model" in partial["errorMessage"]
    assert PROMPT.encode() not in db_bytes(core)


def test_gzip_bomb_is_413_and_stores_nothing(core: Core, client: httpx.Client) -> None:
    limit = core.settings.max_body_bytes
    bomb = gzip.compress(b"\0" * (limit + 1), compresslevel=9)
    assert len(bomb) < limit // 100  # small on the wire, over the limit once inflated
    for path, media in (
        ("/v1/traces", "application/x-protobuf"),
        ("/v1/traces", "application/json"),
        ("/v1/integrations/litellm", "application/json"),
    ):
        r = client.post(
            path, content=bomb, headers={"Content-Type": media, "Content-Encoding": "gzip"}
        )
        assert r.status_code == 413, (path, r.text)
        assert "limit" in r.json()["error"]["message"]
    # A gzip body inside the limit is accepted.
    spans = encode_spans(record_spans(agent_run)).SerializeToString()
    r = client.post(
        "/v1/traces",
        content=gzip.compress(spans),
        headers={**PROTOBUF, "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.content == b""
    assert client.get("/v1/summary").json()["total"]["calls"] == 3


def test_large_export_is_decoded_off_the_loop(client: httpx.Client) -> None:
    def build(tracer: Any) -> None:
        for n in range(1500):
            with tracer.start_as_current_span(
                f"chat {n}",
                attributes={
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": n,
                    "gen_ai.usage.output_tokens": 1,
                },
            ):
                pass

    body = encode_spans(record_spans(build)).SerializeToString()
    assert len(body) > 128 * 1024
    r = client.post("/v1/traces", content=body, headers=PROTOBUF)
    assert r.status_code == 200 and r.content == b""
    total = client.get("/v1/summary", params={"source": "otlp"}).json()["total"]
    assert (total["calls"], total["input_tokens"]) == (1500, sum(range(1500)))


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"\xff\xff\xff\xff not protobuf", PROTOBUF, 400),
        (b"hello world", PROTOBUF, 400),  # parses as unknown fields only: still not a request
        (b"{not json", {"Content-Type": "application/json"}, 400),
        (b'{"resourceSpans": {}}', {"Content-Type": "application/json"}, 400),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400),
        (b"\x1f\x8b\x08\x00garbage", {**PROTOBUF, "Content-Encoding": "gzip"}, 400),
        (b"x", {"Content-Type": "text/plain"}, 415),
        (b"x", {"Content-Type": "application/grpc"}, 415),
        (b"", {**PROTOBUF, "Content-Encoding": "br"}, 415),
    ],
)
def test_bad_bodies(
    client: httpx.Client, body: bytes, headers: dict[str, str], status: int
) -> None:
    r = client.post("/v1/traces", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]
    assert client.get("/v1/summary").json()["total"]["calls"] == 0


def test_needs_the_token(core: Core) -> None:
    body = encode_spans(record_spans(agent_run)).SerializeToString()
    r = httpx.post(f"{core.url}/v1/traces", content=body, headers=PROTOBUF)
    assert r.status_code == 401
    r = httpx.post(
        f"{core.url}/v1/traces",
        content=body,
        headers={**PROTOBUF, "X-Spendtray-Token": core.token, "Origin": "https://evil.example"},
    )
    assert r.status_code == 403


def test_json_also_takes_proto3_json_spellings() -> None:
    """What ``MessageToDict`` writes: base64 ids, enum names, snake_case keys (accepted too)."""
    import base64

    from spendtray.receivers.otlp_wire import STATUS_ERROR, decode_json

    trace = bytes.fromhex("ebafd7ce20b86ef2c3e343c19ce33c3e")
    body = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": base64.b64encode(trace).decode(),
                                "span_id": base64.b64encode(b"\x00" * 7 + b"\x05").decode(),
                                "start_time_unix_nano": 1795320711891353276,
                                "status": {"code": "STATUS_CODE_ERROR"},
                                "attributes": [
                                    {"key": "gen_ai.usage.input_tokens", "value": {"int_value": 7}},
                                    {"key": "x", "value": {"doubleValue": "1.5"}},
                                    {"key": "skip", "value": {"arrayValue": {"values": []}}},
                                ],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    (span,) = decode_json(json.dumps(body).encode())
    assert span.trace_id == trace.hex() and span.span_id == "0000000000000005"
    assert span.start_ns == 1795320711891353276 and span.status_code == STATUS_ERROR
    assert span.attributes == {"gen_ai.usage.input_tokens": 7, "x": 1.5}
