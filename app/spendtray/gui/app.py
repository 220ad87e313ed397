"""The GUI shell: wires a started ``Core`` to the bridge, refresher, tray and windows.

GUI thread. ``GuiApp`` owns every Qt object of the app and the order of shutdown: stop the
refresher, hide the tray and windows, then ``Core.stop()``, which stops every part the core owns
(agent-log watcher — its pass in progress is committed —, server, budget worker, writer drained,
read connections closed).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from spendtray.config import ConfigError, Settings, with_overrides
from spendtray.config_write import save_settings
from spendtray.core import Core
from spendtray.gui.bridge import Bridge
from spendtray.gui.integrations import Hooks, discover
from spendtray.gui.limits_panel import LimitsFeed, LimitsPanel
from spendtray.gui.refresher import TICK_MS, Refresher
from spendtray.gui.tray import TrayActions, TrayController
from spendtray.importers import KINDS, ImportReport, ImportWatcher
from spendtray.importers.registry import source
from spendtray.importers.watcher import DEFAULT_INTERVAL
from spendtray.views.machines import ThisMachine
from spendtray.views.snapshot import Snapshot
from spendtray.views.tray_text import BudgetView

if TYPE_CHECKING:
    from spendtray.gui.dashboard import Dashboard, DashboardContext

log = logging.getLogger(__name__)


NO_TRAY_MESSAGE = (
    "No system tray found: Spendtray opens its dashboard as a normal window instead "
    "(closing it quits Spendtray)."
)


class GuiApp(QObject):
    ready = Signal()  # first figures are on the tray / window
    stopped = Signal()

    def __init__(
        self,
        core: Core,
        clock: Callable[[], dt.datetime] | None = None,
        use_tray: bool | None = None,
        tick_ms: int = TICK_MS,
        import_interval: float = DEFAULT_INTERVAL,
    ) -> None:
        super().__init__()
        self.core = core
        self.settings: Settings = core.settings
        self.clock = clock or core.clock
        self.use_tray = QSystemTrayIcon.isSystemTrayAvailable() if use_tray is None else use_tray
        self.started_at = time.perf_counter()
        self.bridge = Bridge()
        self.bridge.attach(core.writer)
        self.hooks: Hooks = discover(core, self.bridge)
        budgets = self.hooks.budgets
        has_budgets = budgets is not None
        self.refresher = Refresher(
            core.reader,
            self.clock,
            budget_lines=self.hooks.budget_lines if has_budgets else None,
            budget_state=self.hooks.budget_view if has_budgets else None,
            tick_ms=tick_ms,
            machine_state=self._this_machine,
        )
        if budgets is not None:
            budgets.add_state_listener(self.bridge.budgets_changed.emit)
        self.bridge.committed.connect(self.refresher.request)
        self.bridge.budgets_changed.connect(self.refresher.request)
        self.bridge.alert.connect(self._show_alert)
        self.bridge.activate.connect(self.open_dashboard)
        self.bridge.imported.connect(self._on_imported)
        self.refresher.ready.connect(self._on_snapshot)
        self.refresher.failed.connect(self._on_failed)
        self.import_interval = import_interval
        self.import_note = ""  # the last line about imported agent logs (status bar)
        self._shown_import_error: str | None = None
        self.tray = TrayController(
            TrayActions(
                open_dashboard=self.open_dashboard,
                open_settings=self.open_settings,
                quit=self.quit,
                ingest_url=lambda: self.core.url,
                token=lambda: self.core.token,
                precision=lambda: self.settings.currency_precision,
                notifications_enabled=lambda: self.settings.notifications,
                open_estimator=self.open_estimator if self.hooks.estimator_available else None,
                pause_changed=self.hooks.set_paused,
                following_logs=lambda: self.core.watcher is not None,
                follow_logs_changed=self.set_follow_logs,
            )
        )
        # subscription windows: tray lines, icon state, the dashboard's Limits tab
        self.limits = LimitsFeed(core.limits, self.clock)
        self.limits.changed.connect(self.tray.set_limits)
        self.dashboard: Dashboard | None = None
        self.estimator: QObject | None = None
        self.settings_dialog: QObject | None = None
        self.is_ready = False
        self._stopped = False

    def _this_machine(self) -> ThisMachine:
        """Asked on the refresh thread: plain attribute reads, no Qt."""
        sync = self.core.sync
        return ThisMachine(
            self.settings.machine_name,
            sync.machine_id if sync is not None else None,
            self.settings.sync_folder or None,
        )

    # -- start ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.use_tray:
            self.tray.show()
        else:
            log.warning(NO_TRAY_MESSAGE)
            self.open_dashboard()
            assert self.dashboard is not None
            # said once, where the user is looking; it gives way to the usual status after
            self.dashboard.statusBar().showMessage(NO_TRAY_MESSAGE, 60_000)
        self.refresher.refresh_now()
        self.limits.start()
        if self.settings.follow_agent_logs:
            self._follow_logs(True)

    def _on_snapshot(self, result: tuple[Snapshot, BudgetView | None]) -> None:
        snapshot, budget = result
        self.tray.update(snapshot, budget)
        if self.dashboard is not None:
            self.dashboard.apply(snapshot)
        if not self.is_ready:
            self.is_ready = True
            log.info(
                "tray ready %.3f s after the GUI started", time.perf_counter() - self.started_at
            )
            self.ready.emit()

    def _on_failed(self, message: str) -> None:
        if self.dashboard is not None:
            self.dashboard.show_error(message)

    # -- windows --------------------------------------------------------------------------

    def dashboard_context(self) -> DashboardContext:
        from spendtray.gui.dashboard import DashboardContext

        return DashboardContext(
            zone=self.core.reader.zone,
            url=lambda: self.core.url,
            token=lambda: self.core.token,
            require_token=lambda: self.settings.require_token,
            precision=lambda: self.settings.currency_precision,
            now=self.clock,
            open_settings=self.open_settings,
            budget_editor=self.hooks.budget_editor(),
            limits_panel=lambda: LimitsPanel(self.limits),
            home=self.settings.home,
        )

    def ensure_dashboard(self) -> Dashboard:
        if self.dashboard is None:
            # pyqtgraph and numpy cost ~50 MB: a tray that is never opened does without them
            from spendtray.gui.charts import setup_pyqtgraph
            from spendtray.gui.dashboard import Dashboard

            setup_pyqtgraph()
            dashboard = Dashboard(self.dashboard_context())
            dashboard.filters_changed.connect(self.refresher.set_filters)
            dashboard.visibility_changed.connect(self.refresher.set_dashboard_open)
            dashboard.part_changed.connect(self.refresher.set_visible_part)
            self.refresher.visible_parts = frozenset({dashboard.visible_part()})
            dashboard.closed.connect(self._on_dashboard_closed)
            if dashboard.budget_editor is not None and hasattr(dashboard.budget_editor, "changed"):
                # new or changed limits move the budget lines and maybe the tray colour
                dashboard.budget_editor.changed.connect(self.refresher.refresh_now)
            if self.refresher.latest is not None and self.refresher.latest.dashboard is not None:
                dashboard.apply(self.refresher.latest)
            self.dashboard = dashboard
        return self.dashboard

    def open_dashboard(self) -> None:
        self.ensure_dashboard().bring_to_front()

    def _on_dashboard_closed(self) -> None:
        if not self.use_tray:
            self.quit()

    def open_estimator(self) -> None:
        from spendtray.gui.estimator_window import EstimatorWindow

        if self.estimator is None:
            self.estimator = EstimatorWindow(self.core)
        window = self.estimator
        assert isinstance(window, EstimatorWindow)
        window.show()
        window.raise_()
        window.activateWindow()

    def open_settings(self) -> None:
        from spendtray.gui.settings_dialog import SettingsDialog

        port = self.core.runner.port if self.core.runner is not None else self.settings.port
        dialog = SettingsDialog(self.settings, port, self._settings_saved)
        self.settings_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _settings_saved(self, saved: Settings) -> None:
        # Port and token apply at the next start; what is shown applies now.
        self.settings = saved
        self._follow_logs(saved.follow_agent_logs)
        self.refresher.refresh_now()

    # -- agent logs -----------------------------------------------------------------------

    def set_follow_logs(self, on: bool) -> None:
        """The tray's toggle: follow (or stop following) the agents' logs and save the choice."""
        self._follow_logs(on)
        try:
            save_settings(self.settings, {"follow_agent_logs": on})
        except (ConfigError, OSError) as exc:
            log.error("could not save follow_agent_logs: %s", exc)
            self._status(f"Could not save the setting: {exc}")
            return
        # the re-read file would drop a one-run --port override, so only this key changes
        self.settings = with_overrides(self.settings, follow_agent_logs=on)

    @property
    def watcher(self) -> ImportWatcher | None:
        """The core's agent-log watcher, while the logs are followed."""
        return self.core.watcher

    def _follow_logs(self, on: bool) -> None:
        if on and self.core.watcher is None:
            try:
                self.core.follow_agent_logs(KINDS, self.import_interval, self.bridge.follow)
            except Exception as exc:  # never worth crashing the tray over
                log.exception("could not start following the agent logs")
                self._status(f"Could not follow the agent logs: {exc}")
                return
            log.info("following the agent logs (%s)", ", ".join(KINDS))
        elif not on and self.core.watcher is not None:
            # joins the watcher thread: at most the pass in progress, whose events then commit
            self.core.stop_following_agent_logs()
            log.info("stopped following the agent logs")

    def _on_imported(self, reports: list[ImportReport], error: str | None) -> None:
        if self._stopped:  # a pass queued before the watcher stopped; the windows may be gone
            return
        if error is not None:
            # the watcher logs each failure; the user hears about each new one once
            if error != self._shown_import_error:
                self._shown_import_error = error
                self._status(f"Reading the agent logs failed: {error}")
            return
        self._shown_import_error = None
        if self.dashboard is not None:
            # every source found on this machine is offered in the Source filter, calls or not
            self.dashboard.add_filter_keys("source", [r.kind for r in reports if r.roots])
        stored = {r.kind: r.stored for r in reports if r.stored}
        if stored:
            total = sum(stored.values())
            where = " and ".join(f"{source(kind).label} logs" for kind in sorted(stored))
            self._status(f"Imported {total:,} new call{'' if total == 1 else 's'} from {where}")

    def _status(self, text: str) -> None:
        self.import_note = text
        if self.dashboard is not None:
            self.dashboard.statusBar().showMessage(text, 15_000)

    # -- alerts ---------------------------------------------------------------------------

    def _show_alert(self, alert: object) -> None:
        if self._stopped:  # queued before the budget thread stopped; the tray icon is gone
            return
        text = str(getattr(alert, "text", alert))
        state = str(getattr(alert, "state", "warning"))
        kind = str(getattr(alert, "kind", "threshold"))
        title = getattr(alert, "title", None) or (
            "Spendtray — budget exceeded" if state == "exceeded" else f"Spendtray — {kind}"
        )
        if not self.tray.notify(title, text, state):
            log.info("budget alert not shown as a notification: %s", text)

    # -- stop -----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop everything, once: refresher, tray and windows, then the core (every part)."""
        if self._stopped:
            return
        self._stopped = True
        self.refresher.stop()
        self.limits.stop()
        self.bridge.close()
        self.tray.hide()
        for window in (self.dashboard, self.estimator, self.settings_dialog):
            if window is not None and hasattr(window, "hide"):
                window.hide()
        if self.estimator is not None and hasattr(self.estimator, "shutdown"):
            self.estimator.shutdown()
        self.core.stop()
        self._delete_qt_parts()
        log.info("stopped; every acknowledged event is stored")
        self.stopped.emit()

    def _delete_qt_parts(self) -> None:
        """Delete now, on the GUI thread, the Qt objects with a native window, a thread or a
        timer: the tray icon and its menu, the refresher (its worker and QThread go in
        ``stop``) and the limits feed. The app's callbacks (tray actions, refresher hooks)
        point back at the app, so these objects sit in reference cycles that Python's cycle
        collector frees whenever some thread allocates enough — often a worker thread — and a
        widget or QThread destroyed there while the GUI thread runs its event loop crashes
        the process. The windows are the user's (or a test's) to close and delete."""
        for part in (self.tray.icon, self.tray.menu, self.refresher, self.limits):
            if shiboken6.isValid(part):
                shiboken6.delete(part)

    def quit(self) -> None:
        self.shutdown()
        app = QApplication.instance()
        if app is not None:
            app.quit()
