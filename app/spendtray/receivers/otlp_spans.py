"""OpenTelemetry GenAI spans -> canonical usage events. Pure; runs wherever ``otlp_wire`` ran
(the server's event loop, or a thread-pool thread for large bodies).

Attribute names differ by semantic-convention version and by library; every alias below is one
some instrumentation emits (research notes §6.2): the current names first, then the deprecated
ones, then vendor variants (OpenLLMetry ``llm.usage.*``, OpenLIT ``*_details.*``, Sentry
``input_tokens.cached``, the Anthropic SDK's own ``cache_write``).

Which spans count: a span carrying usage attributes, unless it is an agent, workflow or tool span
(``gen_ai.operation.name`` ``invoke_agent``/``create_agent``/``invoke_workflow``/
``execute_tool``, or an OpenLLMetry ``traceloop.span.kind`` of the same kind). Those parents
often repeat the summed usage of the model calls below them and would count it twice. Spans
without usage (most agent and tool spans, HTTP spans) are ignored, not rejected. A span that
carries usage but cannot become a valid event is rejected with a reason (OTLP partial success).

Attribution: project = span attribute ``spendtray.project``, else resource ``spendtray.project``,
``project.name``, ``service.name`` (not the SDK's ``unknown_service`` placeholder), else
``default``; agent = ``gen_ai.agent.name`` of the span or its nearest ancestor in the same
request; session = ``gen_ai.conversation.id`` (likewise inherited) or ``session.id``;
``request_id`` = ``<traceId>:<spanId>`` (the de-duplication key); status ``error``/``ok`` from
the span status (unset stays empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from spendtray.ingest.event import MAX_TEXT, EventError, UsageEvent, normalize_event
from spendtray.receivers.common import inclusive, token_value
from spendtray.receivers.otlp_wire import STATUS_ERROR, STATUS_OK, Scalar, SpanRecord

SOURCE = "otlp"

INPUT = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.usage.prompt_tokens",
)
OUTPUT = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.usage.completion_tokens",
)
CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.prompt_tokens_details.cached_tokens",
    "gen_ai.usage.input_tokens.cached",
    "llm.usage.cache_read_input_tokens",
)
CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.prompt_tokens_details.cache_creation_tokens",
    "gen_ai.usage.input_tokens.cache_write",
    "llm.usage.cache_creation_input_tokens",
)
CACHE_WRITE_5M = ("anthropic.usage.cache_creation.ephemeral_5m_input_tokens",)
CACHE_WRITE_1H = ("anthropic.usage.cache_creation.ephemeral_1h_input_tokens",)
REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.usage.completion_tokens_details.reasoning_tokens",
    "gen_ai.usage.output_tokens.reasoning",
    "llm.usage.reasoning_tokens",
)
TOTAL = ("gen_ai.usage.total_tokens", "llm.usage.total_tokens")
USAGE_KEYS = frozenset((*INPUT, *OUTPUT, *CACHE_READ, *CACHE_WRITE, *REASONING, *TOTAL))
# Numeric attributes under these prefixes are kept as the event's raw usage.
_RAW_PREFIXES = ("gen_ai.usage.", "llm.usage.", "anthropic.usage.")

MODEL = ("gen_ai.response.model", "gen_ai.request.model", "llm.response.model", "llm.request.model")
PROVIDER = ("gen_ai.provider.name", "gen_ai.system")
SERVICE_TIER = (
    "openai.response.service_tier",
    "gen_ai.openai.response.service_tier",
    "anthropic.response.service_tier",
    "openai.request.service_tier",
    "gen_ai.openai.request.service_tier",
    "anthropic.request.service_tier",
)
PROJECT_RESOURCE = ("spendtray.project", "project.name", "service.name")
PARENT_OPERATIONS = frozenset({"invoke_agent", "create_agent", "invoke_workflow", "execute_tool"})
PARENT_KINDS = frozenset({"workflow", "agent", "task", "tool"})
_MAX_ANCESTORS = 64


def _text(attrs: dict[str, Scalar], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _tokens(attrs: dict[str, Scalar], keys: Sequence[str]) -> int | None:
    for key in keys:
        if key in attrs:
            return token_value(attrs[key], key)
    return None


def is_inference(span: SpanRecord) -> bool:
    """Does this span stand for one model call whose usage we should record?"""
    attrs = span.attributes
    if not USAGE_KEYS.intersection(attrs):
        return False
    operation = attrs.get("gen_ai.operation.name")
    kind = attrs.get("traceloop.span.kind")
    return operation not in PARENT_OPERATIONS and kind not in PARENT_KINDS


class _Spans:
    """The spans of one request by id, to read what a model call inherits from its agent span."""

    def __init__(self, spans: Sequence[SpanRecord]) -> None:
        self.by_id = {(s.trace_id, s.span_id): s for s in spans if s.span_id}

    def inherited(self, span: SpanRecord, key: str) -> str | None:
        current: SpanRecord | None = span
        for _ in range(_MAX_ANCESTORS):
            if current is None:
                return None
            value = _text(current.attributes, (key,))
            if value is not None:
                return value
            current = self.by_id.get((current.trace_id, current.parent_span_id))
        return None


def _project(span: SpanRecord) -> str | None:
    own = _text(span.attributes, ("spendtray.project",))
    if own:
        return own
    for key in PROJECT_RESOURCE:
        value = _text(span.resource, (key,))
        # The SDK's placeholder when the app set no service.name names no project.
        if value and not (key == "service.name" and value.startswith("unknown_service")):
            return value
    return None


def _status(span: SpanRecord) -> str | None:
    if span.status_code == STATUS_ERROR:
        return "error"
    if span.status_code == STATUS_OK:
        return "ok"
    return None


def span_event(span: SpanRecord, spans: _Spans, now: dt.datetime) -> UsageEvent:
    """The usage event of one inference span; ``EventError`` names the attribute at fault."""
    attrs = span.attributes
    if not span.trace_id or not span.span_id:
        raise EventError("traceId/spanId", "missing or malformed; the span cannot be de-duplicated")
    model = _text(attrs, MODEL)
    if model is None:
        raise EventError("gen_ai.response.model", "missing, and no gen_ai.request.model either")
    input_tokens = _tokens(attrs, INPUT)
    if input_tokens is None:
        raise EventError(
            "gen_ai.usage.input_tokens",
            "missing (nor gen_ai.usage.prompt_tokens): the call's input cannot be priced",
        )
    cache_read = _tokens(attrs, CACHE_READ) or 0
    cache_write = _tokens(attrs, CACHE_WRITE) or 0
    output_tokens = _tokens(attrs, OUTPUT) or 0
    reasoning = _tokens(attrs, REASONING) or 0
    raw: dict[str, object] = {
        "model": model,
        "provider": _text(attrs, PROVIDER),
        "input_tokens": inclusive(input_tokens, cache_read + cache_write),
        "output_tokens": inclusive(output_tokens, reasoning),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "cache_write_5m_tokens": _tokens(attrs, CACHE_WRITE_5M),
        "cache_write_1h_tokens": _tokens(attrs, CACHE_WRITE_1H),
        "reasoning_tokens": reasoning,
        "project": _project(span),
        "agent": spans.inherited(span, "gen_ai.agent.name"),
        "session": spans.inherited(span, "gen_ai.conversation.id") or _text(attrs, ("session.id",)),
        "user": _text(attrs, ("user.id", "enduser.id")),
        "trace_id": span.trace_id,
        "request_id": f"{span.trace_id}:{span.span_id}",
        "service_tier": _text(attrs, SERVICE_TIER),
        "status": _status(span),
    }
    if span.start_ns > 0:
        raw["timestamp"] = span.start_ns / 1e9
        if span.end_ns >= span.start_ns:
            raw["latency_ms"] = (span.end_ns - span.start_ns) / 1e6
    cost = attrs.get("gen_ai.usage.cost")  # OpenLIT's own attribute: the cost it computed
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        raw["cost_usd"] = cost
    tags: dict[str, object] = {}
    for tag, value in (
        ("operation", _text(attrs, ("gen_ai.operation.name",))),
        ("scope", span.scope),
        ("error_type", _text(attrs, ("error.type",))),
    ):
        if value:
            tags[tag] = str(value)[:MAX_TEXT]
    if tags:
        raw["tags"] = tags
    event = normalize_event({k: v for k, v in raw.items() if v is not None}, now, SOURCE)
    event.raw_usage = {
        key: value
        for key, value in attrs.items()
        if key.startswith(_RAW_PREFIXES)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    }
    return event


def events_from_spans(
    records: Sequence[SpanRecord], now: dt.datetime
) -> tuple[list[UsageEvent], list[str]]:
    """Events for the inference spans, and one reason per span that carried usage but was
    invalid (those are the OTLP ``rejected_spans``)."""
    spans = _Spans(records)
    events: list[UsageEvent] = []
    rejected: list[str] = []
    for span in records:
        if not is_inference(span):
            continue
        try:
            events.append(span_event(span, spans, now))
        except EventError as exc:
            rejected.append(f"span {span.span_id or '?'} {span.name[:80]!r}: {exc}")
    return events, rejected
