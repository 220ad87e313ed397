"""``POST /v1/usage`` as a plain ASGI endpoint placed in front of the Starlette app.

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
from spendtray.ingest.service import BatchError, IngestService
from spendtray.receivers.common import inflate
from spendtray.server.commit_batcher import CommitBatcher
from spendtray.server.guard import (
    Guard,
    answer_error,
    check_declared_length,
    error_body,
    json_media_type,
    receive_body,
    scope_headers,
)
from spendtray.server.payload import decode_events

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


class UsageEndpoint:
    """ASGI app: ``POST /v1/usage`` here, everything else to ``app``."""

    PATH = "/v1/usage"  # spelled out in ``__call__``: an attribute lookup per request

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
        headers = [_JSON]
        try:
            status, payload = await self._ingest(scope, receive)
        except ClientDisconnect:
            return
        except Exception as exc:
            error = answer_error(exc, "POST /v1/usage")
            status, payload = error.status, error_body(error.message, error.details)
            headers.extend((k.lower().encode(), v.encode()) for k, v in error.headers.items())
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
        self.guard.check_headers(headers)
        media = json_media_type(headers)
        limit = self.settings.max_body_bytes
        check_declared_length(headers, limit)
        body = await receive_body(receive, limit)
        encoding = headers.get("content-encoding")
        if encoding is not None:
            body = inflate(body, encoding, limit)
        events = decode_events(body, media)
        service = self.service
        try:
            if len(events) > INLINE_EVENTS:
                rows = await run_in_threadpool(service.prepare, events)
            else:
                rows = service.prepare(events)
        except BatchError as exc:
            return 400, error_body(f"nothing stored: {exc}", exc.details())
        outcomes = await self.batcher.commit(rows)
        result = service.result(rows, outcomes)
        # Usually no read at all: the commit fed the running sums these events (and when it
        # could not, a few indexed reads on the loop's own read connection).
        budget = committed_budget(self.budget_status, result.projects, max(o.id for o in outcomes))
        return 202, {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "events": result.events,
            "budget": budget,
        }
