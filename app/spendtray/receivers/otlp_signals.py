"""OTLP/HTTP log and metric bodies -> flat records. Pure functions, run on the server's event
loop for small bodies and on a Starlette thread-pool thread for large ones.

The same two encodings as traces (``otlp_wire``): binary protobuf decoded with the official
generated classes of ``opentelemetry-proto``, and OTLP/JSON (hex ids, int64 as strings,
lowerCamelCase keys, snake_case accepted too).

Only what usage needs is kept: a log record's event name, time and scalar attributes (never its
body text beyond a short event name: agents put prompts there when content logging is on), and
a metric point's name, attributes, value, window and temporality. Histograms keep their sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from spendtray.receivers.otlp_wire import (
    Scalar,
    json_attributes,
    json_get,
    json_id,
    json_int,
    json_list,
    json_object,
    json_request,
    json_time,
    pb_attributes,
    pb_id,
)
from spendtray.server.guard import ApiError

# A log body longer than this is content, not an event name: it is never read.
_MAX_EVENT_NAME = 128
DELTA, CUMULATIVE = 1, 2


@dataclass(slots=True)
class LogEvent:
    """One OTLP log record, flattened to what the agent mappings read."""

    name: str  # the event name: ``event_name``, else attribute ``event.name``, else a short body
    time_ns: int  # 0 when not set
    attributes: dict[str, Scalar]
    resource: dict[str, Scalar]
    scope: str
    trace_id: str = ""  # lower-case hex of the span the record was emitted in, "" when none
    span_id: str = ""


@dataclass(slots=True)
class MetricPoint:
    """One number of one metric stream: a sum/gauge data point, or a histogram's sum."""

    name: str
    attributes: dict[str, Scalar]
    resource: dict[str, Scalar]
    value: float
    start_ns: int
    time_ns: int
    temporality: int  # DELTA, CUMULATIVE, or 0 for gauges


def _event_name(explicit: str, attributes: dict[str, Scalar], body: object) -> str:
    if explicit:
        return explicit
    named = attributes.get("event.name")
    if isinstance(named, str) and named:
        return named
    if isinstance(body, str) and 0 < len(body) <= _MAX_EVENT_NAME and " " not in body:
        return body
    return ""


def _qualified(name: str, body: object) -> str:
    """Claude Code writes ``event.name = api_request`` and the body ``claude_code.api_request``;
    the body's prefixed form names the agent, so it wins when it ends with the short name."""
    if isinstance(body, str) and "." in body and body.endswith("." + name):
        return body
    return name


# -- protobuf ------------------------------------------------------------------------------


def decode_logs_protobuf(body: bytes) -> list[LogEvent]:
    request = ExportLogsServiceRequest()
    try:
        request.ParseFromString(body)
    except Exception as exc:  # google.protobuf.message.DecodeError and upb's limits
        raise ApiError(400, f"body is not an OTLP ExportLogsServiceRequest: {exc}") from None
    if body and not request.resource_logs:
        raise ApiError(400, "body is not an OTLP ExportLogsServiceRequest: no resourceLogs")
    events: list[LogEvent] = []
    for resource_logs in request.resource_logs:
        resource = pb_attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope.name
            for record in scope_logs.log_records:
                attributes = pb_attributes(record.attributes)
                text = (
                    record.body.string_value
                    if record.body.WhichOneof("value") == "string_value"
                    else None
                )
                short = text if text is not None and len(text) <= _MAX_EVENT_NAME else None
                name = _event_name(record.event_name, attributes, short)
                events.append(
                    LogEvent(
                        name=_qualified(name, short),
                        time_ns=record.time_unix_nano or record.observed_time_unix_nano,
                        attributes=attributes,
                        resource=resource,
                        scope=scope,
                        trace_id=pb_id(record.trace_id, 16),
                        span_id=pb_id(record.span_id, 8),
                    )
                )
    return events


def decode_metrics_protobuf(body: bytes) -> list[MetricPoint]:
    request = ExportMetricsServiceRequest()
    try:
        request.ParseFromString(body)
    except Exception as exc:
        raise ApiError(400, f"body is not an OTLP ExportMetricsServiceRequest: {exc}") from None
    if body and not request.resource_metrics:
        raise ApiError(400, "body is not an OTLP ExportMetricsServiceRequest: no resourceMetrics")
    points: list[MetricPoint] = []
    for resource_metrics in request.resource_metrics:
        resource = pb_attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind in ("sum", "gauge"):
                    data = metric.sum if kind == "sum" else metric.gauge
                    temporality = int(metric.sum.aggregation_temporality) if kind == "sum" else 0
                    for point in data.data_points:
                        which = point.WhichOneof("value")
                        value = float(point.as_int if which == "as_int" else point.as_double)
                        points.append(
                            MetricPoint(
                                metric.name,
                                pb_attributes(point.attributes),
                                resource,
                                value,
                                point.start_time_unix_nano,
                                point.time_unix_nano,
                                temporality,
                            )
                        )
                elif kind == "histogram":
                    temporality = int(metric.histogram.aggregation_temporality)
                    for hpoint in metric.histogram.data_points:
                        points.append(
                            MetricPoint(
                                metric.name,
                                pb_attributes(hpoint.attributes),
                                resource,
                                float(hpoint.sum),
                                hpoint.start_time_unix_nano,
                                hpoint.time_unix_nano,
                                temporality,
                            )
                        )
    return points


# -- OTLP/JSON -----------------------------------------------------------------------------


def _json_resource(item: dict[str, Any], where: str) -> dict[str, Scalar]:
    resource_obj = json_object(item.get("resource") or {}, f"{where}.resource")
    return json_attributes(
        json_list(resource_obj, "attributes", "attributes", f"{where}.resource"),
        f"{where}.resource.attributes",
    )


def _json_body_text(record: dict[str, Any]) -> str | None:
    body = record.get("body")
    if not isinstance(body, dict):
        return None
    text = json_get(body, "stringValue", "string_value")
    return text if isinstance(text, str) and len(text) <= _MAX_EVENT_NAME else None


def decode_logs_json(body: bytes) -> list[LogEvent]:
    request = json_request(body)
    events: list[LogEvent] = []
    for r, item in enumerate(json_list(request, "resourceLogs", "resource_logs", "body")):
        where = f"resourceLogs[{r}]"
        resource_logs = json_object(item, where)
        resource = _json_resource(resource_logs, where)
        for s, scope_item in enumerate(json_list(resource_logs, "scopeLogs", "scope_logs", where)):
            scope_where = f"{where}.scopeLogs[{s}]"
            scope_logs = json_object(scope_item, scope_where)
            scope_obj = json_object(scope_logs.get("scope") or {}, f"{scope_where}.scope")
            scope_name = scope_obj.get("name")
            for n, record_item in enumerate(
                json_list(scope_logs, "logRecords", "log_records", scope_where)
            ):
                record_where = f"{scope_where}.logRecords[{n}]"
                record = json_object(record_item, record_where)
                attributes = json_attributes(
                    json_list(record, "attributes", "attributes", record_where),
                    f"{record_where}.attributes",
                )
                explicit = json_get(record, "eventName", "event_name")
                short = _json_body_text(record)
                name = _event_name(explicit if isinstance(explicit, str) else "", attributes, short)
                time_ns = json_time(json_get(record, "timeUnixNano", "time_unix_nano")) or (
                    json_time(json_get(record, "observedTimeUnixNano", "observed_time_unix_nano"))
                )
                events.append(
                    LogEvent(
                        name=_qualified(name, short),
                        time_ns=time_ns,
                        attributes=attributes,
                        resource=resource,
                        scope=scope_name if isinstance(scope_name, str) else "",
                        trace_id=json_id(json_get(record, "traceId", "trace_id"), 16),
                        span_id=json_id(json_get(record, "spanId", "span_id"), 8),
                    )
                )
    return events


def _json_number(point: dict[str, Any]) -> float | None:
    for camel, snake in (("asInt", "as_int"), ("asDouble", "as_double"), ("sum", "sum")):
        value = json_get(point, camel, snake)
        if value is None:
            continue
        number = json_int(value) if camel == "asInt" else value
        if isinstance(number, str):
            try:
                number = float(number)
            except ValueError:
                return None
        if isinstance(number, int | float) and not isinstance(number, bool):
            return float(number)
    return None


def _json_temporality(data: dict[str, Any]) -> int:
    value = json_get(data, "aggregationTemporality", "aggregation_temporality")
    if isinstance(value, str):
        named = {
            "AGGREGATION_TEMPORALITY_DELTA": DELTA,
            "AGGREGATION_TEMPORALITY_CUMULATIVE": CUMULATIVE,
        }
        value = named.get(value.strip().upper(), json_int(value))
    return value if isinstance(value, int) and value in (DELTA, CUMULATIVE) else 0


def decode_metrics_json(body: bytes) -> list[MetricPoint]:
    request = json_request(body)
    points: list[MetricPoint] = []
    for r, item in enumerate(json_list(request, "resourceMetrics", "resource_metrics", "body")):
        where = f"resourceMetrics[{r}]"
        resource_metrics = json_object(item, where)
        resource = _json_resource(resource_metrics, where)
        for s, scope_item in enumerate(
            json_list(resource_metrics, "scopeMetrics", "scope_metrics", where)
        ):
            scope_where = f"{where}.scopeMetrics[{s}]"
            scope_metrics = json_object(scope_item, scope_where)
            for m, metric_item in enumerate(
                json_list(scope_metrics, "metrics", "metrics", scope_where)
            ):
                metric_where = f"{scope_where}.metrics[{m}]"
                metric = json_object(metric_item, metric_where)
                name = metric.get("name")
                if not isinstance(name, str):
                    continue
                for kind in ("sum", "gauge", "histogram"):
                    if kind not in metric:
                        continue
                    data = json_object(metric[kind], f"{metric_where}.{kind}")
                    temporality = 0 if kind == "gauge" else _json_temporality(data)
                    for p, point_item in enumerate(
                        json_list(data, "dataPoints", "data_points", f"{metric_where}.{kind}")
                    ):
                        point_where = f"{metric_where}.{kind}.dataPoints[{p}]"
                        point = json_object(point_item, point_where)
                        value = _json_number(point)
                        if value is None:
                            continue
                        points.append(
                            MetricPoint(
                                name,
                                json_attributes(
                                    json_list(point, "attributes", "attributes", point_where),
                                    f"{point_where}.attributes",
                                ),
                                resource,
                                value,
                                json_time(
                                    json_get(point, "startTimeUnixNano", "start_time_unix_nano")
                                ),
                                json_time(json_get(point, "timeUnixNano", "time_unix_nano")),
                                temporality,
                            )
                        )
    return points


# -- replies -------------------------------------------------------------------------------


def logs_response(rejected: int, message: str, as_json: bool) -> bytes:
    """An ``ExportLogsServiceResponse``: empty on full success, ``partial_success`` otherwise."""
    if as_json:
        return _json_reply("rejectedLogRecords", rejected, message)
    response = ExportLogsServiceResponse()
    if rejected or message:
        response.partial_success.CopyFrom(
            ExportLogsPartialSuccess(rejected_log_records=rejected, error_message=message)
        )
    return bytes(response.SerializeToString())


def metrics_response(rejected: int, message: str, as_json: bool) -> bytes:
    """An ``ExportMetricsServiceResponse``: empty on full success, ``partial_success`` else."""
    if as_json:
        return _json_reply("rejectedDataPoints", rejected, message)
    response = ExportMetricsServiceResponse()
    if rejected or message:
        response.partial_success.CopyFrom(
            ExportMetricsPartialSuccess(rejected_data_points=rejected, error_message=message)
        )
    return bytes(response.SerializeToString())


def _json_reply(key: str, rejected: int, message: str) -> bytes:
    import json

    body: dict[str, Any] = {}
    if rejected or message:
        body["partialSuccess"] = {key: str(rejected), "errorMessage": message}
    return json.dumps(body, separators=(",", ":")).encode()
