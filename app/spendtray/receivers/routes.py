"""The receiver routes: ``POST /v1/traces`` (OTLP/HTTP) and ``POST /v1/integrations/litellm``.

Handlers run on the server's event loop behind the same ``Guard`` as every other route (loopback
Host, no foreign Origin, token). Decoding, mapping and pricing run inline for small bodies and
on Starlette's thread pool for large ones; the commit then goes through the core's
``CommitBatcher`` on the loop, together with ``POST /v1/usage``, so a 2xx is only sent once the
events are committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spendtray.ingest.event import EventError
from spendtray.ingest.service import BatchError, IngestService, PricedEvent
from spendtray.receivers.common import inflate
from spendtray.receivers.litellm_payload import payload_event
from spendtray.receivers.otlp_spans import events_from_spans
from spendtray.receivers.otlp_wire import decode_json, decode_protobuf, export_response
from spendtray.server.guard import ApiError, Guard, error_response, read_body
from spendtray.server.payload import decode_events
from spendtray.store.rows import EventRow

if TYPE_CHECKING:
    from spendtray.core import Core

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
LITELLM_PATH = "/v1/integrations/litellm"
PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
PROTOBUF = "application/x-protobuf"
# Bodies above this are decoded, mapped and priced off the event loop.
_INLINE_BYTES = 128 * 1024
_SHOWN_REJECTIONS = 5

T = TypeVar("T")
Prepared = tuple[list[EventRow], list[PricedEvent]]


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
) -> tuple[list[EventRow], list[PricedEvent], list[str]]:
    data = inflate(body, encoding, limit)
    spans = decode_json(data) if as_json else decode_protobuf(data)
    events, rejected = events_from_spans(spans, service.clock())
    rows, priced = service.prepare_events(events)
    return rows, priced, rejected


def _litellm(
    service: IngestService, body: bytes, encoding: str | None, media: str, limit: int
) -> Prepared:
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


def _rejection_message(rejected: list[str]) -> str:
    if not rejected:
        return ""
    shown = "; ".join(rejected[:_SHOWN_REJECTIONS])
    more = len(rejected) - _SHOWN_REJECTIONS
    suffix = f"; and {more} more" if more > 0 else ""
    return f"{len(rejected)} GenAI span(s) not recorded: {shown}{suffix}"


def build_routes(core: Core) -> list[BaseRoute]:
    settings = core.settings
    guard = Guard(core.token, settings.require_token, settings.allowed_origins)
    service = core.service
    batcher = core.batcher
    limit = settings.max_body_bytes

    async def off_loop_if_big(size: int, fn: Callable[..., T], *args: Any) -> T:
        if size > _INLINE_BYTES:
            return await run_in_threadpool(fn, *args)
        return fn(*args)

    async def post_traces(request: Request) -> Response:
        media = _otlp_media(request)
        as_json = media != PROTOBUF
        body = await read_body(request, limit)
        encoding = request.headers.get("content-encoding")
        rows, _, rejected = await off_loop_if_big(
            len(body), _traces, service, body, encoding, as_json, limit
        )
        if rows:
            await batcher.commit(rows)
        message = _rejection_message(rejected)
        if rejected:
            log.warning("OTLP: %s", message)
        return Response(
            export_response(len(rejected), message, as_json),
            media_type="application/json" if as_json else PROTOBUF,
        )

    async def post_litellm(request: Request) -> Response:
        media = guard.json_content_type(request)
        body = await read_body(request, limit)
        encoding = request.headers.get("content-encoding")
        try:
            rows, priced = await off_loop_if_big(
                len(body), _litellm, service, body, encoding, media, limit
            )
        except BatchError as exc:
            return error_response(400, f"nothing stored: {exc}", exc.details())
        outcomes = await batcher.commit(rows)
        result = service.result(priced, outcomes)
        budget: dict[str, Any] = {}
        if core.budget_status is not None:
            budget = core.budget_status(result.projects)
        return JSONResponse(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "events": result.events,
                "budget": budget,
            },
            status_code=202,
        )

    return [
        Route(TRACES_PATH, guard.protect(post_traces), methods=["POST"]),
        Route(LITELLM_PATH, guard.protect(post_litellm), methods=["POST"]),
    ]
