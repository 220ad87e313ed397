"""Coding agents' native OTLP log events -> canonical usage events (SPEC §11). Pure; runs
where ``otlp_signals`` ran (the event loop, or a thread-pool thread for large bodies).

One mapping per agent, each reading the attribute names its own documentation gives:

- Claude Code ``claude_code.api_request`` (``event.name = api_request``): ``model``,
  ``input_tokens`` (uncached, Anthropic's convention), ``cache_read_tokens``,
  ``cache_creation_tokens``, ``output_tokens``, ``cost_usd``, ``duration_ms``, ``session.id``,
  ``prompt.id``, ``event.sequence``, ``event.timestamp``. Values may arrive as strings.
- Codex ``codex.sse_event`` with ``event.kind = response.completed``: ``input_token_count``
  (cached included, OpenAI's convention), ``cached_token_count``, ``output_token_count``
  (reasoning included), ``reasoning_token_count``, ``model``, ``conversation.id``.
- Gemini CLI ``gemini_cli.api_response``: ``input_token_count`` (cached included),
  ``cached_content_token_count``, ``output_token_count`` and ``thoughts_token_count`` (separate,
  billed as output), ``tool_token_count`` (tool-use prompt, billed as input), ``model``,
  ``session.id``, ``prompt_id``.
- The GenAI semantic-convention event ``gen_ai.client.inference.operation.details`` (Copilot
  CLI, and any agent following the conventions): ``gen_ai.usage.*``, ``gen_ai.response.model``.
  Its record carries the trace and span ids of the model call's span, so its key is the one
  ``POST /v1/traces`` gives that span (``<traceId>:<spanId>``): a call exported both as a span
  and as an event is stored once.

Every other record (prompts, tool results, errors) is ignored, not rejected: it carries no
usage. Text attributes other than ids and names are never read — ``prompt``,
``response_text`` and the like stay out of the database whatever the agent's content settings.

Keys: an exporter that retries sends the same record again, so each event's ``request_id`` is
built from what identifies the call inside the agent (session + prompt + sequence for Claude
Code, the response id or span for the others). A call that also reaches Spendtray from the
agent's log files is matched by its ``call_key`` (``spendtray.ingest.call_keys``: Claude Code,
Codex, Gemini CLI; Copilot CLI's telemetry shares no documented id with its session log).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from spendtray.ingest.call_keys import claude_code_call_key, codex_call_key, gemini_call_key
from spendtray.ingest.event import MAX_TEXT, EventError, UsageEvent, normalize_event
from spendtray.receivers.common import token_value
from spendtray.receivers.otlp_signals import LogEvent
from spendtray.receivers.otlp_wire import Scalar

SOURCE = "otlp"
PROJECT_KEYS = ("spendtray.project", "project.name")


def _text(attrs: dict[str, Scalar], *keys: str) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_TEXT]
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _tokens(attrs: dict[str, Scalar], key: str) -> int:
    return token_value(attrs.get(key), key) or 0


def _number(attrs: dict[str, Scalar], key: str) -> float | None:
    value = attrs.get(key)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise EventError(key, f"must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _when(record: LogEvent) -> object:
    """The call's own time: ``event.timestamp`` (ISO-8601), else the record's time."""
    stamp = record.attributes.get("event.timestamp")
    if isinstance(stamp, str) and stamp:
        return stamp
    return record.time_ns / 1e9 if record.time_ns > 0 else None


def _project(record: LogEvent) -> str | None:
    return _text(record.attributes, *PROJECT_KEYS) or _text(record.resource, *PROJECT_KEYS)


def _event(fields: dict[str, object], now: dt.datetime) -> UsageEvent:
    return normalize_event({k: v for k, v in fields.items() if v is not None}, now, SOURCE)


def claude_code(record: LogEvent, now: dt.datetime) -> UsageEvent:
    attrs = record.attributes
    model = _text(attrs, "model")
    if model is None:
        raise EventError("model", "missing on claude_code.api_request")
    uncached = _tokens(attrs, "input_tokens")
    cache_read = _tokens(attrs, "cache_read_tokens")
    cache_write = _tokens(attrs, "cache_creation_tokens")
    session = _text(attrs, "session.id")
    sequence = _text(attrs, "event.sequence")
    prompt = _text(attrs, "prompt.id")
    total_input = uncached + cache_read + cache_write
    event = _event(
        {
            "model": model,
            "provider": "anthropic",
            "agent": "claude-code",
            "project": _project(record),
            "session": session,
            "input_tokens": total_input,
            "cache_read_tokens": cache_read,
            "cache_write_tokens": cache_write,
            "output_tokens": _tokens(attrs, "output_tokens"),
            "cost_usd": _number(attrs, "cost_usd"),
            "latency_ms": _number(attrs, "duration_ms"),
            "timestamp": _when(record),
            "request_id": (
                f"cc-otel:{session}:{prompt or ''}:{sequence}"[:MAX_TEXT]
                if session and sequence
                else None
            ),
            "tags": _tags(attrs, ("query_source", "speed", "effort")),
        },
        now,
    )
    event.call_key = claude_code_call_key(session, model, total_input, cache_read, cache_write)
    return event


def codex(record: LogEvent, now: dt.datetime) -> UsageEvent:
    attrs = record.attributes
    model = _text(attrs, "model", "slug")
    if model is None:
        raise EventError("model", "missing on codex.sse_event")
    conversation = _text(attrs, "conversation.id")
    input_tokens = _tokens(attrs, "input_token_count")
    cached = _tokens(attrs, "cached_token_count")
    output = _tokens(attrs, "output_token_count")
    reasoning = _tokens(attrs, "reasoning_token_count")
    stamp = _when(record)
    event = _event(
        {
            "model": model,
            "provider": _text(attrs, "model_provider") or "openai",
            "agent": "codex",
            "project": _project(record),
            "session": conversation,
            "input_tokens": max(input_tokens, cached),
            "cache_read_tokens": cached,
            "output_tokens": max(output, reasoning),
            "reasoning_tokens": reasoning,
            "latency_ms": _number(attrs, "duration_ms"),
            "timestamp": stamp,
            "request_id": (
                f"codex-otel:{conversation}:{stamp}:{input_tokens}:{output}"[:MAX_TEXT]
                if conversation and stamp is not None
                else None
            ),
        },
        now,
    )
    event.call_key = codex_call_key(
        conversation, event.counts.input_tokens, cached, event.counts.output_tokens, reasoning
    )
    return event


def gemini_cli(record: LogEvent, now: dt.datetime) -> UsageEvent:
    attrs = record.attributes
    model = _text(attrs, "model")
    if model is None:
        raise EventError("model", "missing on gemini_cli.api_response")
    # Older releases put session.id on the resource only.
    session = _text(attrs, "session.id") or _text(record.resource, "session.id")
    prompt = _text(attrs, "prompt_id")
    thoughts = _tokens(attrs, "thoughts_token_count")
    cached = _tokens(attrs, "cached_content_token_count")
    uncounted = _tokens(attrs, "input_token_count")
    tool = _tokens(attrs, "tool_token_count")
    output = _tokens(attrs, "output_token_count")
    prompt_tokens = uncounted + tool
    stamp = _when(record)
    status = _text(attrs, "status_code")
    event = _event(
        {
            "model": model,
            "provider": "google",
            "agent": "gemini-cli",
            "project": _project(record),
            "session": session,
            "input_tokens": max(prompt_tokens, cached),
            "cache_read_tokens": cached,
            "output_tokens": output + thoughts,
            "reasoning_tokens": thoughts,
            "latency_ms": _number(attrs, "duration_ms"),
            "timestamp": stamp,
            "status": status,
            "request_id": (
                f"gemini-otel:{session}:{prompt or ''}:{stamp}"[:MAX_TEXT]
                if session and stamp is not None
                else None
            ),
        },
        now,
    )
    event.call_key = gemini_call_key(session, uncounted, output, cached, thoughts, tool)
    return event


def _agent_from_service(record: LogEvent) -> str | None:
    service = _text(record.resource, "service.name") or ""
    lowered = service.lower()
    if "copilot" in lowered:
        return "copilot-cli"
    if "gemini" in lowered:
        return "gemini-cli"
    if "claude" in lowered:
        return "claude-code"
    if "codex" in lowered:
        return "codex"
    return service or None


def genai_inference(record: LogEvent, now: dt.datetime) -> UsageEvent:
    attrs = record.attributes
    model = _text(attrs, "gen_ai.response.model", "gen_ai.request.model")
    if model is None:
        raise EventError("gen_ai.response.model", "missing, and no gen_ai.request.model either")
    cache_read = _tokens(attrs, "gen_ai.usage.cache_read.input_tokens")
    cache_write = _tokens(attrs, "gen_ai.usage.cache_creation.input_tokens")
    reasoning = _tokens(attrs, "gen_ai.usage.reasoning.output_tokens")
    input_tokens = _tokens(attrs, "gen_ai.usage.input_tokens")
    output = _tokens(attrs, "gen_ai.usage.output_tokens")
    if record.trace_id and record.span_id:
        key: str | None = f"{record.trace_id}:{record.span_id}"
    else:
        response = _text(attrs, "gen_ai.response.id")
        key = f"genai-otel:{response}" if response else None
    return _event(
        {
            "model": model,
            "provider": _text(attrs, "gen_ai.provider.name", "gen_ai.system"),
            "agent": _text(attrs, "gen_ai.agent.name") or _agent_from_service(record),
            "project": _project(record),
            "session": _text(attrs, "gen_ai.conversation.id", "session.id"),
            "input_tokens": max(input_tokens, cache_read + cache_write),
            "cache_read_tokens": cache_read,
            "cache_write_tokens": cache_write,
            "output_tokens": max(output, reasoning),
            "reasoning_tokens": reasoning,
            "timestamp": _when(record),
            "trace_id": record.trace_id or None,
            "request_id": key,
        },
        now,
    )


def _is_codex_completion(record: LogEvent) -> bool:
    return record.attributes.get("event.kind") == "response.completed"


Mapper = Callable[[LogEvent, dt.datetime], UsageEvent]
# event name -> (mapping, which records of that name carry usage)
MAPPINGS: dict[str, tuple[Mapper, Callable[[LogEvent], bool]]] = {
    "claude_code.api_request": (claude_code, lambda r: True),
    "codex.sse_event": (codex, _is_codex_completion),
    "gemini_cli.api_response": (gemini_cli, lambda r: True),
    "gen_ai.client.inference.operation.details": (genai_inference, lambda r: True),
}


def _tags(attrs: dict[str, Scalar], keys: Sequence[str]) -> dict[str, str] | None:
    tags = {key: str(attrs[key])[:MAX_TEXT] for key in keys if key in attrs}
    return tags or None


def events_from_logs(
    records: Sequence[LogEvent], now: dt.datetime
) -> tuple[list[UsageEvent], list[str]]:
    """Usage events for the records that carry usage, and one reason per such record that could
    not become a valid event (the OTLP ``rejected_log_records``)."""
    events: list[UsageEvent] = []
    rejected: list[str] = []
    for record in records:
        mapping = MAPPINGS.get(record.name)
        if mapping is None or not mapping[1](record):
            continue
        try:
            events.append(mapping[0](record, now))
        except EventError as exc:
            rejected.append(f"{record.name}: {exc}")
    return events, rejected
