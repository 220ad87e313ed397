"""``POST /v1/estimate`` (SPEC §4): a prompt's tokens and cost on several models, cheapest first;
``GET /v1/whatif``: stored usage re-priced on other models (``estimator.whatif``).

Handlers run on the server's event loop; counting, pricing and re-pricing (CPU- or IO-bound, up
to a few hundred milliseconds for a megabyte, about a second per model for a million stored
calls) go to Starlette's thread pool so ingest keeps flowing.
Listed in the route table (``server/routes.py``), behind the same guard (Host, Origin, token)
as every other route; the handlers check the JSON content type and body size themselves.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spendtray.estimator.chat import InvalidMessages
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.estimator.estimate import CacheTtl, EstimateError, estimate
from spendtray.estimator.whatif import WhatIfError, reprice_history
from spendtray.server.guard import ApiError, Guard, Handler, read_body
from spendtray.store.reader import DIMENSIONS, Filters
from spendtray.timeparse import TimeParseError, parse_when

if TYPE_CHECKING:
    from spendtray.core import Core


MAX_MODELS = 64
_FIELDS = frozenset(
    {
        "text",
        "messages",
        "models",
        "output_tokens",
        "calls",
        "calls_per_day",
        "cached_prefix_tokens",
        "cache_ttl",
        "batch",
    }
)


def _bad(field: str, problem: str) -> ApiError:
    return ApiError(400, f"{field}: {problem}", [{"field": field, "problem": problem}])


def _whole(body: dict[str, Any], field: str, default: int | None, minimum: int) -> int | None:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(field, f"must be a whole number ≥ {minimum}")
    return value


def _arguments(body: object) -> dict[str, Any]:
    """The estimate() arguments from a request body; ApiError naming the field when wrong."""
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object with text or messages")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise _bad(unknown[0], f"is not an estimate field (known: {', '.join(sorted(_FIELDS))})")
    text, messages = body.get("text"), body.get("messages")
    if (text is None) == (messages is None):
        raise _bad("text", 'send exactly one of "text" (a string) or "messages" (a list)')
    prompt: Any
    if text is not None:
        if not isinstance(text, str):
            raise _bad("text", "must be a string")
        if not text:
            raise _bad("text", "is empty; nothing to count")
        prompt = text
    else:
        if not isinstance(messages, list):
            raise _bad("messages", "must be a list of {role, content} objects")
        prompt = messages
    models = body.get("models")
    if models is None:
        models = list(DEFAULT_MODELS)
    elif not isinstance(models, list) or not models:
        raise _bad("models", "must be a non-empty list of model names")
    elif len(models) > MAX_MODELS:
        raise _bad("models", f"at most {MAX_MODELS} models per request")
    for index, model in enumerate(models):
        if not isinstance(model, str) or not model.strip():
            raise ApiError(
                400,
                f"models[{index}]: must be a non-empty model name",
                [{"index": index, "field": "models", "problem": "not a non-empty string"}],
            )
    per_day = body.get("calls_per_day")
    if per_day is not None and (
        isinstance(per_day, bool)
        or not isinstance(per_day, int | float)
        or not math.isfinite(per_day)
        or per_day < 0
    ):
        raise _bad("calls_per_day", "must be a number ≥ 0")
    ttl = body.get("cache_ttl", "5m")
    if ttl not in ("5m", "1h"):
        raise _bad("cache_ttl", 'must be "5m" or "1h"')
    batch = body.get("batch", False)
    if not isinstance(batch, bool):
        raise _bad("batch", "must be true or false")
    cache_ttl: CacheTtl = "1h" if ttl == "1h" else "5m"
    return {
        "prompt": prompt,
        "models": models,
        "output_tokens": _whole(body, "output_tokens", None, 0),
        "calls": _whole(body, "calls", 1, 1),
        "calls_per_day": None if per_day is None else float(per_day),
        "cached_prefix_tokens": _whole(body, "cached_prefix_tokens", 0, 0),
        "cache_ttl": cache_ttl,
        "batch": batch,
    }


class EstimateHandlers(NamedTuple):
    estimate: Handler
    whatif: Handler


def estimate_handlers(core: Core) -> EstimateHandlers:
    """The estimator's handlers, bound to ``core``'s prices and reader."""
    settings = core.settings

    async def post_estimate(request: Request) -> Response:
        Guard.json_content_type(request)
        raw = await read_body(request, settings.max_body_bytes)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"body is not valid JSON: {exc}") from None
        args = _arguments(body)
        prompt = args.pop("prompt")
        models = args.pop("models")
        try:
            results = await run_in_threadpool(
                estimate, prompt, models, book=core.prices, when=core.clock(), **args
            )
        except InvalidMessages as exc:
            raise _bad("messages", str(exc)) from None
        except EstimateError as exc:
            field = str(exc).split(" ", 1)[0]
            raise _bad(field if field in _FIELDS else "(request)", str(exc)) from None
        return JSONResponse({"results": [r.to_dict() for r in results]})

    def selection(request: Request) -> Filters:
        q = request.query_params
        now = core.clock()
        reader = core.reader

        def when(name: str, default: str | None) -> Any:
            value = q.get(name) or default
            if value is None:
                return None
            try:
                return parse_when(value, now, reader.zone, reader.week_start)
            except TimeParseError as exc:
                raise _bad(name, str(exc)) from None

        dims = {name: q.get(name) or None for name in DIMENSIONS}
        return Filters(**dims, since=when("since", "30d"), until=when("until", None))

    async def get_whatif(request: Request) -> Response:
        targets = [
            name.strip()
            for value in request.query_params.getlist("target")
            for name in value.split(",")
            if name.strip()
        ] or list(DEFAULT_MODELS)
        if len(targets) > MAX_MODELS:
            raise _bad("target", f"at most {MAX_MODELS} target models per request")
        filters = selection(request)
        try:
            report = await run_in_threadpool(
                lambda: reprice_history(core.reader.conn(), filters, targets, book=core.prices)
            )
        except WhatIfError as exc:
            raise _bad("target", str(exc)) from None
        return JSONResponse(report.to_dict())

    return EstimateHandlers(post_estimate, get_whatif)
