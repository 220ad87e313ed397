"""Limit routes (SPEC §12), listed in the route table (``server/routes.py``) behind the same
guard as every route (loopback Host, no foreign Origin, token); JSON bodies are checked here.
Handlers run on the server's event loop; reads and writes go to Starlette's thread pool.

- ``GET /v1/limits``: the newest reading of each window plus the estimated 5-hour block.
- ``GET /v1/limits/blocks?since=&until=``: estimated 5-hour blocks of the Claude Code logs.
- ``POST /v1/limits``: record readings (one object, a list, or ``{"observations": [...]}``);
  all or nothing — one bad reading answers 400 naming its index and field.
- ``POST /v1/statusline``: Claude Code's statusline JSON, as the statusline command received
  it; records its windows and the session's cost, answers what the line shows.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spendtray.limits.model import LimitError, observation_from_json
from spendtray.limits.service import LimitsService
from spendtray.limits.statusline_payload import parse_statusline
from spendtray.server.guard import ApiError, Guard, Handler, read_body
from spendtray.store.reader import Filters
from spendtray.timeparse import TimeParseError, parse_when

if TYPE_CHECKING:
    from spendtray.budgets.service import BudgetService

MAX_LIMITS_BODY = 256 * 1024
MAX_OBSERVATIONS = 1000


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "nothing recorded: the body is not valid JSON") from None


def _usd(nanos: int) -> float:
    return float(Decimal(nanos) / Decimal(1_000_000_000))


class LimitHandlers(NamedTuple):
    get: Handler
    post: Handler
    blocks: Handler
    statusline: Handler


def limit_handlers(service: LimitsService, budgets: BudgetService | None = None) -> LimitHandlers:
    """The limit routes' handlers; ``budgets`` names the project's budget in the statusline."""
    settings = service.settings
    reader = service.reader

    async def get_limits(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.limits_json))

    async def get_blocks(request: Request) -> Response:
        q = request.query_params
        now = service.clock()

        def when(name: str, default: dt.datetime | None) -> dt.datetime | None:
            value = q.get(name)
            if not value:
                return default
            try:
                return parse_when(value, now, reader.zone, reader.week_start)
            except TimeParseError as exc:
                problem = [{"field": name, "problem": str(exc)}]
                raise ApiError(400, f"{name}: {exc}", problem) from None

        since = when("since", now - dt.timedelta(days=30))
        until = when("until", None)
        assert since is not None
        now_ms = int(now.timestamp() * 1000)
        found = await run_in_threadpool(
            service.blocks,
            int(since.timestamp() * 1000),
            None if until is None else int(until.timestamp() * 1000),
        )
        return JSONResponse({"blocks": [b.to_json(now_ms) for b in found]})

    async def post_limits(request: Request) -> Response:
        Guard.json_content_type(request)
        data = _json(await read_body(request, min(settings.max_body_bytes, MAX_LIMITS_BODY)))
        if isinstance(data, dict) and "observations" in data:
            data = data["observations"]
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > MAX_OBSERVATIONS:
            raise ApiError(400, f"nothing recorded: send 1 to {MAX_OBSERVATIONS} observations")
        now_ms = int(service.clock().timestamp() * 1000)
        observations = []
        for index, item in enumerate(items):
            try:
                observations.append(observation_from_json(item, now_ms, origin="api"))
            except LimitError as exc:
                raise ApiError(
                    400,
                    f"nothing recorded: observation {index}: {exc}",
                    [{"index": index, "field": exc.field, "problem": exc.problem}],
                ) from None
        added = await run_in_threadpool(service.record, observations)
        return JSONResponse({"accepted": len(observations), "recorded": added}, status_code=202)

    def statusline(data: Any) -> dict[str, Any]:
        now = service.clock()
        now_ms = int(now.timestamp() * 1000)
        parsed = parse_statusline(data, now_ms)
        service.record(parsed.observations)
        project = parsed.project
        if parsed.session and parsed.cost_usd is not None:
            service.record_session(
                "claude-code",
                parsed.session,
                project or "default",
                parsed.model,
                round(parsed.cost_usd * 1_000_000_000),
            )
        zone = reader.zone
        day_start = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        today = reader.spend_nanos(Filters(since=day_start))
        reply: dict[str, Any] = {
            "project": project,
            "today_usd": _usd(today),
            "project_today_usd": _usd(reader.spend_nanos(Filters(project=project, since=day_start)))
            if project
            else None,
            "budget": None,
            "limits": [o.to_json(now_ms) for o in service.observations() if not o.stale(now_ms)],
            "ignored": parsed.ignored,
        }
        if budgets is not None and project:
            check = budgets.check(project).to_json()
            if check.get("limit_usd") is not None:
                reply["budget"] = check
        return reply

    async def post_statusline(request: Request) -> Response:
        Guard.json_content_type(request)
        data = _json(await read_body(request, min(settings.max_body_bytes, MAX_LIMITS_BODY)))
        return JSONResponse(await run_in_threadpool(statusline, data))

    return LimitHandlers(get_limits, post_limits, get_blocks, post_statusline)
