"""Every HTTP route of the server, in one table (SPEC §4).

``route_table`` is called once by ``Core`` (caller's thread) and ``server/app.build_app`` turns
the table into the ASGI app, putting each handler behind the ``Guard`` its access names:

- ``TOKEN``: loopback Host, no foreign browser Origin, and the token (when ``require_token``).
- ``LOOPBACK``: loopback Host and no foreign Origin only — the health check, and the proxy,
  whose callers send their provider's key, never our token.

The handlers run on the server's event loop. ``POST /v1/usage`` has no handler here: it is
the one route whose rate matters, so ``server/usage_endpoint.UsageEndpoint`` answers it before
the router, with the same guard functions (``TOKEN``).

A new route: its handler in the module of its feature, then one line below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from spendtray.server.guard import Handler

if TYPE_CHECKING:
    from spendtray.core import Core


class Access(Enum):
    TOKEN = "token"
    LOOPBACK = "loopback"


@dataclass(frozen=True)
class Endpoint:
    methods: tuple[str, ...]
    path: str
    handler: Handler | None  # None: answered before the router (the POST /v1/usage fast path)
    access: Access


GET, POST, PUT, DELETE = ("GET",), ("POST",), ("PUT",), ("DELETE",)
ANY = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
FAST_PATH = None
TOKEN, LOOPBACK = Access.TOKEN, Access.LOOPBACK


def route_table(core: Core) -> list[Endpoint]:
    from spendtray.budgets.api import budget_handlers
    from spendtray.identity import IDENTITY_PATH
    from spendtray.limits.api import limit_handlers
    from spendtray.receivers.routes import (
        LITELLM_PATH,
        LOGS_PATH,
        METRICS_PATH,
        TRACES_PATH,
        receiver_handlers,
    )
    from spendtray.server.app import read_handlers
    from spendtray.server.estimate_routes import estimate_handlers
    from spendtray.server.identity_route import identity_handler
    from spendtray.sync.api import machines_handler

    read = read_handlers(core)
    estimator = estimate_handlers(core)
    receivers = receiver_handlers(core)
    budgets = budget_handlers(core.budgets, core.settings)
    limits = limit_handlers(core.limits, core.budgets)
    proxy = core.proxy
    E = Endpoint
    return [
        # health
        E(GET, "/healthz", read.healthz, LOOPBACK),
        E(GET, IDENTITY_PATH, identity_handler(core.token), LOOPBACK),  # spendtray.identity
        # usage in: events, OTLP traces, LiteLLM's logger
        E(POST, "/v1/usage", FAST_PATH, TOKEN),  # server/usage_endpoint.py
        E(POST, TRACES_PATH, receivers.traces, TOKEN),
        E(POST, LOGS_PATH, receivers.logs, TOKEN),
        E(POST, METRICS_PATH, receivers.metrics, TOKEN),
        E(POST, LITELLM_PATH, receivers.litellm, TOKEN),
        # reads
        E(GET, "/v1/usage", read.usage, TOKEN),
        E(GET, "/v1/summary", read.summary, TOKEN),
        E(GET, "/v1/prices", read.prices, TOKEN),
        E(GET, "/v1/prices/{model:path}", read.price, TOKEN),
        E(GET, "/v1/machines", machines_handler(core), TOKEN),  # SPEC §14
        # estimator
        E(POST, "/v1/estimate", estimator.estimate, TOKEN),
        E(GET, "/v1/whatif", estimator.whatif, TOKEN),
        # budgets
        E(GET, "/v1/budgets", budgets.list_all, TOKEN),
        E(GET, "/v1/budgets/{project}/check", budgets.check, TOKEN),
        E(GET, "/v1/budgets/{project}", budgets.get, TOKEN),
        E(PUT, "/v1/budgets/{project}", budgets.put, TOKEN),
        E(DELETE, "/v1/budgets/{project}", budgets.delete, TOKEN),
        # subscription limits (SPEC §12)
        E(GET, "/v1/limits", limits.get, TOKEN),
        E(POST, "/v1/limits", limits.post, TOKEN),
        E(GET, "/v1/limits/blocks", limits.blocks, TOKEN),
        E(POST, "/v1/statusline", limits.statusline, TOKEN),
        # the forwarding proxy (usage in, recorded after each call)
        E(ANY, "/p/{project}/{upstream}{rest:path}", proxy.by_path, LOOPBACK),
        E(ANY, "/proxy/{upstream}{rest:path}", proxy.by_header, LOOPBACK),
    ]
