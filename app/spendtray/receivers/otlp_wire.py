"""OTLP/HTTP trace bodies -> flat span records; and the OTLP replies. Pure functions, run on the
server's event loop for small bodies and on a Starlette thread-pool thread for large ones.

Two encodings of the same ``ExportTraceServiceRequest`` arrive (OTLP specification, "OTLP/HTTP"):

- binary protobuf (``application/x-protobuf``), what every Python exporter sends; decoded with the
  official generated classes of ``opentelemetry-proto``;
- OTLP/JSON (``application/json``), what JavaScript SDKs and curl users send. It is not plain
  proto3 JSON: trace and span ids are hex (we also take base64, what ``MessageToDict`` writes),
  64-bit integers are usually strings, enums are integers (names accepted too), keys are
  lowerCamelCase (snake_case accepted too).

Only scalar attribute values are kept (string, int, double, bool); arrays, maps and bytes are
skipped, and span events and links are never read: GenAI content (prompts, completions) lives in
exactly those places or in string attributes nobody here looks up.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from spendtray.server.guard import ApiError

Scalar = str | int | float | bool

STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


@dataclass(slots=True)
class SpanRecord:
    """One span, flattened: what the GenAI mapping needs and nothing else."""

    trace_id: str  # lower-case hex, "" when missing or malformed
    span_id: str
    parent_span_id: str
    name: str
    start_ns: int  # 0 when not set
    end_ns: int
    status_code: int  # STATUS_UNSET / STATUS_OK / STATUS_ERROR
    attributes: dict[str, Scalar]
    resource: dict[str, Scalar]  # shared by every span of one resource
    scope: str  # instrumentation scope name


# -- protobuf ------------------------------------------------------------------------------


def pb_attributes(pairs: Iterable[KeyValue]) -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    for pair in pairs:
        value = pair.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            out[pair.key] = value.string_value
        elif kind == "int_value":
            out[pair.key] = value.int_value
        elif kind == "double_value":
            out[pair.key] = value.double_value
        elif kind == "bool_value":
            out[pair.key] = value.bool_value
    return out


def pb_id(raw: bytes, size: int) -> str:
    return raw.hex() if len(raw) == size and any(raw) else ""


def decode_protobuf(body: bytes) -> list[SpanRecord]:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except Exception as exc:  # google.protobuf.message.DecodeError and upb's limits
        raise ApiError(400, f"body is not an OTLP ExportTraceServiceRequest: {exc}") from None
    if body and not request.resource_spans:
        raise ApiError(400, "body is not an OTLP ExportTraceServiceRequest: no resourceSpans")
    records: list[SpanRecord] = []
    for resource_spans in request.resource_spans:
        resource = pb_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for span in scope_spans.spans:
                records.append(
                    SpanRecord(
                        trace_id=pb_id(span.trace_id, 16),
                        span_id=pb_id(span.span_id, 8),
                        parent_span_id=pb_id(span.parent_span_id, 8),
                        name=span.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status_code=int(span.status.code),
                        attributes=pb_attributes(span.attributes),
                        resource=resource,
                        scope=scope,
                    )
                )
    return records


# -- OTLP/JSON -----------------------------------------------------------------------------


def json_get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    return obj[camel] if camel in obj else obj.get(snake)


def json_list(obj: dict[str, Any], camel: str, snake: str, where: str) -> list[Any]:
    value = json_get(obj, camel, snake)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(400, f"OTLP/JSON: {where}.{camel} must be an array")
    return value


def json_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, f"OTLP/JSON: {where} must be an object")
    return value


def json_int(value: Any) -> Any:
    """int64 as OTLP/JSON writes it (a decimal string) or as a number; anything else is kept as
    is so the field it feeds can say what is wrong with it."""
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return value
    return value


def json_attributes(pairs: list[Any], where: str) -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    for index, item in enumerate(pairs):
        pair = json_object(item, f"{where}[{index}]")
        key = pair.get("key")
        value = pair.get("value")
        if not isinstance(key, str) or not isinstance(value, dict):
            continue  # an empty AnyValue is legal; a keyless pair carries nothing we could use
        if "stringValue" in value or "string_value" in value:
            text = json_get(value, "stringValue", "string_value")
            if isinstance(text, str):
                out[key] = text
        elif "intValue" in value or "int_value" in value:
            number = json_int(json_get(value, "intValue", "int_value"))
            if isinstance(number, str | int | float) and not isinstance(number, bool):
                out[key] = number
        elif "doubleValue" in value or "double_value" in value:
            number = json_get(value, "doubleValue", "double_value")
            if isinstance(number, str):
                with contextlib.suppress(ValueError):
                    number = float(number)
            if isinstance(number, str | int | float) and not isinstance(number, bool):
                out[key] = number
        elif "boolValue" in value or "bool_value" in value:
            flag = json_get(value, "boolValue", "bool_value")
            if isinstance(flag, bool):
                out[key] = flag
    return out


def json_id(value: Any, size: int) -> str:
    """Hex (the OTLP/JSON rule) or base64 (proto3 JSON) -> lower-case hex; "" when neither."""
    if not isinstance(value, str) or not value:
        return ""
    if len(value) == 2 * size:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    return raw.hex() if len(raw) == size and any(raw) else ""


def json_time(value: Any) -> int:
    number = json_int(value)
    return number if isinstance(number, int) and not isinstance(number, bool) else 0


def _json_status(value: Any) -> int:
    if not isinstance(value, dict):
        return STATUS_UNSET
    code = value.get("code")
    if isinstance(code, str):
        code = _STATUS_NAMES.get(code.strip().upper(), json_int(code))
    return code if isinstance(code, int) and code in (0, 1, 2) else STATUS_UNSET


def json_request(body: bytes) -> dict[str, Any]:
    """The body's top-level OTLP/JSON object; 400 when it is not one."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise ApiError(400, "body is not UTF-8 text") from None
    except RecursionError:
        raise ApiError(400, "body is not valid JSON: nested too deeply") from None
    return json_object(data, "the body")


def decode_json(body: bytes) -> list[SpanRecord]:
    request = json_request(body)
    records: list[SpanRecord] = []
    for r, item in enumerate(json_list(request, "resourceSpans", "resource_spans", "body")):
        where = f"resourceSpans[{r}]"
        resource_spans = json_object(item, where)
        resource_obj = json_object(resource_spans.get("resource") or {}, f"{where}.resource")
        resource = json_attributes(
            json_list(resource_obj, "attributes", "attributes", f"{where}.resource"),
            f"{where}.resource.attributes",
        )
        for s, scope_item in enumerate(
            json_list(resource_spans, "scopeSpans", "scope_spans", where)
        ):
            scope_where = f"{where}.scopeSpans[{s}]"
            scope_spans = json_object(scope_item, scope_where)
            scope_obj = json_object(scope_spans.get("scope") or {}, f"{scope_where}.scope")
            scope_name = scope_obj.get("name")
            for n, span_item in enumerate(json_list(scope_spans, "spans", "spans", scope_where)):
                span_where = f"{scope_where}.spans[{n}]"
                span = json_object(span_item, span_where)
                name = span.get("name")
                records.append(
                    SpanRecord(
                        trace_id=json_id(json_get(span, "traceId", "trace_id"), 16),
                        span_id=json_id(json_get(span, "spanId", "span_id"), 8),
                        parent_span_id=json_id(json_get(span, "parentSpanId", "parent_span_id"), 8),
                        name=name if isinstance(name, str) else "",
                        start_ns=json_time(
                            json_get(span, "startTimeUnixNano", "start_time_unix_nano")
                        ),
                        end_ns=json_time(json_get(span, "endTimeUnixNano", "end_time_unix_nano")),
                        status_code=_json_status(span.get("status")),
                        attributes=json_attributes(
                            json_list(span, "attributes", "attributes", span_where),
                            f"{span_where}.attributes",
                        ),
                        resource=resource,
                        scope=scope_name if isinstance(scope_name, str) else "",
                    )
                )
    return records


# -- replies -------------------------------------------------------------------------------


def export_response(rejected: int, message: str, as_json: bool) -> bytes:
    """An ``ExportTraceServiceResponse``: empty on full success, ``partial_success`` otherwise.
    The JSON form follows the proto3 JSON mapping OTLP/JSON uses (int64 as a string)."""
    partial = bool(rejected or message)
    if as_json:
        body: dict[str, Any] = {}
        if partial:
            body["partialSuccess"] = {"rejectedSpans": str(rejected), "errorMessage": message}
        return json.dumps(body, separators=(",", ":")).encode()
    response = ExportTraceServiceResponse()
    if partial:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=rejected, error_message=message)
        )
    return bytes(response.SerializeToString())
