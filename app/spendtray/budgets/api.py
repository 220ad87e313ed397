"""Budget routes of SPEC §4 (``/v1/budgets...``), listed in the route table (``server/routes.py``).

Handlers run on the server's event loop; reads and writes go to Starlette's thread pool (each
pool thread has its own SQLite read connection; writes go through the writer thread). The same
``Guard`` as the core routes applies: loopback Host, no foreign Origin, token, JSON bodies.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spendtray.budgets.model import BudgetError, budget_from_json, check_period, check_project
from spendtray.budgets.service import BudgetService
from spendtray.config import Settings
from spendtray.prices.calc import to_nanos
from spendtray.server.guard import ApiError, Guard, Handler, read_body

MAX_BUDGET_BODY = 64 * 1024


def _bad(exc: BudgetError) -> ApiError:
    return ApiError(400, f"nothing changed: {exc}", exc.details())


def _project(request: Request) -> str:
    try:
        return check_project(request.path_params["project"])
    except BudgetError as exc:
        raise _bad(exc) from None


def parse_estimate(text: str | None) -> int:
    """``estimate_usd`` query value -> nanos; absent = 0."""
    if text is None or text == "":
        return 0
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount > 10**9:
        raise ApiError(
            400,
            f"estimate_usd: {text!r} is not an amount in US dollars ≥ 0",
            [{"field": "estimate_usd", "problem": "must be a finite number ≥ 0"}],
        )
    return to_nanos(amount)


class BudgetHandlers(NamedTuple):
    list_all: Handler
    check: Handler
    get: Handler
    put: Handler
    delete: Handler


def budget_handlers(service: BudgetService, settings: Settings) -> BudgetHandlers:
    """The budget routes' handlers over ``service``."""
    zone = service.zone

    async def list_budgets(request: Request) -> Response:
        project = request.query_params.get("project") or None
        statuses = await run_in_threadpool(service.statuses, project)
        return JSONResponse({"budgets": [s.to_json(zone) for s in statuses]})

    async def get_project(request: Request) -> Response:
        project = _project(request)
        statuses = await run_in_threadpool(service.statuses, project)
        return JSONResponse({"budgets": [s.to_json(zone) for s in statuses]})

    async def put_budget(request: Request) -> Response:
        project = _project(request)
        Guard.json_content_type(request)
        body = await read_body(request, min(settings.max_body_bytes, MAX_BUDGET_BODY))
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "nothing changed: the body is not valid JSON") from None
        try:
            budget = budget_from_json(project, data)
        except BudgetError as exc:
            raise _bad(exc) from None
        status = await run_in_threadpool(service.put, budget)
        return JSONResponse(status.to_json(zone))

    async def delete_budget(request: Request) -> Response:
        project = _project(request)
        period = request.query_params.get("period") or None
        if period is not None:
            try:
                period = check_period(period)
            except BudgetError as exc:
                raise _bad(exc) from None
        removed = await run_in_threadpool(service.remove, project, period)
        if removed == 0:
            which = f"{period} budget" if period else "budget"
            raise ApiError(404, f"no {which} for project {project!r}")
        return JSONResponse({"removed": removed, "project": project, "period": period})

    async def check(request: Request) -> Response:
        project = _project(request)
        estimate = parse_estimate(request.query_params.get("estimate_usd"))
        result = await run_in_threadpool(service.check, project, estimate)
        return JSONResponse(result.to_json())

    return BudgetHandlers(list_budgets, check, get_project, put_budget, delete_budget)
