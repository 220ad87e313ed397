"""The system-tray icon: colour by state, tooltip, a menu rebuilt each time it opens. GUI thread.

The controller keeps the latest figures from the refresher, so opening the menu never queries
the database; it only formats what the last refresh brought.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from spendtray.gui.icons import state_icon
from spendtray.views import tray_text
from spendtray.views.limits_view import LimitsView
from spendtray.views.snapshot import Snapshot, TrayFigures

NOTIFY_MS = 10_000
FOLLOW_LOGS = "Follow coding agents' logs"


@dataclass
class TrayActions:
    """What the menu can do; ``open_estimator`` is None when no estimator is installed."""

    open_dashboard: Callable[[], None]
    open_settings: Callable[[], None]
    quit: Callable[[], None]
    ingest_url: Callable[[], str]
    token: Callable[[], str]
    precision: Callable[[], int]
    notifications_enabled: Callable[[], bool]
    open_estimator: Callable[[], None] | None = None
    pause_changed: Callable[[bool], None] | None = None
    following_logs: Callable[[], bool] | None = None  # is the agent-log watcher on?
    follow_logs_changed: Callable[[bool], None] | None = None


class TrayController(QObject):
    state_changed = Signal(str)

    def __init__(self, actions: TrayActions) -> None:
        super().__init__()
        self.actions = actions
        self.figures: TrayFigures | None = None
        self.budget: tray_text.BudgetView | None = None
        self.state = "ok"
        self.budget_state = "ok"  # what the figures and budgets alone say
        self.limits: LimitsView = LimitsView()
        self.paused = False
        self.icon = QSystemTrayIcon(state_icon("ok"))
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.icon.setToolTip(tray_text.tooltip(None, "ok", actions.precision()))
        self.rebuild_menu()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    # -- live figures ---------------------------------------------------------------------

    def update(self, snapshot: Snapshot, budget: tray_text.BudgetView | None) -> None:
        self.figures = snapshot.tray
        self.budget = budget
        self.budget_state = tray_text.tray_state(snapshot.tray, budget.state if budget else None)
        self._show_state()

    def set_limits(self, view: LimitsView) -> None:
        """Subscription windows changed (or time moved): tooltip, menu and icon follow."""
        self.limits = view
        self._show_state()

    def _show_state(self) -> None:
        # A window at 100 % stops work like a spent budget: the icon says so.
        state = self.budget_state
        if self.limits.state == "exceeded" or (
            self.limits.state == "warning" and state in ("ok", "unpriced")
        ):
            state = self.limits.state
        if state != self.state:
            self.state = state
            self.icon.setIcon(state_icon(state))
            self.state_changed.emit(state)
        tip = tray_text.tooltip(self.figures, state, self.actions.precision(), self.budget)
        urgent = self.limits.urgent_line()
        self.icon.setToolTip(f"{tip}\n{urgent}" if urgent and self.figures else tip)

    # -- menu -----------------------------------------------------------------------------

    def rebuild_menu(self) -> None:
        menu = self.menu
        menu.clear()
        precision = self.actions.precision()
        if self.figures is not None:
            for line in (
                tray_text.today_line(self.figures, precision),
                tray_text.month_line(self.figures, precision),
                tray_text.top_project_line(self.figures, precision),
            ):
                menu.addAction(line).setEnabled(False)
            if self.budget_state != "ok":
                worst = self.budget.worst if self.budget else None
                text = worst if worst and self.budget_state != "unpriced" else None
                menu.addAction(text or tray_text.STATE_WORDS[self.budget_state]).setEnabled(False)
            menu.addSeparator()
        if self.limits.urgent is not None:
            for row in self.limits.rows:
                if row.key[1] == "subscription" and not row.stale:
                    menu.addAction(row.line()).setEnabled(False)
            pace = self.limits.pace_line()
            if pace:
                menu.addAction(pace).setEnabled(False)
            menu.addSeparator()
        menu.addAction("Open dashboard", self.actions.open_dashboard)
        if self.actions.open_estimator is not None:
            menu.addAction("Estimator…", self.actions.open_estimator)
        menu.addSeparator()
        pause: QAction = menu.addAction("Pause notifications")
        pause.setCheckable(True)
        pause.setChecked(self.paused)
        pause.toggled.connect(self._set_paused)
        if self.actions.following_logs is not None and self.actions.follow_logs_changed:
            follow: QAction = menu.addAction(FOLLOW_LOGS)
            follow.setCheckable(True)
            follow.setChecked(self.actions.following_logs())
            follow.toggled.connect(self.actions.follow_logs_changed)
        menu.addAction("Copy ingest URL", self.copy_url)
        menu.addAction("Copy token", self.copy_token)
        menu.addAction("Settings…", self.actions.open_settings)
        menu.addSeparator()
        menu.addAction("Quit Spendtray", self.actions.quit)

    def _set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self.actions.pause_changed is not None:
            self.actions.pause_changed(paused)

    def copy_url(self) -> None:
        QGuiApplication.clipboard().setText(self.actions.ingest_url() + "/v1/usage")

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.actions.token())

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.actions.open_dashboard()

    # -- notifications --------------------------------------------------------------------

    def notify(self, title: str, message: str, severity: str = "warning") -> bool:
        """Show a desktop notification unless paused/disabled; answers whether it was shown."""
        if self.paused or not self.actions.notifications_enabled():
            return False
        if not QSystemTrayIcon.isSystemTrayAvailable() or not self.icon.isVisible():
            return False
        kind = (
            QSystemTrayIcon.MessageIcon.Critical
            if severity == "exceeded"
            else QSystemTrayIcon.MessageIcon.Warning
        )
        self.icon.showMessage(title, message, kind, NOTIFY_MS)
        return True
