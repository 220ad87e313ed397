"""The dashboard window: headline figures, filter bar, and one tab per view: Overview charts,
Breakdown (share bars beside the table, totals always in sight), Recent calls, Budgets.

GUI thread only. It never queries anything itself: it shows the ``Snapshot`` the refresher
sends and reports filter changes back through ``filters_changed``. What the tabs say is computed
by the Qt-free ``spendtray.views`` modules; a new tab is one widget and one ``add_tab`` call,
a new filter one entry in ``FILTER_DIMENSIONS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from spendtray.gui.charts import DaysChart, MonthChart, TodayChart
from spendtray.gui.empty_state import EmptyState
from spendtray.gui.icons import app_icon
from spendtray.gui.share_bars import ShareBars
from spendtray.gui.tables import RowsModel, fit_columns, table_view
from spendtray.money import format_usd
from spendtray.store.reader import Summary
from spendtray.views.breakdown import breakdown_columns, breakdown_rows, share_bars, totals_text
from spendtray.views.calls import call_columns
from spendtray.views.machines import MachineSync, sync_columns
from spendtray.views.snapshot import BREAKDOWNS, TIME_RANGES, Cards, Snapshot, ViewFilters

BREAKDOWN_TITLES = {
    "project": "Project",
    "model": "Model",
    "provider": "Provider",
    "agent": "Agent",
    "source": "Source",
    "machine": "Machine",
}
FILTER_DIMENSIONS = ("project", "model", "provider", "source", "machine")
FILTER_CHARS = 11
# shown once there is more than one to choose from (one machine is every user's start)
SHOWN_WITH_CHOICES = frozenset({"machine"})
CALLS_STRETCH = 3  # the Model column takes the width the others leave
# While the Budgets tab is shown it is re-read this often: what calls in flight through the
# proxy hold changes with no commit to trigger a refresh.
BUDGETS_TICK_MS = 2000


@dataclass
class DashboardContext:
    zone: ZoneInfo
    url: Callable[[], str]
    token: Callable[[], str]
    require_token: Callable[[], bool]
    precision: Callable[[], int]
    now: Callable[[], dt.datetime]
    open_settings: Callable[[], None]
    budget_editor: Callable[[], QWidget] | None = None
    limits_panel: Callable[[], QWidget] | None = None  # the "Limits" tab (gui.limits_panel)
    home: Path | None = None  # the data folder, shown on the first-run page


def _figure(caption: str) -> tuple[QWidget, QLabel]:
    box = QFrame()
    box.setObjectName("figure")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(12, 6, 12, 6)
    layout.setSpacing(0)
    label = QLabel(caption)
    label.setStyleSheet("color: #495057;")
    value = QLabel("—")
    value.setStyleSheet("font-size: 20px; font-weight: 600; color: #212529;")
    value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout.addWidget(label)
    layout.addWidget(value)
    return box, value


class BreakdownPage(QWidget):
    """One dimension at a time: its cost shares as bars beside its table, the totals below."""

    def __init__(
        self,
        precision: Callable[[], int],
        zone: ZoneInfo | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        self.precision = precision
        self.group = BREAKDOWNS[0]
        self.summaries: dict[str, Summary] = {}
        # each machine's last sync: extra Machine columns once more than one machine is here
        self.machine_sync: MachineSync | None = None
        self._sync_columns = sync_columns(
            lambda: self.machine_sync,
            zone or ZoneInfo("UTC"),
            now or (lambda: dt.datetime.now(dt.UTC)),
        )
        layout = QVBoxLayout(self)
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("By"))
        self.buttons = QButtonGroup(self)
        self.buttons.setExclusive(True)
        for group in BREAKDOWNS:
            button = QPushButton(BREAKDOWN_TITLES[group])
            button.setCheckable(True)
            button.setChecked(group == self.group)
            button.setProperty("group", group)
            self.buttons.addButton(button)
            chooser.addWidget(button)
        self.buttons.buttonClicked.connect(lambda b: self.show_group(str(b.property("group"))))
        chooser.addStretch(1)
        layout.addLayout(chooser)

        self.models = {
            group: RowsModel(breakdown_columns(BREAKDOWN_TITLES[group], precision))
            for group in BREAKDOWNS
        }
        self.bars = ShareBars()
        bars_box = QScrollArea()
        bars_box.setWidget(self.bars)
        bars_box.setWidgetResizable(True)
        bars_box.setFrameShape(QFrame.Shape.NoFrame)
        self.bars_title = QLabel()
        self.bars_title.setStyleSheet("font-weight: 600;")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.bars_title)
        left_layout.addWidget(bars_box, 1)
        self.table = table_view(self.models[self.group], stretch=0)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.table)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self.totals = QLabel("—")
        self.totals.setStyleSheet("font-weight: 600; padding: 4px 2px;")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.totals)

    def set_machine_sync(self, sync: MachineSync) -> None:
        was = self.machine_sync is not None and self.machine_sync.shown
        self.machine_sync = sync
        if sync.shown != was:
            base = breakdown_columns(BREAKDOWN_TITLES["machine"], self.precision)
            self.models["machine"].set_columns(base + self._sync_columns if sync.shown else base)
            if self.group == "machine":
                self.show_group("machine")

    def set_summaries(self, summaries: dict[str, Summary]) -> None:
        self.summaries = summaries
        for group, model in self.models.items():
            summary = summaries.get(group)
            if summary is not None:
                model.set_rows(breakdown_rows(summary))
        self._show_current()

    def show_group(self, group: str) -> None:
        self.group = group
        for button in self.buttons.buttons():
            button.setChecked(button.property("group") == group)
        self.table.setModel(self.models[group])
        self.table.setProperty("sized_rows", None)
        self._show_current()
        fit_columns(self.table)
        # a new model (or new columns) brings new header sections: the name column stretches
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def _show_current(self) -> None:
        summary = self.summaries.get(self.group)
        if summary is None:
            return
        precision = self.precision()
        self.bars.set_bars(share_bars(summary, precision), precision)
        self.bars_title.setText(f"Share of cost by {self.group}")
        self.totals.setText(totals_text(summary, precision))


class Dashboard(QMainWindow):
    filters_changed = Signal(object)  # ViewFilters
    visibility_changed = Signal(bool)
    part_changed = Signal(str)  # the data part the visible tab shows ("" for none)
    closed = Signal()

    def __init__(self, ctx: DashboardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.snapshot: Snapshot | None = None
        self.setWindowTitle("Spendtray — LLM spend")
        self.setWindowIcon(app_icon())
        self.resize(1180, 760)
        self._known: dict[str, set[str]] = {d: set() for d in FILTER_DIMENSIONS}

        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(10, 8, 10, 6)
        self.setCentralWidget(root)

        # headline figures (under the filter bar's project/model/provider/source/machine)
        figures = QHBoxLayout()
        box, self.today_value = _figure("Today")
        figures.addWidget(box)
        box, self.month_value = _figure("This month")
        figures.addWidget(box)
        box, self.top_value = _figure("Top project this month")
        figures.addWidget(box)
        box, self.range_value = _figure("Selected range")
        figures.addWidget(box)
        figures.addStretch(1)
        settings_button = QPushButton("Settings…")
        settings_button.clicked.connect(ctx.open_settings)
        figures.addWidget(settings_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(figures)

        # filter bar
        bar = QHBoxLayout()
        self.combos: dict[str, QComboBox] = {}
        self.filter_labels: dict[str, QLabel] = {}
        for dim in FILTER_DIMENSIONS:
            combo = QComboBox()
            # five filters and the range fit the window's 1180 px with "All providers" whole
            combo.setMinimumContentsLength(FILTER_CHARS)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.addItem(f"All {dim}s", None)
            combo.currentIndexChanged.connect(self._emit_filters)
            self.combos[dim] = combo
            self.filter_labels[dim] = QLabel(dim.capitalize() + ":")
            bar.addWidget(self.filter_labels[dim])
            bar.addWidget(combo)
        self.range_combo = QComboBox()
        for key, label in TIME_RANGES.items():
            self.range_combo.addItem(label, key)
        self.range_combo.setCurrentIndex(list(TIME_RANGES).index("30d"))
        self.range_combo.currentIndexChanged.connect(self._emit_filters)
        bar.addWidget(QLabel("Range:"))
        bar.addWidget(self.range_combo)
        bar.addStretch(1)
        self.filter_bar = QWidget()
        self.filter_bar.setLayout(bar)
        bar.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.filter_bar)
        self._show_filters_with_choices()

        self.unpriced_banner = QLabel()
        self.unpriced_banner.setWordWrap(True)
        self.unpriced_banner.setStyleSheet(
            "background: #edf2ff; border: 1px solid #4c6ef5; border-radius: 4px; "
            "padding: 6px; color: #1c2b7a;"
        )
        self.unpriced_banner.hide()
        outer.addWidget(self.unpriced_banner)

        # pages: the first-run explanation, or the data
        self.stack = QStackedWidget()
        self.empty = EmptyState()
        self.stack.addWidget(self.empty)
        self.tabs = QTabWidget()
        self.stack.addWidget(self.tabs)
        outer.addWidget(self.stack, 1)
        self.tab_parts: dict[QWidget, str] = {}
        self.tables: list[QTableView] = []

        self.today_chart = TodayChart(str(ctx.zone))
        self.month_chart = MonthChart()
        self.days_chart = DaysChart()
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.today_chart.widget)
        top.addWidget(self.month_chart.widget)
        overview = QSplitter(Qt.Orientation.Vertical)
        overview.addWidget(top)
        overview.addWidget(self.days_chart.widget)
        self.add_tab(overview, "Overview", "overview")

        self.breakdown = BreakdownPage(ctx.precision, ctx.zone, ctx.now)
        self.breakdown_models = self.breakdown.models
        self.tables.append(self.breakdown.table)
        self.add_tab(self.breakdown, "Breakdown", "breakdown")

        self.calls_model = RowsModel(call_columns(ctx.zone, ctx.now, ctx.precision))
        self.calls_machine_column = False
        self.calls_view = table_view(self.calls_model, stretch=CALLS_STRETCH)
        self.tables.append(self.calls_view)
        self.add_tab(self.calls_view, "Recent calls", "calls")

        self.budget_editor: QWidget | None = None
        self.budget_tick = QTimer(self)
        self.budget_tick.setInterval(BUDGETS_TICK_MS)
        self.budget_tick.timeout.connect(self._refresh_budget_editor)
        if ctx.budget_editor is not None:
            self.budget_editor = ctx.budget_editor()
            self.add_tab(self.budget_editor, "Budgets", "")
        self.limits_panel: QWidget | None = None
        if ctx.limits_panel is not None:
            self.limits_panel = ctx.limits_panel()
            self.add_tab(self.limits_panel, "Limits", "")
        self.tabs.currentChanged.connect(self._tab_changed)

        self.status = QLabel()
        self.status.setStyleSheet("color: #868e96;")
        self.statusBar().addWidget(self.status, 1)
        self.empty.set_target(ctx.url(), ctx.token(), ctx.require_token(), ctx.home)
        self.stack.setCurrentWidget(self.empty)

    def add_tab(self, widget: QWidget, title: str, part: str) -> None:
        """Add a tab; ``part`` names the snapshot part it shows (see ``views.snapshot.PARTS``),
        "" when it reads its own data."""
        self.tabs.addTab(widget, title)
        if part:
            self.tab_parts[widget] = part

    # -- filters --------------------------------------------------------------------------

    def current_filters(self) -> ViewFilters:
        return ViewFilters(
            project=self.combos["project"].currentData(),
            model=self.combos["model"].currentData(),
            provider=self.combos["provider"].currentData(),
            source=self.combos["source"].currentData(),
            machine=self.combos["machine"].currentData(),
            time_range=self.range_combo.currentData(),
        )

    def set_filter(self, dimension: str, value: str | None) -> None:
        """Select ``value`` in a filter (adding it when not seen yet), as a user would."""
        if dimension == "time_range":
            self.range_combo.setCurrentIndex(self.range_combo.findData(value))
            return
        combo = self.combos[dimension]
        index = combo.findData(value)
        if value is None:
            index = 0
        elif index < 0:
            combo.addItem(value, value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)
        self._show_filters_with_choices()

    def _emit_filters(self) -> None:
        self.filters_changed.emit(self.current_filters())

    def visible_part(self) -> str:
        return self.tab_parts.get(self.tabs.currentWidget(), "")

    def show_tab(self, part: str) -> None:
        for widget, name in self.tab_parts.items():
            if name == part:
                self.tabs.setCurrentWidget(widget)

    def add_filter_keys(self, dimension: str, keys: list[str]) -> None:
        """Offer ``keys`` in a filter before any call of theirs is stored (found sources)."""
        self._learn_keys({dimension: keys})

    def _learn_keys(self, found: dict[str, list[str]]) -> None:
        for dim in FILTER_DIMENSIONS:
            keys = set(found.get(dim, ()))
            if not keys - self._known[dim]:
                continue
            self._known[dim] |= keys
            combo = self.combos[dim]
            current = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for key in sorted(self._known[dim]):
                combo.addItem(key, key)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)
        self._show_filters_with_choices()

    def _show_filters_with_choices(self) -> None:
        for dim in SHOWN_WITH_CHOICES:
            combo = self.combos[dim]
            shown = combo.count() > 2 or combo.currentIndex() > 0
            combo.setVisible(shown)
            self.filter_labels[dim].setVisible(shown)

    # -- showing a snapshot ---------------------------------------------------------------

    def apply(self, snapshot: Snapshot) -> None:
        """Show what the refresh read; parts it did not read keep their last figures."""
        data = snapshot.dashboard
        if data is None:
            return
        self.snapshot = snapshot
        precision = self.ctx.precision()
        tray = snapshot.tray
        cards = data.cards or Cards(
            tray.today_nanos, tray.today_calls, tray.month_nanos, tray.month_calls, tray.top_project
        )
        self.today_value.setText(format_usd(cards.today_nanos, precision))
        self.month_value.setText(format_usd(cards.month_nanos, precision))
        self.top_value.setText(
            f"{cards.top_project[0]} · {format_usd(cards.top_project[1], precision)}"
            if cards.top_project
            else "—"
        )
        total = data.range_total
        self.range_value.setText(
            f"{format_usd(total.cost_nanos, precision)} · {total.calls:,} "
            f"call{'' if total.calls == 1 else 's'}"
        )
        if not tray.any_events:
            self.empty.set_target(
                self.ctx.url(), self.ctx.token(), self.ctx.require_token(), self.ctx.home
            )
            self.stack.setCurrentWidget(self.empty)
            self.filter_bar.hide()
        else:
            self.stack.setCurrentWidget(self.tabs)
            self.filter_bar.show()
        if data.keys is not None:
            self._learn_keys(data.keys)
        if data.overview is not None:
            self.today_chart.set_data(data.overview)
            self.days_chart.set_data(data.overview)
            if data.overview.month is not None:
                self.month_chart.set_data(data.overview.month, precision)
        if data.breakdowns is not None:
            self._learn_keys(
                {
                    d: [r.key for r in data.breakdowns[d].rows]
                    for d in FILTER_DIMENSIONS
                    if d in data.breakdowns
                }
            )
            if data.machines is not None:  # before the rows, which read it as they are drawn
                self.breakdown.set_machine_sync(data.machines)
                self._calls_say_machine(data.machines.shown)
            self.breakdown.set_summaries(dict(data.breakdowns))
        if data.events is not None:
            self.calls_model.set_rows(data.events)
        self._refresh_budget_editor()
        self._show_unpriced(data.unpriced)
        local = snapshot.now.astimezone(self.ctx.zone)
        self.status.setText(
            f"Updated {local:%H:%M:%S} · read in {snapshot.seconds * 1000:.0f} ms · "
            f"ingest URL {self.ctx.url()}/v1/usage"
        )

    def _calls_say_machine(self, shown: bool) -> None:
        """Calls from more than one machine say where each was made (a Machine column)."""
        if shown == self.calls_machine_column:
            return  # new columns reset the table: scroll position and selection would go
        self.calls_machine_column = shown
        ctx = self.ctx
        self.calls_model.set_columns(call_columns(ctx.zone, ctx.now, ctx.precision, shown))
        self.calls_view.setProperty("sized_rows", None)
        fit_columns(self.calls_view)
        header = self.calls_view.horizontalHeader()
        header.setSectionResizeMode(CALLS_STRETCH, QHeaderView.ResizeMode.Stretch)

    def _tab_changed(self, _index: int) -> None:
        for view in self.tables:
            fit_columns(view)
        self.part_changed.emit(self.visible_part())
        self._refresh_budget_editor()

    def _refresh_budget_editor(self) -> None:
        # A few rollup sums on this thread, so only while the user is looking at the tab.
        editor = self.budget_editor
        looking = editor is not None and self.isVisible() and self.tabs.currentWidget() is editor
        if looking:
            editor.refresh()  # type: ignore[union-attr]
            if not self.budget_tick.isActive():
                self.budget_tick.start()
        else:
            self.budget_tick.stop()

    def _show_unpriced(self, unpriced: list[dict[str, object]]) -> None:
        if not unpriced:
            self.unpriced_banner.hide()
            return
        calls = sum(int(str(u["calls"])) for u in unpriced)
        names = ", ".join(f"{u['model']} ({u['provider']}, {u['calls']:,})" for u in unpriced[:6])
        more = f" and {len(unpriced) - 6} more" if len(unpriced) > 6 else ""
        self.unpriced_banner.setText(
            f"<b>{calls:,} call{'s' if calls != 1 else ''} with no known price</b> in this "
            f"range, so not in the totals: {names}{more}. Add their prices to prices.toml in "
            "the data folder to price future calls."
        )
        self.unpriced_banner.show()

    def show_error(self, message: str) -> None:
        self.status.setText(f"Could not read the data: {message}")

    # -- window ---------------------------------------------------------------------------

    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.visibility_changed.emit(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.budget_tick.stop()
        self.visibility_changed.emit(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window hides it; the tray's Quit ends the app (or, with no tray, this).
        event.accept()
        self.closed.emit()
