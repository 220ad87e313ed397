"""The proxy's HTTP handlers and its one upstream HTTP client. Handlers run on the server's
event loop; the ``httpx.AsyncClient`` is created on that loop at the first call and pools
connections per upstream host.

Routes (SPEC §4; listed in ``server/routes.py``; no Spendtray token, but the Host/Origin guard
of every route):
- ``/p/{project}/{upstream}/...`` — project in the path (what ``spendtray run`` sets);
- ``/proxy/{upstream}/...`` — project from the ``X-Spendtray-Project`` header, else "default".
``X-Spendtray-Agent`` optionally attributes the call to an agent.

Per call, when a hard budget applies to the project (its own or the global one): reserve the
call's worst case (``worst_case``) and refuse with 429 when that would pass the limit on top of
the spend and of the other calls' reservations. Then forward, relay the answer unchanged, and
record usage once the response has ended; the reservation goes once the cost is stored.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from spendtray.budgets.model import BudgetError, check_call_project
from spendtray.ingest.event import DEFAULT_PROJECT, MAX_TEXT
from spendtray.ingest.service import IngestService
from spendtray.proxy.errors import api_error, budget_refusal
from spendtray.proxy.exchange import UNREACHABLE, Exchange
from spendtray.proxy.forward import Outgoing, read_outgoing, upstream_headers
from spendtray.proxy.recorder import Recorder
from spendtray.proxy.relay import Relay
from spendtray.proxy.upstreams import Upstream
from spendtray.proxy.worst_case import needs_worker, worst_case
from spendtray.server.guard import ApiError
from spendtray.words import article

if TYPE_CHECKING:
    from spendtray.budgets.service import BudgetService

log = logging.getLogger("spendtray.proxy")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_JSON_REQUEST = 100 * 1024 * 1024  # images and PDFs travel base64 inside the JSON
PROJECT_HEADER = "x-spendtray-project"
AGENT_HEADER = "x-spendtray-agent"
# No read timeout: a long generation may be silent for minutes before its first byte, and the
# client's own SDK timeout ends the call (its disconnect closes the upstream connection).
TIMEOUT = httpx.Timeout(connect=15.0, read=None, write=120.0, pool=None)
LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=100, keepalive_expiry=60.0)


class Proxy:
    def __init__(
        self,
        upstreams: dict[str, Upstream],
        service: IngestService,
        budgets: BudgetService | None = None,
        include_usage: bool = False,
    ) -> None:
        self.upstreams = upstreams
        self.prices = service.prices
        self.budgets = budgets
        self.include_usage = include_usage
        self.recorder = Recorder(service)
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        # (provider, response headers) of each upstream answer: LimitsService.headers_seen
        self.rate_limits_seen: Callable[[str, httpx.Headers], None] | None = None

    def client(self) -> httpx.AsyncClient:
        """The pooled client of the running loop (a restarted server gets a fresh one: pooled
        connections belong to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(timeout=TIMEOUT, limits=LIMITS, follow_redirects=False)
            self._client_loop = loop
        return self._client

    # -- routing --------------------------------------------------------------------------

    async def by_path(self, request: Request) -> Response:
        """``/p/{project}/{upstream}/...``"""
        parts = _raw_path(request).split("/", 4)  # "", "p", project, upstream, rest
        rest = "/" + parts[4] if len(parts) > 4 else ""
        return await self.forward(request, unquote(parts[3]), unquote(parts[2]), rest)

    async def by_header(self, request: Request) -> Response:
        """``/proxy/{upstream}/...`` with the project in ``X-Spendtray-Project``."""
        parts = _raw_path(request).split("/", 3)  # "", "proxy", upstream, rest
        rest = "/" + parts[3] if len(parts) > 3 else ""
        project = request.headers.get(PROJECT_HEADER) or DEFAULT_PROJECT
        return await self.forward(request, unquote(parts[2]), project, rest)

    # -- one call -------------------------------------------------------------------------

    async def forward(self, request: Request, name: str, project: str, rest: str) -> Response:
        upstream = self.upstreams.get(name)
        if upstream is None:
            known = ", ".join(sorted(self.upstreams))
            return api_error(
                "openai",
                404,
                f"Spendtray proxy: no upstream named {name!r} (known: {known}; add one under "
                "[upstreams] in config.toml)",
            )
        api = upstream.api
        if _climbs(rest):
            return api_error(
                api, 400, "Spendtray proxy: '.' and '..' path segments are not forwarded"
            )
        try:
            project = check_call_project(project)
            agent = _agent(request.headers.get(AGENT_HEADER))
        except BudgetError as exc:
            return api_error(api, 400, f"Spendtray proxy: {exc}")
        exchange = Exchange(upstream, project, agent, None)
        try:
            outgoing = await read_outgoing(request, api, rest, self.include_usage, MAX_JSON_REQUEST)
        except ApiError as exc:
            return api_error(api, exc.status, f"Spendtray proxy: {exc.message}")
        exchange.request_model = outgoing.model
        if self.budgets is not None and self.budgets.hard_budget_applies(project):
            refusal = await self._reserve(exchange, outgoing, api, rest)
            if refusal is not None:
                return refusal
        try:
            return await self._send(request, exchange, outgoing, rest)
        except BaseException:
            exchange.settle()  # cancelled or failed before the relay took the call over
            raise

    async def _reserve(
        self, exchange: Exchange, outgoing: Outgoing, api: str, rest: str
    ) -> Response | None:
        """Hold the call's worst case against the hard budgets, or answer the refusal."""
        assert self.budgets is not None
        provider = exchange.upstream.provider
        length = outgoing.length or 0
        model = outgoing.model
        if model is not None and needs_worker(length, model, provider):
            worst = await run_in_threadpool(
                worst_case, self.prices, model, provider, outgoing.parsed, length, rest
            )
        else:
            worst = worst_case(self.prices, model, provider, outgoing.parsed, length, rest)
        verdict, held = self.budgets.reserve(exchange.project, worst.nanos)
        if held is None:
            log.info(
                "proxy: refused %s %s call of project %r: hard budget has no room",
                article(exchange.upstream.name),
                exchange.upstream.name,
                exchange.project,
            )
            return budget_refusal(api, verdict, exchange.project)
        reservations = self.budgets.reservations
        exchange.release = lambda: reservations.release(held)
        return None

    async def _send(
        self, request: Request, exchange: Exchange, outgoing: Outgoing, rest: str
    ) -> Response:
        upstream = exchange.upstream
        name, api = upstream.name, upstream.api
        upstream_request = httpx.Request(
            request.method,
            upstream.target(rest, request.scope.get("query_string", b"").decode("latin-1")),
            headers=upstream_headers(request.headers.raw, outgoing.length),
            content=outgoing.content,
        )
        try:
            response = await self.client().send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            exchange.failure = UNREACHABLE
            exchange.finish()
            await self.recorder.record(exchange)
            host = upstream_request.url.host
            log.warning("proxy: cannot reach upstream %r (%s): %s", name, host, type(exc).__name__)
            return api_error(
                api,
                502,
                f"Spendtray proxy could not reach upstream {name!r} ({host}): {type(exc).__name__}",
            )
        exchange.http_status = response.status_code
        if self.rate_limits_seen is not None:
            self.rate_limits_seen(upstream.provider, response.headers)
        exchange.header_request_id = response.headers.get("x-request-id") or response.headers.get(
            "request-id"
        )
        return Relay(response, exchange, self.recorder.record)


def _climbs(rest: str) -> bool:
    """Whether the path after the proxy prefix has a '.' or '..' segment (also percent-encoded
    or behind a backslash): resolved by the HTTP client or the upstream, it would leave the
    upstream's base path (/api/v1/../../admin)."""
    return any(segment in (".", "..") for segment in re.split(r"[/\\]", unquote(rest)) if segment)


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw.decode("latin-1").split("?", 1)[0]
    return quote(request.url.path)


def _agent(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    name = value.strip()
    if len(name) > MAX_TEXT or any(ord(c) < 32 for c in name):
        raise BudgetError(
            "X-Spendtray-Agent", f"must be at most {MAX_TEXT} characters, no control characters"
        )
    return name
