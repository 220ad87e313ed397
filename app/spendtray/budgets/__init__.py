"""Budgets: per-project and global money limits per calendar period, with threshold, forecast
and runaway alerts and a hard stop for agents (SPEC §4, §7). Qt-free.

``install_budgets(core)`` is the one place budgets are wired into a ``Core`` (called by
``app_headless.build_core``, on the caller's thread); ``service_of(core)`` gives the running
``BudgetService`` to the GUI (notifiers, pause switch, worst state, the budget editor).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from spendtray.budgets.model import Budget, BudgetError
from spendtray.budgets.notify import Alert, Notifier, WebhookNotifier
from spendtray.budgets.runaway import RunawayRule
from spendtray.budgets.service import BudgetService

if TYPE_CHECKING:
    from spendtray.core import Core

__all__ = [
    "Alert",
    "Budget",
    "BudgetError",
    "BudgetService",
    "Notifier",
    "RunawayRule",
    "install_budgets",
    "service_of",
]

_ATTR = "budgets"


def install_budgets(
    core: Core, runaway: RunawayRule | None = None, min_gap: float = 0.1
) -> BudgetService:
    """Create the budget service for ``core``: commit listener, ingest hook, routes, webhook.
    ``min_gap``: seconds the evaluation worker rests between evaluations (0 in tests)."""
    from spendtray.budgets.api import budget_routes

    if runaway is None:
        settings = core.settings
        runaway = RunawayRule(
            factor=float(settings.runaway_factor),
            window=dt.timedelta(minutes=settings.runaway_window_minutes),
            min_nanos=round(settings.runaway_min_usd * 1_000_000_000),
        )
    service = BudgetService(
        core.writer, core.reader, core.settings, core.clock, runaway, min_gap=min_gap
    )
    core.writer.add_listener(service.on_commit)
    core.budget_status = service.ingest_status
    core.extra_routes.extend(budget_routes(service, core.token, core.settings))
    if core.settings.webhook_url:
        service.add_notifier(WebhookNotifier(core.settings.webhook_url))
    service.start()
    setattr(core, _ATTR, service)
    return service


def service_of(core: Core) -> BudgetService:
    """The budget service installed on ``core`` (raises if budgets were not installed)."""
    service = getattr(core, _ATTR, None)
    if not isinstance(service, BudgetService):
        raise RuntimeError("budgets are not installed on this core (see app_headless.build_core)")
    return service
