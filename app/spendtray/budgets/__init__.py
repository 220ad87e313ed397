"""Budgets: per-project and global money limits per calendar period, with threshold, forecast
and runaway alerts and a hard stop for agents (SPEC §4, §7). Qt-free.

``Core`` creates the one ``BudgetService`` (``core.budgets``) and starts and stops its worker
thread; ``server/routes.py`` lists the budget routes (``api.budget_handlers``). The GUI reaches
the service as ``core.budgets`` (notifiers, pause switch, worst state, the budget editor).
"""

from __future__ import annotations

from spendtray.budgets.model import Budget, BudgetError
from spendtray.budgets.notify import Alert, Notifier, WebhookNotifier
from spendtray.budgets.runaway import RunawayRule
from spendtray.budgets.service import BudgetService

__all__ = [
    "Alert",
    "Budget",
    "BudgetError",
    "BudgetService",
    "Notifier",
    "RunawayRule",
    "WebhookNotifier",
]
