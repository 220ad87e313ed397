"""The Starlette application built from the one route table (``server/routes.py``), and the
read routes of SPEC §4 (health, usage, summary, prices).

Handlers run on the server's event loop; blocking reads go to Starlette's thread pool, each pool
thread with its own SQLite reader. ``POST /v1/usage`` is answered before the router by
``UsageEndpoint`` (``server/usage_endpoint.py``), listed in the table like every other route.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from spendtray import __version__
from spendtray.prices.book import UnknownModel
from spendtray.server.guard import ApiError, Guard, Handler, answer_error, error_response
from spendtray.server.usage_endpoint import UsageEndpoint
from spendtray.store.reader import GROUPS, Filters, QueryError, Reader, summary_row_json
from spendtray.timeparse import TimeParseError, parse_when

if TYPE_CHECKING:
    from spendtray.core import Core
    from spendtray.server.routes import Endpoint


def filters_from_query(request: Request, reader: Reader, now: dt.datetime) -> Filters:
    q = request.query_params
    zone = reader.zone
    tz = q.get("tz")
    if tz:
        zone = _zone(tz)

    def when(name: str) -> dt.datetime | None:
        value = q.get(name)
        if value is None or value == "":
            return None
        try:
            return parse_when(value, now, zone, reader.week_start)
        except TimeParseError as exc:
            raise ApiError(400, f"{name}: {exc}", [{"field": name, "problem": str(exc)}]) from None

    return Filters(
        project=q.get("project"),
        model=q.get("model"),
        provider=q.get("provider"),
        agent=q.get("agent"),
        source=q.get("source"),
        machine=q.get("machine"),
        since=when("since"),
        until=when("until"),
    )


def _zone(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(
            400,
            f"tz: {name!r} is not a known IANA time zone",
            [{"field": "tz", "problem": "unknown time zone"}],
        ) from None


class ReadHandlers(NamedTuple):
    healthz: Handler
    usage: Handler
    summary: Handler
    prices: Handler
    price: Handler


def read_handlers(core: Core) -> ReadHandlers:
    """The read routes' handlers over ``core``'s reader and price book."""
    reader = core.reader
    prices = core.prices
    clock = core.clock

    writer = core.writer

    async def healthz(request: Request) -> Response:
        # The truth about storing: a server whose writes fail is not healthy.
        problem = writer.problem if writer.running else "the store writer is not running"
        if problem is not None:
            return JSONResponse(
                {"status": "error", "problem": problem, "version": __version__}, status_code=503
            )
        return JSONResponse({"status": "ok", "version": __version__})

    async def get_usage(request: Request) -> Response:
        filters = filters_from_query(request, reader, clock())
        q = request.query_params
        try:
            limit = int(q.get("limit", "100"))
        except ValueError:
            raise ApiError(
                400,
                "limit: must be a whole number",
                [{"field": "limit", "problem": "not a number"}],
            ) from None
        try:
            events, cursor = await run_in_threadpool(reader.events, filters, limit, q.get("cursor"))
        except QueryError as exc:
            raise ApiError(400, str(exc), [{"field": exc.field, "problem": exc.problem}]) from None
        return JSONResponse({"events": events, "next_cursor": cursor})

    async def get_summary(request: Request) -> Response:
        q = request.query_params
        group_by = q.get("group_by", "project")
        if group_by not in GROUPS:
            raise ApiError(
                400,
                f"group_by: must be one of {', '.join(GROUPS)}",
                [{"field": "group_by", "problem": f"unknown grouping {group_by!r}"}],
            )
        filters = filters_from_query(request, reader, clock())
        zone = _zone(q["tz"]) if q.get("tz") else None
        try:
            summary = await run_in_threadpool(reader.summary, group_by, filters, zone)
            unpriced = (
                await run_in_threadpool(reader.unpriced_models, filters)
                if summary.total.unpriced_calls
                else []
            )
        except QueryError as exc:
            raise ApiError(400, str(exc), [{"field": exc.field, "problem": exc.problem}]) from None
        return JSONResponse(
            {
                "group_by": group_by,
                "rows": [summary_row_json(r) for r in summary.rows],
                "total": summary_row_json(summary.total),
                "unpriced_models": unpriced,
            }
        )

    async def get_prices(request: Request) -> Response:
        from spendtray.prices.listing import list_prices

        q = request.query_params
        rows = await run_in_threadpool(list_prices, prices, q.get("q"), q.get("provider"))
        return JSONResponse({"prices": rows, "count": len(rows)})

    async def get_price(request: Request) -> Response:
        from spendtray.prices.listing import price_detail

        q = request.query_params
        model = request.path_params["model"]
        at = None
        if q.get("at"):
            try:
                at = parse_when(q["at"], clock(), reader.zone)
            except TimeParseError as exc:
                raise ApiError(400, f"at: {exc}", [{"field": "at", "problem": str(exc)}]) from None
        try:
            detail = price_detail(prices, model, q.get("provider"), at, q.get("service_tier"))
        except UnknownModel as exc:
            raise ApiError(404, exc.reason) from None
        return JSONResponse(detail)

    return ReadHandlers(healthz, get_usage, get_summary, get_prices, get_price)


def build_app(core: Core) -> ASGIApp:
    """The ASGI app serving ``core.routes``, each behind the guard its access names."""
    from spendtray.server.routes import Access

    settings = core.settings
    guard = Guard(core.token, settings.require_token, settings.allowed_origins)
    routes: list[BaseRoute] = []
    fast: list[Endpoint] = []
    for endpoint in core.routes:
        if endpoint.handler is None:
            fast.append(endpoint)
            continue
        handler = guard.protect(endpoint.handler, authenticate=endpoint.access is Access.TOKEN)
        routes.append(Route(endpoint.path, handler, methods=list(endpoint.methods)))
    if [(e.methods, e.path) for e in fast] != [(("POST",), UsageEndpoint.PATH)]:
        raise RuntimeError(f"only POST {UsageEndpoint.PATH} has a fast path, not {fast}")

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(404, f"no route {request.method} {request.url.path}")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, f"{request.method} is not allowed on {request.url.path}")

    async def server_error(request: Request, exc: Exception) -> Response:
        error = answer_error(exc, f"{request.method} {request.url.path}")
        return error_response(error.status, error.message, error.details, error.headers)

    starlette = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: method_not_allowed, 500: server_error},
    )
    return UsageEndpoint(
        starlette, guard, settings, core.ingest, core.batcher, core.budgets.ingest_status
    )
