"""The receiver routes: ``POST /v1/traces``, ``/v1/logs``, ``/v1/metrics`` (OTLP/HTTP) and
``POST /v1/integrations/litellm``.

Handlers run on the server's event loop behind the same ``Guard`` as every other route (loopback
Host, no foreign Origin, token). Decoding, mapping and pricing run inline for small bodies and
on Starlette's thread pool for large ones; the commit then goes through the core's
``CommitBatcher`` on the loop, together with ``POST /v1/usage``, so a 2xx is only sent once the
events are committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spendtray.ingest.event import DEFAULT_PROJECT, EventError, UsageEvent
from spendtray.ingest.service import BatchError, IngestService
from spendtray.receivers.agent_logs import events_from_logs
from spendtray.receivers.agent_metrics import window_event, windows_from_points
from spendtray.receivers.common import inflate
from spendtray.receivers.litellm_payload import payload_event
from spendtray.receivers.otlp_signals import (
    decode_logs_json,
    decode_logs_protobuf,
    decode_metrics_json,
    decode_metrics_protobuf,
    logs_response,
    metrics_response,
)
from spendtray.receivers.otlp_spans import events_from_spans
from spendtray.receivers.otlp_wire import decode_json, decode_protobuf, export_response
from spendtray.server.guard import ApiError, Guard, Handler, error_response, read_body
from spendtray.server.payload import decode_events
from spendtray.server.usage_endpoint import committed_budget
from spendtray.store.reader import Reader
from spendtray.store.rows import EventRow
from spendtray.store.telemetry import projects_of_sessions, sessions_with_calls

if TYPE_CHECKING:
    from spendtray.core import Core

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
LOGS_PATH = "/v1/logs"
METRICS_PATH = "/v1/metrics"
# How far back a session's stored events are looked at (its project; whether it has
# per-request events): agents' sessions rarely run longer.
_SESSION_LOOKBACK_MS = 7 * 86_400_000
LITELLM_PATH = "/v1/integrations/litellm"
PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
PROTOBUF = "application/x-protobuf"
# Bodies above this are decoded, mapped and priced off the event loop.
_INLINE_BYTES = 128 * 1024
_SHOWN_REJECTIONS = 5

T = TypeVar("T")


def _otlp_media(request: Request) -> str:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media in PROTOBUF_TYPES:
        return PROTOBUF
    if media == "application/json":
        return media
    raise ApiError(
        415,
        f"unsupported content type {media or 'none'!r}: OTLP/HTTP is application/x-protobuf "
        "or application/json",
    )


def _traces(
    service: IngestService, body: bytes, encoding: str | None, as_json: bool, limit: int
) -> tuple[list[EventRow], list[str]]:
    data = inflate(body, encoding, limit)
    spans = decode_json(data) if as_json else decode_protobuf(data)
    events, rejected = events_from_spans(spans, service.clock())
    return _within_bounds(service, events, rejected), rejected


def _with_session_projects(reader: Reader, events: list[UsageEvent]) -> None:
    """Telemetry names the session, rarely the project: take the project that session's other
    events (e.g. imported from the agent's log files, mapped from its working directory) have."""
    unattributed = [e for e in events if e.project == DEFAULT_PROJECT and e.session]
    if not unattributed:
        return
    since = min(int(e.timestamp.timestamp() * 1000) for e in unattributed) - _SESSION_LOOKBACK_MS
    found = projects_of_sessions(
        reader.conn(), {str(e.session) for e in unattributed}, since, DEFAULT_PROJECT
    )
    for event in unattributed:
        event.project = found.get(str(event.session), event.project)


def _within_bounds(
    service: IngestService, events: list[UsageEvent], rejected: list[str]
) -> list[EventRow]:
    """Rows of the events within the ingest bounds; the others are named in ``rejected`` (OTLP
    answers partial success)."""
    refused: list[tuple[int, EventError]] = []
    prepared = service.prepare_events(events, refused)
    rejected.extend(f"{events[index].model}: {error}" for index, error in refused)
    return prepared


def _logs(
    service: IngestService,
    reader: Reader,
    body: bytes,
    encoding: str | None,
    as_json: bool,
    limit: int,
) -> tuple[list[EventRow], list[str]]:
    data = inflate(body, encoding, limit)
    records = decode_logs_json(data) if as_json else decode_logs_protobuf(data)
    events, rejected = events_from_logs(records, service.clock())
    _with_session_projects(reader, events)
    rows = _within_bounds(service, events, rejected)
    return rows, rejected


def _metrics(
    service: IngestService,
    reader: Reader,
    body: bytes,
    encoding: str | None,
    as_json: bool,
    limit: int,
) -> tuple[list[EventRow], list[str]]:
    data = inflate(body, encoding, limit)
    points = decode_metrics_json(data) if as_json else decode_metrics_protobuf(data)
    windows, rejected = windows_from_points(points)
    sessions = {w.session for w in windows if w.session}
    if sessions:
        since = min(w.start_ns or w.time_ns for w in windows) // 1_000_000 - _SESSION_LOOKBACK_MS
        covered = sessions_with_calls(reader.conn(), sessions, since)
        windows = [w for w in windows if w.session not in covered]
    now = service.clock()
    events: list[UsageEvent] = []
    for window in windows:
        try:
            events.append(window_event(window, now))
        except EventError as exc:
            rejected.append(f"{window.model}: {exc}")
    _with_session_projects(reader, events)
    rows = _within_bounds(service, events, rejected)
    return rows, rejected


def _litellm(
    service: IngestService, body: bytes, encoding: str | None, media: str, limit: int
) -> list[EventRow]:
    data = inflate(body, encoding, limit)
    items = decode_events(data, media)
    now = service.clock()
    events = []
    for index, item in enumerate(items):
        try:
            events.append(payload_event(item, now))
        except EventError as exc:
            raise BatchError(index, exc) from None
    return service.prepare_events(events)


def _rejection_message(rejected: list[str], what: str) -> str:
    if not rejected:
        return ""
    shown = "; ".join(rejected[:_SHOWN_REJECTIONS])
    more = len(rejected) - _SHOWN_REJECTIONS
    suffix = f"; and {more} more" if more > 0 else ""
    return f"{len(rejected)} {what} not recorded: {shown}{suffix}"


class ReceiverHandlers(NamedTuple):
    traces: Handler
    logs: Handler
    metrics: Handler
    litellm: Handler


def receiver_handlers(core: Core) -> ReceiverHandlers:
    """The receivers' handlers: events through ``core.ingest``, committed by its batcher."""
    settings = core.settings
    service = core.ingest
    batcher = core.batcher
    budget_status = core.budgets.ingest_status
    limit = settings.max_body_bytes

    async def off_loop_if_big(size: int, fn: Callable[..., T], *args: Any) -> T:
        if size > _INLINE_BYTES:
            return await run_in_threadpool(fn, *args)
        return fn(*args)

    Prepared = tuple[list[EventRow], list[str]]

    def otlp_route(
        prepare: Callable[[bytes, str | None, bool], Awaitable[Prepared]],
        reply: Callable[[int, str, bool], bytes],
        what: str,
    ) -> Handler:
        """An OTLP/HTTP export route: decode and map with ``prepare``, commit, and answer the
        signal's export response (partial success naming what was not recorded)."""

        async def post(request: Request) -> Response:
            as_json = _otlp_media(request) != PROTOBUF
            body = await read_body(request, limit)
            rows, rejected = await prepare(body, request.headers.get("content-encoding"), as_json)
            if rows:
                await batcher.commit(rows)
            message = _rejection_message(rejected, what)
            if rejected:
                log.warning("OTLP: %s", message)
            return Response(
                reply(len(rejected), message, as_json),
                media_type="application/json" if as_json else PROTOBUF,
            )

        return post

    async def traces(body: bytes, encoding: str | None, as_json: bool) -> Prepared:
        return await off_loop_if_big(len(body), _traces, service, body, encoding, as_json, limit)

    # Logs and metrics go off the loop whatever their size: mapping reads stored sessions.
    async def logs(body: bytes, encoding: str | None, as_json: bool) -> Prepared:
        return await run_in_threadpool(_logs, service, core.reader, body, encoding, as_json, limit)

    async def metrics(body: bytes, encoding: str | None, as_json: bool) -> Prepared:
        return await run_in_threadpool(
            _metrics, service, core.reader, body, encoding, as_json, limit
        )

    post_traces = otlp_route(traces, export_response, "GenAI span(s)")
    post_logs = otlp_route(logs, logs_response, "usage log record(s)")
    post_metrics = otlp_route(metrics, metrics_response, "usage data point(s)")

    async def post_litellm(request: Request) -> Response:
        media = Guard.json_content_type(request)
        body = await read_body(request, limit)
        encoding = request.headers.get("content-encoding")
        try:
            rows = await off_loop_if_big(len(body), _litellm, service, body, encoding, media, limit)
        except BatchError as exc:
            return error_response(400, f"nothing stored: {exc}", exc.details())
        outcomes = await batcher.commit(rows)
        result = service.result(rows, outcomes)
        budget = committed_budget(budget_status, result.projects)
        return JSONResponse(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "events": result.events,
                "budget": budget,
            },
            status_code=202,
        )

    return ReceiverHandlers(post_traces, post_logs, post_metrics, post_litellm)
