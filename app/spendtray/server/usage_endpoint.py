"""``POST /v1/usage`` as a plain ASGI endpoint placed in front of the Starlette app, and as
the route the server's connection protocol answers without ASGI (``http_protocol.DirectRoute``).

Runs on the server's event loop thread. Ingest is the one route whose rate matters (an agent
fleet posts every call), and Starlette's middleware, router and Request/Response objects cost
about a quarter of a single-event POST. This endpoint answers that one method and path itself
and hands every other request to the Starlette app unchanged. The checks are the same
functions every other route uses (``guard``), so the two paths cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from spendtray.config import Settings
from spendtray.ingest.service import BatchError, IngestService, stored_event
from spendtray.receivers.common import inflate
from spendtray.server.commit_batcher import CommitBatcher
from spendtray.server.guard import (
    ApiError,
    Guard,
    answer_error,
    check_declared_length,
    error_body,
    json_media_type,
    receive_body,
    scope_headers,
)
from spendtray.server.http_protocol import DirectRoute, Exchange
from spendtray.server.payload import decode_events
from spendtray.store.rows import EventRow
from spendtray.store.writer import WriteOutcome

log = logging.getLogger(__name__)

# The budget object for the projects of committed events whose ids go up to the int (None:
# not known), e.g. ``BudgetService.ingest_status``.
BudgetStatus = Callable[[frozenset[str], int | None], dict[str, Any]]


def committed_budget(
    status: BudgetStatus | None, projects: frozenset[str], through: int | None = None
) -> dict[str, Any]:
    """The budget object of a reply to events already committed (with ids up to ``through``).
    Whatever goes wrong reading it is logged and said in the object: answering 5xx would make
    a client that sends no request ids retry, and count the events twice."""
    if status is None:
        return {}
    try:
        return status(projects, through)
    except Exception:
        log.exception("budget status after a commit failed")
        return {"error": "budget status unavailable; see the spendtray log"}


# Large batches are validated and priced off the event loop so small requests keep flowing.
INLINE_EVENTS = 200
_JSON = (b"content-type", b"application/json")


class UsageEndpoint(DirectRoute):
    """ASGI app: ``POST /v1/usage`` here, everything else to ``app``. The server's protocol
    answers the plain ``POST /v1/usage`` itself through the ``DirectRoute`` methods; other
    spellings of it (a query string, an encoded path) come through ``__call__``. Both run
    the same steps (``_check``, ``_events``, ``_accepted``, ``_refused``)."""

    PATH = "/v1/usage"  # spelled out in ``__call__``: an attribute lookup per request
    method = b"POST"
    path = b"/v1/usage"

    def __init__(
        self,
        app: ASGIApp,
        guard: Guard,
        settings: Settings,
        service: IngestService,
        batcher: CommitBatcher,
        budget_status: BudgetStatus | None,
    ) -> None:
        self.app = app
        self.guard = guard
        self.settings = settings
        self.service = service
        self.batcher = batcher
        self.budget_status = budget_status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/usage" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            status, payload = await self._ingest(scope, receive)
            headers = _HEADERS
        except ClientDisconnect:
            return
        except Exception as exc:
            status, payload, headers = self._refused(exc)
        # Encoded with orjson and sent straight to ``send``: the JSON encoding and the
        # Response object were a tenth of a single-event POST.
        body = orjson.dumps(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", b"%d" % len(body)), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _ingest(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
        headers = scope_headers(scope["headers"])
        media = self._check(headers)
        body = await receive_body(receive, self.settings.max_body_bytes)
        events = self._events(body, headers.get("content-encoding"), media)
        service = self.service
        try:
            if len(events) > INLINE_EVENTS:
                rows = await run_in_threadpool(service.prepare, events)
            else:
                rows = service.prepare(events)
        except BatchError as exc:
            return 400, error_body(f"nothing stored: {exc}", exc.details())
        outcomes = await self.batcher.commit(rows)
        return 202, self._accepted(rows, outcomes)

    def _check(self, headers: dict[str, str]) -> str:
        """The request's head checked (``ApiError`` when refused): its JSON media type."""
        self.guard.check_headers(headers)
        media = json_media_type(headers)
        check_declared_length(headers, self.settings.max_body_bytes)
        return media

    def _events(self, body: bytes, encoding: str | None, media: str) -> list[Any]:
        if encoding is not None:
            body = inflate(body, encoding, self.settings.max_body_bytes)
        return decode_events(body, media)

    def _accepted(self, rows: list[EventRow], outcomes: list[WriteOutcome]) -> dict[str, Any]:
        if len(rows) == 1:
            return self._accepted_one(rows[0], outcomes[0])
        result = self.service.result(rows, outcomes)
        # Usually no read at all: the commit fed the running sums these events (and when it
        # could not, a few indexed reads on the loop's own read connection).
        budget = committed_budget(self.budget_status, result.projects, max(o.id for o in outcomes))
        return {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "events": result.events,
            "budget": budget,
        }

    def _accepted_one(self, row: EventRow, outcome: WriteOutcome) -> dict[str, Any]:
        """``_accepted`` of one event, as agents post them, without the batch's
        ``IngestResult`` (a test compares the two), which was a twentieth of a single-event
        POST's CPU."""
        duplicate = outcome.duplicate
        return {
            "accepted": 0 if duplicate else 1,
            "duplicates": 1 if duplicate else 0,
            "events": [stored_event(row, outcome)],
            "budget": committed_budget(self.budget_status, frozenset((row.project,)), outcome.id),
        }

    @staticmethod
    def _refused(exc: Exception) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
        """The answer to a request that failed with ``exc``: status, body and headers."""
        if isinstance(exc, BatchError):
            return 400, error_body(f"nothing stored: {exc}", exc.details()), _HEADERS
        error = answer_error(exc, "POST /v1/usage")
        headers = [_JSON, *((k.lower().encode(), v.encode()) for k, v in error.headers.items())]
        return error.status, error_body(error.message, error.details), headers

    # The direct path (``http_protocol.DirectRoute``): the same steps, driven by the protocol's
    # callbacks and the batcher's (``commit_then``), without a Task per request.

    def start(self, exchange: Exchange) -> int | None:
        limit = self.settings.max_body_bytes
        raw = exchange.headers
        found = dict(raw)
        # What a sender's POST nearly always is, seen on the raw header bytes: each header
        # once (else the first value counts), one the guard lets through, a JSON body of a
        # declared size within the limit. Anything else, or anything wrong, goes through the
        # full checks below, which name the problem: the same answer either way.
        if (
            len(found) == len(raw)
            and found.get(b"content-type") == b"application/json"
            and self.guard.passes(found)
        ):
            declared = found.get(b"content-length")
            if declared is None or (declared.isdigit() and int(declared) <= limit):
                encoding = found.get(b"content-encoding")
                exchange.state = (
                    None if encoding is None else encoding.decode("latin-1"),
                    "application/json",
                )
                return limit
        try:
            headers = scope_headers(raw)
            exchange.state = (headers.get("content-encoding"), self._check(headers))
        except Exception as exc:
            _answer(exchange, *self._refused(exc))
            return None
        return limit

    def too_large(self, exchange: Exchange, limit: int) -> None:
        _answer(exchange, *self._refused(ApiError(413, f"body is over the limit of {limit} bytes")))

    def body(self, exchange: Exchange, body: bytes) -> None:
        encoding, media = exchange.state
        try:
            events = self._events(body, encoding, media)
            if len(events) > INLINE_EVENTS:
                exchange.run(self._prepare_apart(exchange, events))
                return
            rows = self.service.prepare(events)
            self.batcher.commit_then(
                rows, lambda outcomes, error: self._committed(exchange, rows, outcomes, error)
            )
        except Exception as exc:
            _answer(exchange, *self._refused(exc))

    async def _prepare_apart(self, exchange: Exchange, events: list[Any]) -> None:
        try:
            rows = await run_in_threadpool(self.service.prepare, events)
            outcomes = await self.batcher.commit(rows)
            _answer(exchange, 202, self._accepted(rows, outcomes), _HEADERS)
        except Exception as exc:
            _answer(exchange, *self._refused(exc))

    def _committed(
        self,
        exchange: Exchange,
        rows: list[EventRow],
        outcomes: list[WriteOutcome] | None,
        error: BaseException | None,
    ) -> None:
        try:
            if error is not None:
                raise error
            payload = self._accepted(rows, outcomes)  # type: ignore[arg-type]
        except Exception as exc:
            _answer(exchange, *self._refused(exc))
            return
        _answer(exchange, 202, payload, _HEADERS)


_HEADERS = [_JSON]


def _lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers)


# The header lines of every 202 (and of a refused batch), built once.
_HEADER_LINES = _lines(_HEADERS)


def _answer(
    exchange: Exchange, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    """``payload`` as the exchange's JSON answer, with the ASGI path's headers in its order."""
    body = orjson.dumps(payload)
    lines = _HEADER_LINES if headers is _HEADERS else _lines(headers)
    exchange.reply(status, b"content-length: %d\r\n%s" % (len(body), lines), body)
