"""Stored events -> OTLP log records. Pure; the export thread.

Why log records and not spans: a stored event is a fact at one moment with an id of its own
(the call is over; many come from log files with no trace to join), which is what a log record
is. A span would need a trace and span id we would have to invent and a duration most sources
do not have, and a backend would then draw made-up traces. Each record is an event named
``spendtray.usage`` with the GenAI semantic-convention attributes for what they cover
(``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.usage.*``, ``gen_ai.agent.name``,
``gen_ai.conversation.id``) and ``spendtray.*`` for the rest: project, machine, source, cost,
and ``spendtray.event.id`` — ``<machine id>:<event id>``, stable, so a record sent twice (the
export is at-least-once) can be recognised downstream.
"""

from __future__ import annotations

from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from spendtray import __version__

EVENT_NAME = "spendtray.usage"
SCOPE = InstrumentationScope("spendtray", __version__)

# stored column -> attribute, for the values copied as they are (None and "" are left out)
_ATTRIBUTES = (
    ("provider", "gen_ai.provider.name"),
    ("model", "gen_ai.request.model"),
    ("model", "gen_ai.response.model"),
    ("input_tokens", "gen_ai.usage.input_tokens"),
    ("output_tokens", "gen_ai.usage.output_tokens"),
    ("cache_read_tokens", "gen_ai.usage.cache_read.input_tokens"),
    ("cache_write_tokens", "gen_ai.usage.cache_creation.input_tokens"),
    ("reasoning_tokens", "gen_ai.usage.reasoning.output_tokens"),
    ("agent", "gen_ai.agent.name"),
    ("session", "gen_ai.conversation.id"),
    ("user", "user.id"),
    ("project", "spendtray.project"),
    ("machine", "spendtray.machine"),
    ("source", "spendtray.source"),
    ("request_id", "spendtray.request_id"),
    ("service_tier", "spendtray.service_tier"),
    ("status", "spendtray.status"),
    ("unpriced_reason", "spendtray.unpriced_reason"),
    ("latency_ms", "spendtray.latency_ms"),
)


def resource(machine_name: str) -> Resource:
    return Resource.create(
        {
            "service.name": "spendtray",
            "service.version": __version__,
            "spendtray.machine": machine_name,
        }
    )


def _usd(nanos: Any) -> float | None:
    return None if nanos is None else int(nanos) / 1e9


def log_record(row: dict[str, Any], machine_id: str, res: Resource) -> ReadableLogRecord:
    """The record of one stored event (a row of ``store.sync_state.local_events_after``)."""
    attributes: dict[str, Any] = {
        "event.name": EVENT_NAME,
        "spendtray.event.id": f"{machine_id}:{row['id']}",
        "spendtray.priced": bool(row["priced"]),
    }
    for column, name in _ATTRIBUTES:
        value = row.get(column)
        if value is not None and value != "":
            attributes[name] = value
    cost = _usd(row.get("cost_nanos"))
    if cost is not None:
        attributes["spendtray.cost_usd"] = cost
    reported = _usd(row.get("reported_cost_nanos"))
    if reported is not None:
        attributes["spendtray.reported_cost_usd"] = reported
    if row.get("batch"):
        attributes["spendtray.batch"] = True
    record = LogRecord(
        timestamp=int(row["ts"]) * 1_000_000,
        observed_timestamp=int(row["received_at"]) * 1_000_000,
        body=EVENT_NAME,
        attributes=attributes,
        event_name=EVENT_NAME,
    )
    return ReadableLogRecord(record, res, SCOPE)
