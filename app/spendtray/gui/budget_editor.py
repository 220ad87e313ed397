"""The budgets editor: list, add, edit and remove budgets, with where each one stands now.

GUI thread only. It talks to the running ``spendtray.budgets.BudgetService`` directly (no
HTTP): reads are a few rollup sums, writes go through the writer thread and return once
committed. Validation is the core's (``spendtray.budgets.model``), so the editor refuses
exactly what the API and the CLI refuse, with the same words, and changes nothing then.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from spendtray.budgets.evaluate import BudgetStatus
from spendtray.budgets.model import (
    GLOBAL,
    PERIODS,
    Budget,
    BudgetError,
    check_mode,
    check_period,
    check_project,
    parse_limit,
    parse_thresholds_text,
    percent_text,
)
from spendtray.budgets.service import BudgetService
from spendtray.money import format_usd
from spendtray.views.budget_rows import COLUMNS, IN_FLIGHT_TIP, MODE_CHOICES, RIGHT, budget_row

STATE_COLOURS = {"ok": "#2f9e44", "warning": "#f08c00", "exceeded": "#e03131"}


class BudgetEditor(QWidget):
    """A table of budgets and a form to add, change or remove one."""

    changed = Signal()  # a budget was saved or removed

    def __init__(self, service: BudgetService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.statuses: list[BudgetStatus] = []
        self.setObjectName("budgetEditor")

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._fill_from_selection)
        self.empty = QLabel("No budgets yet. Add one below: a project (or * for all) and a limit.")
        self.empty.setStyleSheet("color: #868e96;")

        self.project = QLineEdit()
        self.project.setPlaceholderText("project name, or * for all projects")
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.period.setCurrentText("month")
        self.limit = QLineEdit()
        self.limit.setPlaceholderText("US dollars, e.g. 50")
        self.mode = QComboBox()
        for value, label in MODE_CHOICES:
            self.mode.addItem(label, value)
        self.thresholds = QLineEdit("50, 80, 100")
        self.thresholds.setToolTip("Percents of the limit that notify, ascending, up to 100")

        form = QFormLayout()
        form.addRow("Project", self.project)
        form.addRow("Period", self.period)
        form.addRow("Limit ($)", self.limit)
        form.addRow("When spent", self.mode)
        form.addRow("Notify at (%)", self.thresholds)

        self.save_button = QPushButton("Save budget")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.clicked.connect(self.remove_selected)
        self.new_button = QPushButton("New")
        self.new_button.clicked.connect(self.clear_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.save_button)

        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.refresh()

    # -- showing ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload budgets and their standing (call after ingest or on a timer)."""
        selected = self.selected_key()
        self.statuses = self.service.statuses(forecast=True)
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.statuses))
        zone = self.service.zone
        for row, status in enumerate(self.statuses):
            b = status.budget
            for col, text in enumerate(budget_row(status, zone)):
                item = QTableWidgetItem(text)
                if COLUMNS[col] in RIGHT:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if COLUMNS[col] == "State":
                    item.setForeground(QColor(STATE_COLOURS[status.state]))
                if COLUMNS[col] == "Spent" and status.reserved_nanos > 0:
                    item.setToolTip(IN_FLIGHT_TIP)
                if COLUMNS[col] == "Forecast" and status.forecast_over:
                    item.setForeground(QColor(STATE_COLOURS["exceeded"]))
                self.table.setItem(row, col, item)
            if (b.project, b.period) == selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self.empty.setVisible(not self.statuses)
        self.remove_button.setEnabled(bool(self.statuses))

    def selected_key(self) -> tuple[str, str] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.statuses):
            return None
        b = self.statuses[rows[0].row()].budget
        return b.project, b.period

    def _fill_from_selection(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        b = next(s.budget for s in self.statuses if (s.budget.project, s.budget.period) == key)
        self.project.setText(b.project)
        self.period.setCurrentText(b.period)
        self.limit.setText(f"{b.limit_nanos / 1e9:g}")
        self.mode.setCurrentIndex(self.mode.findData(b.mode))
        self.thresholds.setText(", ".join(percent_text(t) for t in b.thresholds))
        self._say("")

    def clear_form(self) -> None:
        self.table.clearSelection()
        self.project.clear()
        self.period.setCurrentText("month")
        self.limit.clear()
        self.mode.setCurrentIndex(0)
        self.thresholds.setText("50, 80, 100")
        self._say("")
        self.project.setFocus()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {'#e03131' if error else '#2f9e44'};")
        self.message.setText(text)

    # -- changing --------------------------------------------------------------------------

    def form_budget(self) -> Budget:
        """The budget in the form; raises ``BudgetError`` naming the wrong field."""
        return Budget(
            project=check_project(self.project.text()),
            period=check_period(self.period.currentText()),
            limit_nanos=parse_limit(self.limit.text(), "limit"),
            mode=check_mode(self.mode.currentData()),
            thresholds=parse_thresholds_text(self.thresholds.text() or "100", "notify at"),
        )

    def save(self) -> bool:
        try:
            budget = self.form_budget()
        except BudgetError as exc:
            self._say(f"Not saved — {exc}", error=True)
            return False
        try:
            self.service.put(budget)
        except Exception as exc:  # the store is gone (shutting down): say so, keep the form
            self._say(f"Not saved — the store is not available ({exc})", error=True)
            return False
        self.refresh()
        for row, status in enumerate(self.statuses):
            if (status.budget.project, status.budget.period) == (budget.project, budget.period):
                self.table.selectRow(row)
        who = "all projects" if budget.project == GLOBAL else budget.project
        self._say(f"Saved: {format_usd(budget.limit_nanos)} per {budget.period} for {who}.")
        self.changed.emit()
        return True

    def remove_selected(self) -> bool:
        key = self.selected_key()
        if key is None:
            self._say("Select a budget in the table to remove it.", error=True)
            return False
        project, period = key
        self.service.remove(project, period)
        self.refresh()
        self.clear_form()
        who = "all projects" if project == GLOBAL else project
        self._say(f"Removed the {period} budget of {who}.")
        self.changed.emit()
        return True

    def sizeHint(self) -> Any:
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), 760))
        return hint
