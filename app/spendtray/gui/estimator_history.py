"""The Estimator's "What-if on my history" tab: re-price stored calls on the checked models.
GUI thread; the re-pricing (``estimator.whatif``) runs on its own ``Background`` worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from spendtray.estimator.whatif import WhatIfReport
from spendtray.gui.background import Background
from spendtray.gui.tables import RowsModel, fit_columns, table_view
from spendtray.prices.book import PriceBook
from spendtray.views.estimate_text import UnknownTarget, history_summary, whatif_columns

if TYPE_CHECKING:
    from spendtray.config import Settings
    from spendtray.store.reader import Reader

PERIODS = (
    ("Last 7 days", "7d"),
    ("Last 30 days", "30d"),
    ("Last 90 days", "90d"),
    ("This month", "month"),
    ("Today", "today"),
)
WARNING = "#c92a2a"
INTRO = (
    "Re-prices the token counts of your stored calls on each model checked in the Prompt tab, "
    "call by call, at the price in force when each call was made."
)


@dataclass(frozen=True)
class Choices:
    projects: list[str]
    models: list[str]


class HistoryTab(QWidget):
    ready = Signal()  # the table shows a new report (or the error)

    def __init__(
        self,
        book: PriceBook,
        reader: Reader | None,
        settings: Settings | None,
        clock: Callable[[], dt.datetime],
        targets: Callable[[], list[str]],
        precision: int,
    ) -> None:
        super().__init__()
        self.book, self.reader, self.settings, self.clock = book, reader, settings, clock
        self.targets = targets
        self.precision = precision
        self.jobs = Background("spendtray-whatif", self._on_result)
        self._generation = 0
        self._choices_loaded = False

        self.project = QComboBox()
        self.project.addItem("All projects", None)
        self.model = QComboBox()
        self.model.addItem("All models", None)
        self.period = QComboBox()
        for label, value in PERIODS:
            self.period.addItem(label, value)
        self.period.setCurrentIndex(1)
        self.button = QPushButton("Re-price on the checked models")
        self.button.clicked.connect(self.run)
        form = QFormLayout()
        form.addRow("Project", self.project)
        form.addRow("Model used", self.model)
        form.addRow("Period", self.period)
        self.status = QLabel(INTRO)
        self.status.setWordWrap(True)
        self.results = RowsModel(whatif_columns(lambda: self.precision))
        self.table = table_view(self.results)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addLayout(form)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

    def load_choices(self) -> None:
        """Fill the project and model lists from the store (once, in the background)."""
        if self._choices_loaded or self.reader is None:
            return
        reader = self.reader
        generation = self._generation

        def job() -> tuple[int, Choices]:
            from spendtray.store.reader import Filters

            projects = [r.key for r in reader.summary("project", Filters()).rows]
            models = [r.key for r in reader.summary("model", Filters()).rows]
            return generation, Choices(projects, models)

        self.jobs.submit(job)

    def since(self) -> dt.datetime:
        from spendtray.timeparse import parse_when

        value = str(self.period.currentData())
        settings = self.settings
        if settings is None:  # a bare price book: UTC calendar, weeks from Monday
            return parse_when(value, self.clock(), ZoneInfo("UTC"), 0)
        return parse_when(value, self.clock(), settings.zone(), settings.week_start_index)

    def run(self) -> None:
        """Re-price the selected history on the checked models (in the background)."""
        from spendtray.store.reader import Filters

        targets = self.targets()
        if self.reader is None:
            self.status.setText("No usage database is attached to this window.")
            return
        if not targets:
            self.status.setText("Check at least one model in the Prompt tab.")
            return
        self._generation += 1
        generation = self._generation
        filters = Filters(
            project=self.project.currentData(), model=self.model.currentData(), since=self.since()
        )
        reader, book = self.reader, self.book

        def job() -> tuple[int, WhatIfReport]:
            from spendtray.estimator.whatif import reprice_history

            return generation, reprice_history(reader.conn(), filters, targets, book=book)

        self.status.setStyleSheet("")
        self.status.setText("Re-pricing your stored calls…")
        self.button.setEnabled(False)
        self.jobs.submit(job)

    def _on_result(self, payload: Any, error: BaseException | None) -> None:
        if error is not None:
            self.button.setEnabled(True)
            self.status.setText(f"Could not re-price: {error}")
            self.status.setStyleSheet(f"color: {WARNING};")
            self.ready.emit()
            return
        generation, value = payload
        if isinstance(value, Choices):
            self._fill_choices(value)
            return
        if generation != self._generation:
            return
        self.button.setEnabled(True)
        self._show(value)
        self.ready.emit()

    def _fill_choices(self, choices: Choices) -> None:
        self._choices_loaded = True
        for combo, values in ((self.project, choices.projects), (self.model, choices.models)):
            current = combo.currentData()
            while combo.count() > 1:
                combo.removeItem(1)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(current)))

    def _show(self, report: WhatIfReport) -> None:
        scope = self.project.currentText()
        if self.model.currentData():
            scope += f", {self.model.currentText()}"
        scope += f", {self.period.currentText().lower()}"
        self.status.setText(f"{scope}: {history_summary(report.totals, self.precision)}")
        unknown = [UnknownTarget(model, reason) for model, reason in report.unknown]
        self.results.set_rows([*report.results, *unknown])
        fit_columns(self.table, force=True)

    def shutdown(self) -> None:
        self._generation += 1
        self.jobs.close()
