"""A small estimator window: paste a prompt, pick models, see the cost side by side.

GUI thread for the widgets; the counting and pricing (CPU-bound for long prompts) run on
Qt's global thread pool and come back by signal.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from spendtray.gui.icons import app_icon
from spendtray.gui.tables import Column, RowsModel
from spendtray.money import format_tokens, format_usd
from spendtray.prices.book import PriceBook


def _default_models() -> str:
    try:
        from spendtray.estimator.defaults import DEFAULT_MODELS
    except ImportError:
        return "gpt-4o-mini, gpt-4.1, claude-sonnet-4-5, gemini-2.5-flash"
    return ", ".join(DEFAULT_MODELS)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Job(QRunnable):
    def __init__(self, book: PriceBook, prompt: Any, models: list[str], output: int, calls: int):
        super().__init__()
        self.signals = _Signals()
        self.args = (book, prompt, models, output, calls)

    def run(self) -> None:
        from spendtray.estimator.estimate import estimate

        book, prompt, models, output, calls = self.args
        try:
            self.signals.done.emit(estimate(prompt, models, output, book=book, calls=calls))
        except ValueError as exc:  # EstimateError, InvalidMessages: the user's input
            self.signals.failed.emit(str(exc))


def _cost(nanos: int | None) -> str:
    return "no price" if nanos is None else format_usd(nanos, 4)


COLUMNS = [
    Column("Model", lambda r: r.model),
    Column("Provider", lambda r: r.provider or "?"),
    Column(
        "Input tokens",
        lambda r: ("" if r.exact else "≈ ") + format_tokens(r.input_tokens),
        right=True,
        tip=lambda r: r.method,
    ),
    Column("Output tokens", lambda r: format_tokens(r.output_tokens), right=True),
    Column("Input cost", lambda r: _cost(r.input_cost_nanos), right=True),
    Column("Output cost", lambda r: _cost(r.output_cost_nanos), right=True),
    Column("Total", lambda r: _cost(r.total_cost_nanos), right=True, tip=lambda r: r.error),
    Column(
        "Fits context",
        lambda r: "?" if r.fits is None else ("yes" if r.fits else "NO — too long"),
    ),
]


class EstimatorWindow(QWidget):
    def __init__(self, book: PriceBook) -> None:
        super().__init__()
        self.book = book
        self.setWindowTitle("Spendtray — what will this prompt cost?")
        self.setWindowIcon(app_icon())
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(
            'Paste the prompt text, or chat messages as JSON: [{"role": "user", "content": "…"}]'
        )
        layout.addWidget(self.prompt, 2)
        form = QFormLayout()
        self.models = QLineEdit(_default_models())
        form.addRow("Models (comma-separated):", self.models)
        row = QHBoxLayout()
        self.output = QSpinBox()
        self.output.setRange(0, 1_000_000)
        self.output.setValue(1000)
        self.calls = QSpinBox()
        self.calls.setRange(1, 10_000_000)
        self.calls.setValue(1)
        row.addWidget(QLabel("Output tokens per call:"))
        row.addWidget(self.output)
        row.addWidget(QLabel("Calls:"))
        row.addWidget(self.calls)
        row.addStretch(1)
        self.button = QPushButton("Estimate")
        self.button.clicked.connect(self.run)
        row.addWidget(self.button)
        form.addRow(row)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c92a2a;")
        self.error.hide()
        layout.addWidget(self.error)
        self.table_model = RowsModel(COLUMNS)
        table = QTableView()
        table.setModel(self.table_model)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(table, 3)
        self.note = QLabel("Cheapest first. ≈ marks an approximate count (hover for the method).")
        self.note.setStyleSheet("color: #495057;")
        layout.addWidget(self.note)
        self._job: _Job | None = None

    def prompt_value(self) -> Any:
        text = self.prompt.toPlainText()
        if text.lstrip().startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return text  # looks like JSON but is not: count it as text
        return text

    def run(self) -> None:
        models = [m.strip() for m in self.models.text().split(",") if m.strip()]
        if not self.prompt.toPlainText().strip():
            self._fail("Paste a prompt first.")
            return
        if not models:
            self._fail("Name at least one model.")
            return
        self.error.hide()
        self.button.setEnabled(False)
        job = _Job(self.book, self.prompt_value(), models, self.output.value(), self.calls.value())
        job.signals.done.connect(self._done)
        job.signals.failed.connect(self._fail)
        self._job = job  # keeps the signals object alive until the result is in
        QThreadPool.globalInstance().start(job)

    def _done(self, results: list[Any]) -> None:
        self.button.setEnabled(True)
        self.table_model.set_rows(results)

    def _fail(self, message: str) -> None:
        self.button.setEnabled(True)
        self.error.setText(message)
        self.error.show()
