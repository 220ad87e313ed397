"""The Starlette application: routes of SPEC §4. Handlers run on the server's event loop;
blocking reads go to Starlette's thread pool, each pool thread with its own SQLite reader.

Later capabilities (budgets, estimator, receivers, proxy) plug in through ``ServerContext``:
their routes are appended to ``extra_routes`` by the composition root.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from spendtray import __version__
from spendtray.clock import utc_now
from spendtray.config import Settings
from spendtray.ingest.service import IngestService
from spendtray.prices.book import PriceBook, UnknownModel
from spendtray.server.commit_batcher import CommitBatcher
from spendtray.server.guard import ApiError, Guard, answer_error, error_response
from spendtray.server.usage_endpoint import BudgetStatus, UsageEndpoint
from spendtray.store.reader import GROUPS, Filters, QueryError, Reader, summary_row_json
from spendtray.timeparse import TimeParseError, parse_when


@dataclass
class ServerContext:
    settings: Settings
    token: str
    service: IngestService
    reader: Reader
    prices: PriceBook
    batcher: CommitBatcher
    budget_status: BudgetStatus | None = None
    extra_routes: list[BaseRoute] = field(default_factory=list)
    clock: Callable[[], dt.datetime] = utc_now


def filters_from_query(request: Request, ctx: ServerContext) -> Filters:
    q = request.query_params
    now = ctx.clock()
    zone = ctx.reader.zone
    tz = q.get("tz")
    if tz:
        zone = _zone(tz)

    def when(name: str) -> dt.datetime | None:
        value = q.get(name)
        if value is None or value == "":
            return None
        try:
            return parse_when(value, now, zone, ctx.reader.week_start)
        except TimeParseError as exc:
            raise ApiError(400, f"{name}: {exc}", [{"field": name, "problem": str(exc)}]) from None

    return Filters(
        project=q.get("project"),
        model=q.get("model"),
        provider=q.get("provider"),
        agent=q.get("agent"),
        source=q.get("source"),
        since=when("since"),
        until=when("until"),
    )


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(
            400,
            f"tz: {name!r} is not a known IANA time zone",
            [{"field": "tz", "problem": "unknown time zone"}],
        ) from None


def build_app(ctx: ServerContext) -> ASGIApp:
    settings = ctx.settings
    guard = Guard(ctx.token, settings.require_token, settings.allowed_origins)
    service = ctx.service
    reader = ctx.reader

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def get_usage(request: Request) -> Response:
        filters = filters_from_query(request, ctx)
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
        filters = filters_from_query(request, ctx)
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
        rows = await run_in_threadpool(list_prices, ctx.prices, q.get("q"), q.get("provider"))
        return JSONResponse({"prices": rows, "count": len(rows)})

    async def get_price(request: Request) -> Response:
        from spendtray.prices.listing import price_detail

        q = request.query_params
        model = request.path_params["model"]
        at = None
        if q.get("at"):
            try:
                at = parse_when(q["at"], ctx.clock(), reader.zone)
            except TimeParseError as exc:
                raise ApiError(400, f"at: {exc}", [{"field": "at", "problem": str(exc)}]) from None
        try:
            detail = price_detail(ctx.prices, model, q.get("provider"), at, q.get("service_tier"))
        except UnknownModel as exc:
            raise ApiError(404, exc.reason) from None
        return JSONResponse(detail)

    g = guard.protect
    routes: list[BaseRoute] = [
        Route("/healthz", guard.protect(healthz, authenticate=False), methods=["GET"]),
        Route("/v1/usage", g(get_usage), methods=["GET"]),
        Route("/v1/summary", g(get_summary), methods=["GET"]),
        Route("/v1/prices", g(get_prices), methods=["GET"]),
        Route("/v1/prices/{model:path}", g(get_price), methods=["GET"]),
        *ctx.extra_routes,
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(404, f"no route {request.method} {request.url.path}")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, f"{request.method} is not allowed on {request.url.path}")

    async def server_error(request: Request, exc: Exception) -> Response:
        error = answer_error(exc, f"{request.method} {request.url.path}")
        return error_response(error.status, error.message, error.details)

    starlette = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: method_not_allowed, 500: server_error},
    )
    return UsageEndpoint(starlette, guard, settings, service, ctx.batcher, ctx.budget_status)
