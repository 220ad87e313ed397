"""The one place the GUI plugs into the core's budget service and the estimator.

GUI thread builds the ``Hooks``; ``budget_view``/``budget_lines`` then run on the refresh
worker thread (they only read), ``GuiNotifier.notify`` on the budget worker thread (it only
emits a bridge signal). The core owns the budget service and stops it; the estimator may be
left out of a build, and the GUI then does without it.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from spendtray.budgets.notify import Alert
from spendtray.budgets.service import BudgetService
from spendtray.core import Core
from spendtray.gui.bridge import Bridge
from spendtray.limits.service import LimitAlert, LimitsService
from spendtray.views.tray_text import BudgetView, budget_line

log = logging.getLogger(__name__)
_SEVERITY = ("ok", "warning", "exceeded")


class GuiNotifier:
    """A budgets ``Notifier``: hands the alert to the GUI thread through the bridge."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    def notify(self, alert: Alert | LimitAlert) -> None:
        self.bridge.alert.emit(alert)


@dataclass
class Hooks:
    budgets: BudgetService | None = None
    limits: LimitsService | None = None
    estimator_available: bool = False

    def budget_view(self) -> BudgetView | None:
        """The worst state over every budget and the one furthest along (worker thread)."""
        if self.budgets is None:
            return None
        statuses = self.budgets.statuses(forecast=False)
        state = max((s.state for s in statuses), key=_SEVERITY.index, default="ok")
        if state == "ok":
            return BudgetView("ok")
        top = max((s for s in statuses if s.state == state), key=lambda s: s.ratio)
        b = top.budget
        return BudgetView(state, budget_line(b.project, b.period, top.ratio, b.limit_nanos))

    def budget_lines(self, project: str | None) -> dict[str, int]:
        """Limits to draw: the project's own budgets, else the global ones (``*``)."""
        if self.budgets is None:
            return {}
        lines: dict[str, int] = {}
        for scope in ([project] if project else []) + ["*"]:
            for budget in self.budgets.budgets(scope):
                lines.setdefault(budget.period, budget.limit_nanos)
        return lines

    def set_paused(self, paused: bool) -> None:
        if self.budgets is not None:
            self.budgets.set_paused(paused)
        if self.limits is not None:
            self.limits.set_paused(paused)

    def budget_editor(self) -> Callable[[], QWidget] | None:
        if self.budgets is None or importlib.util.find_spec("spendtray.gui.budget_editor") is None:
            return None
        from spendtray.gui import budget_editor

        service = self.budgets
        return lambda: budget_editor.BudgetEditor(service)


def discover(core: Core, bridge: Bridge) -> Hooks:
    hooks = Hooks(budgets=core.budgets, limits=core.limits)
    core.budgets.add_notifier(GuiNotifier(bridge))
    core.limits.add_notifier(GuiNotifier(bridge))  # window alerts: the same notification
    hooks.estimator_available = importlib.util.find_spec("spendtray.estimator.estimate") is not None
    return hooks
