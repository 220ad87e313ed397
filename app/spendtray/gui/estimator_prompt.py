"""The Estimator's Prompt tab: paste area, model picker, call settings, live results. GUI thread.

Counting and pricing run on a ``Background`` worker (a 1 MB paste takes a few hundred
milliseconds to tokenize): edits are debounced, a job not yet started is replaced by a newer
one, and a result that arrives after a newer edit is dropped by its generation number. What
the table says comes from ``spendtray.views.estimate_text`` (the CLI prints the same).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from spendtray.estimator.catalogue import model_catalogue, provider_for
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.estimator.estimate import DEFAULT_OUTPUT_TOKENS, EstimateResult
from spendtray.gui.background import Background
from spendtray.gui.tables import RowsModel, fit_columns, table_view
from spendtray.prices.book import PriceBook
from spendtray.views.estimate_text import APPROXIMATE_LEGEND, estimate_columns

DEBOUNCE_MS = 250
WARNING = "#c92a2a"


@dataclass(frozen=True)
class Estimate:
    results: list[EstimateResult]
    prompt_kind: str
    chars: int
    seconds: float


class PromptTab(QWidget):
    estimated = Signal()  # the results table now shows the newest input (or its error)

    def __init__(
        self,
        book: PriceBook,
        clock: Callable[[], dt.datetime],
        precision: int,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__()
        self.book = book
        self.clock = clock
        self.precision = precision
        self.jobs = Background("spendtray-estimator", self._on_estimated)
        self._generation = 0
        self._status_warning = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._start_estimate)

        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(
            "Paste a prompt here: plain text, a JSON list of chat messages "
            '([{"role": "user", "content": "…"}]) or a whole chat request body.'
        )
        self.editor.setFont(QFont("monospace"))
        self.editor.textChanged.connect(self.schedule)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.editor)
        top.addWidget(self._build_picker())
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setChildrenCollapsible(False)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.results = RowsModel(estimate_columns(lambda: self.precision))
        self.table = table_view(self.results)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        legend = QLabel(
            f"Cheapest first. {APPROXIMATE_LEGEND} Hover a count for its method. Costs are "
            "for all calls; “Per month” is 30 days at the calls-per-day rate."
        )
        legend.setWordWrap(True)
        legend.setStyleSheet("color: #868e96;")

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addLayout(self._build_settings())
        bottom_layout.addWidget(self.status)
        bottom_layout.addWidget(self.table, 1)
        bottom_layout.addWidget(legend)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(split)
        self._update_selected_label()
        self._show_idle()

    # -- building --------------------------------------------------------------------------

    def _build_picker(self) -> QWidget:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search or type a model…")
        self.search.setToolTip("Filters the list; Enter checks a name that is not listed")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter_models)
        self.search.returnPressed.connect(self._search_entered)
        self.models = QListWidget()
        self.models.setUniformItemSizes(True)
        self._items: dict[str, QListWidgetItem] = {}
        catalogue = model_catalogue(self.book)
        self._providers = dict(catalogue)
        for name in DEFAULT_MODELS:
            self._add_model(name, checked=True)
        for name, _provider in catalogue:
            if name not in self._items:
                self._add_model(name, checked=False)
        self.models.itemChanged.connect(self._on_model_toggled)
        self.selected_label = QLabel()
        defaults = QPushButton("Defaults")
        defaults.setToolTip("Check the default set: " + ", ".join(DEFAULT_MODELS))
        defaults.clicked.connect(self.reset_models)
        clear = QPushButton("Clear")
        clear.clicked.connect(lambda: self.set_models([]))
        buttons = QHBoxLayout()
        buttons.addWidget(self.selected_label, 1)
        buttons.addWidget(defaults)
        buttons.addWidget(clear)
        picker = QWidget()
        layout = QVBoxLayout(picker)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Models"))
        layout.addWidget(self.search)
        layout.addWidget(self.models, 1)
        layout.addLayout(buttons)
        return picker

    def _build_settings(self) -> QVBoxLayout:
        self.output_tokens = QSpinBox()
        self.output_tokens.setRange(0, 10_000_000)
        self.output_tokens.setGroupSeparatorShown(True)
        self.output_tokens.setValue(DEFAULT_OUTPUT_TOKENS)
        self.output_tokens.setToolTip("Expected output tokens per call (reasoning included)")
        self.calls = QSpinBox()
        self.calls.setRange(1, 100_000_000)
        self.calls.setGroupSeparatorShown(True)
        self.calls_per_day = QDoubleSpinBox()
        self.calls_per_day.setRange(0, 100_000_000)
        self.calls_per_day.setDecimals(1)
        self.calls_per_day.setSpecialValueText("off")
        self.calls_per_day.setToolTip("Calls per day for a 30-day projection (0 = off)")
        self.cache = QCheckBox("Cached prefix")
        self.cache.setToolTip(
            "What-if: the first call writes this many prompt tokens to the provider's cache, "
            "later calls read them"
        )
        self.cache_tokens = QSpinBox()
        self.cache_tokens.setRange(0, 10_000_000)
        self.cache_tokens.setGroupSeparatorShown(True)
        self.cache_tokens.setValue(1_024)
        self.cache_tokens.setSuffix(" tokens")
        self.cache_ttl = QComboBox()
        self.cache_ttl.addItems(["5m", "1h"])
        self.batch = QCheckBox("Batch API")
        self.batch.setToolTip("What-if: the same calls through the provider's batch API")
        for spin in (self.output_tokens, self.calls, self.calls_per_day, self.cache_tokens):
            spin.valueChanged.connect(self.schedule)
        self.cache.toggled.connect(self.schedule)
        self.cache_ttl.currentIndexChanged.connect(self.schedule)
        self.batch.toggled.connect(self.schedule)

        row = QHBoxLayout()
        for label, widget in (
            ("Output tokens / call", self.output_tokens),
            ("Calls", self.calls),
            ("Calls / day", self.calls_per_day),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        # the what-ifs on a second row, so the window fits a small screen
        what_ifs = QHBoxLayout()
        what_ifs.addWidget(QLabel("What if:"))
        what_ifs.addWidget(self.cache)
        what_ifs.addWidget(self.cache_tokens)
        what_ifs.addWidget(self.cache_ttl)
        what_ifs.addSpacing(8)
        what_ifs.addWidget(self.batch)
        what_ifs.addStretch(1)
        layout = QVBoxLayout()
        layout.addLayout(row)
        layout.addLayout(what_ifs)
        return layout

    def _add_model(self, name: str, checked: bool) -> QListWidgetItem:
        provider = provider_for(name, self._providers)
        item = QListWidgetItem(f"{name}  ·  {provider}")
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.models.addItem(item)
        self._items[name] = item
        return item

    # -- the model list ----------------------------------------------------------------------

    def checked_models(self) -> list[str]:
        names: list[str] = []
        for index in range(self.models.count()):
            item = self.models.item(index)
            if item.checkState() == Qt.CheckState.Checked:
                names.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return names

    def set_models(self, names: Sequence[str]) -> None:
        """Check exactly ``names`` (adding any that are not listed)."""
        wanted = set(names)
        self.models.blockSignals(True)
        try:
            for name in names:
                if name not in self._items:
                    self._add_model(name, checked=True)
            for name, item in self._items.items():
                state = Qt.CheckState.Checked if name in wanted else Qt.CheckState.Unchecked
                if item.checkState() != state:
                    item.setCheckState(state)
        finally:
            self.models.blockSignals(False)
        self._on_model_toggled()

    def reset_models(self) -> None:
        self.set_models(DEFAULT_MODELS)

    def _filter_models(self, text: str) -> None:
        needle = text.strip().lower()
        for index in range(self.models.count()):
            item = self.models.item(index)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def _search_entered(self) -> None:
        name = self.search.text().strip()
        if not name:
            return
        item = self._items.get(name)
        if item is None:
            visible = [
                self.models.item(i)
                for i in range(self.models.count())
                if not self.models.item(i).isHidden()
            ]
            item = visible[0] if len(visible) == 1 else self._add_model(name, checked=False)
        item.setHidden(False)
        item.setCheckState(Qt.CheckState.Checked)
        self.models.scrollToItem(item)

    def _on_model_toggled(self, *_: object) -> None:
        self._update_selected_label()
        self.schedule()

    def _update_selected_label(self) -> None:
        self.selected_label.setText(f"{len(self.checked_models())} checked")

    # -- estimating ----------------------------------------------------------------------------

    def schedule(self, *_: object) -> None:
        """Re-estimate once the user pauses (every edit restarts the debounce timer)."""
        self._generation += 1  # anything still running is stale from now on
        self._debounce.start()

    def _request(self) -> dict[str, Any]:
        per_day = self.calls_per_day.value()
        return {
            "models": self.checked_models(),
            "output_tokens": self.output_tokens.value(),
            "calls": self.calls.value(),
            "calls_per_day": per_day if per_day > 0 else None,
            "cached_prefix_tokens": self.cache_tokens.value() if self.cache.isChecked() else 0,
            "cache_ttl": self.cache_ttl.currentText(),
            "batch": self.batch.isChecked(),
        }

    def _start_estimate(self) -> None:
        text = self.editor.toPlainText()
        request = self._request()
        if not text.strip() or not request["models"]:
            self._show_idle()
            self.estimated.emit()
            return
        generation = self._generation
        book = self.book
        when = self.clock()

        def job() -> tuple[int, Estimate | Exception]:
            from spendtray.estimator.chat import prompt_from_paste
            from spendtray.estimator.estimate import estimate

            started = time.perf_counter()
            try:
                prompt = prompt_from_paste(text)
                results = estimate(prompt, book=book, when=when, **request)  # type: ignore[arg-type]
            except ValueError as exc:  # InvalidMessages, EstimateError: shown to the user
                return generation, exc
            kind = "text" if isinstance(prompt, str) else f"chat, {len(prompt)} messages"
            return generation, Estimate(results, kind, len(text), time.perf_counter() - started)

        self.status.setText(f"Counting {len(text):,} characters…")
        self.jobs.submit(job)

    def _on_estimated(self, payload: Any, error: BaseException | None) -> None:
        if error is not None:  # a bug, not bad input: show it rather than hang on "Counting…"
            self._show_error(error)
            self.estimated.emit()
            return
        generation, value = payload
        if generation != self._generation:
            return  # the input changed since this job started; a newer result will come
        if isinstance(value, Exception):
            self._show_error(value)
        else:
            self._show_results(value)
        self.estimated.emit()

    def _set_status_warning(self, warning: bool) -> None:
        # a style sheet change re-polishes the label: only pay for it when the state flips
        if warning != self._status_warning:
            self._status_warning = warning
            self.status.setStyleSheet(f"color: {WARNING};" if warning else "")

    def _show_idle(self) -> None:
        self.results.set_rows([])
        if not self.checked_models():
            self.status.setText("Check at least one model.")
        else:
            self.status.setText("Paste a prompt to see what it costs on the checked models.")
        self._set_status_warning(False)

    def _show_error(self, error: BaseException) -> None:
        from spendtray.estimator.chat import InvalidMessages

        self.results.set_rows([])
        if isinstance(error, InvalidMessages):
            text = f"This looks like a chat message list, but {error}."
        else:
            text = str(error) or type(error).__name__
        self.status.setText(text)
        self._set_status_warning(True)

    def _show_results(self, estimate: Estimate) -> None:
        results = estimate.results
        first = results[0]
        approximate = sum(1 for r in results if not r.exact)
        note = f"; {approximate} approximate (≈)" if approximate else ""
        calls = f" × {first.calls:,} calls" if first.calls > 1 else ""
        self.status.setText(
            f"{estimate.chars:,} characters ({estimate.prompt_kind}), {len(results)} models"
            f"{note}; {first.output_tokens:,} output tokens per call{calls}. "
            f"Counted in {estimate.seconds:.2f} s."
        )
        self._set_status_warning(False)
        self.results.set_columns(
            estimate_columns(
                lambda: self.precision,
                monthly=any(r.monthly_cost_nanos is not None for r in results),
                cached=any(r.cached is not None for r in results),
                batch=any(r.batch is not None for r in results),
            )
        )
        self.results.set_rows(results)
        fit_columns(self.table, force=True)

    def shutdown(self) -> None:
        self._debounce.stop()
        self._generation += 1
        self.jobs.close()
