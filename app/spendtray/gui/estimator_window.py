"""The Estimator window (SPEC §8): paste a prompt, see its tokens and cost on many models.

Widgets live on the GUI thread. Counting and pricing run on a ``LatestOnlyWorker`` thread
(a 1 MB paste takes a few hundred milliseconds to tokenize): edits are debounced, a job not yet
started is replaced by a newer one, and a result that arrives after a newer edit is dropped by
its generation number. Workers reach the widgets only through the signals of ``_Relay``, which
lives on the GUI thread, so Qt queues every delivery. A second tab re-prices stored history on
the checked models (``estimator.whatif``) on its own worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
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
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from spendtray.clock import utc_now
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.estimator.estimate import DEFAULT_OUTPUT_TOKENS, EstimateResult
from spendtray.estimator.latest_worker import LatestOnlyWorker
from spendtray.estimator.whatif import WhatIfReport
from spendtray.money import format_tokens, format_usd
from spendtray.prices.book import PriceBook

DEBOUNCE_MS = 250
# counting a megabyte keeps both cores busy for a few hundred ms; typing must not wait for it
WORKER_NICE = 10
WARNING = QColor("#c92a2a")
WARNING_BACKGROUND = QColor("#ffe3e3")
RESULT_COLUMNS = (
    "Model",
    "Provider",
    "Input tokens",
    "Counted by",
    "Input",
    "Output",
    "Total",
    "Per month",
    "Context",
    "Notes",
    "Cached prefix",
    "Batch API",
)
WHATIF_COLUMNS = ("On model", "Provider", "Would have cost", "vs actual", "Notes")
PERIODS = (("Last 7 days", "7d"), ("Last 30 days", "30d"), ("Last 90 days", "90d"))
PERIODS_MORE = (("This month", "month"), ("Today", "today"))


class _Relay(QObject):
    """Lives on the GUI thread; workers emit here and Qt queues the call to the GUI thread."""

    estimated = Signal(int, object, object)  # generation, _Estimate | None, error | None
    history = Signal(int, object, object)  # generation, WhatIfReport | _Choices | None, error


@dataclass(frozen=True)
class _Estimate:
    results: list[EstimateResult]
    prompt_kind: str
    chars: int
    seconds: float


@dataclass(frozen=True)
class _Choices:
    projects: list[str]
    models: list[str]


def model_catalogue(book: PriceBook) -> list[tuple[str, str]]:
    """(model name, provider) for every priced model, overrides first, each name once.

    A name several providers sell (gpt-5-mini on OpenAI, Azure, Copilot…) shows the provider the
    book prices it as when asked by name alone; names that start with a letter sort first, so
    gateway paths such as "@cf/…" do not crowd the top of the list.
    """
    from spendtray.prices.names import engine_provider, infer_provider

    sellers: dict[str, list[str]] = {}
    for entry in book.overrides:
        name = entry.entry_id or (entry.models[0] if entry.models else "")
        if name:
            sellers.setdefault(name, []).append(entry.provider)
    for provider, model_id, _ in book.engine_models():
        sellers.setdefault(model_id, []).append(provider)
    catalogue: list[tuple[str, str]] = []
    for name, providers in sellers.items():
        vendor = engine_provider(infer_provider(name))
        catalogue.append((name, vendor if vendor in providers else providers[0]))
    catalogue.sort(key=lambda pair: (not pair[0][:1].isalpha(), pair[0].lower()))
    return catalogue


def _item(text: str, right: bool = False, tip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        item.setToolTip(tip)
    return item


def _warn(item: QTableWidgetItem) -> QTableWidgetItem:
    item.setForeground(QBrush(WARNING))
    item.setBackground(QBrush(WARNING_BACKGROUND))
    return item


class EstimatorWindow(QWidget):
    """Paste area, model picker with search, call settings and a live results table."""

    estimated = Signal()  # the results table now shows the newest input (or its error)
    history_ready = Signal()  # the what-if tab shows a new report

    def __init__(
        self, core: Any, parent: QWidget | None = None, debounce_ms: int = DEBOUNCE_MS
    ) -> None:
        super().__init__(parent)
        # The tray app does not load the tokenizers at start (memory); start now, in the
        # background, so they are ready by the time the first paste is counted.
        from spendtray.estimator import tokenizers

        tokenizers.warm_up()
        # A bare PriceBook is accepted too (prompt estimates only, no history what-if).
        if isinstance(core, PriceBook):
            self.book: PriceBook = core
            self.reader: Any = None
            self.settings: Any = None
            self.clock: Callable[[], dt.datetime] = utc_now
        else:
            self.book = core.prices
            self.reader = core.reader
            self.settings = core.settings
            self.clock = core.clock
        self.precision = max(2, int(getattr(self.settings, "currency_precision", 2)))
        self.setWindowTitle("Spendtray — Estimator")
        self.resize(1180, 760)
        self._relay = _Relay()
        self._relay.estimated.connect(self._on_estimated)
        self._relay.history.connect(self._on_history)
        self._worker: LatestOnlyWorker | None = None
        self._history_worker: LatestOnlyWorker | None = None
        self._generation = 0
        self._history_generation = 0
        self._choices_loaded = False
        self._status_warning = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._start_estimate)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_prompt_tab(), "Prompt")
        self.tabs.addTab(self._build_history_tab(), "What-if on my history")
        self.tabs.currentChanged.connect(self._on_tab)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._start_workers()
        self._show_idle()

    # -- building --------------------------------------------------------------------------

    def _build_prompt_tab(self) -> QWidget:
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(
            "Paste a prompt here: plain text, or a JSON list of chat messages "
            '([{"role": "user", "content": "…"}]) or a whole chat request body.'
        )
        self.editor.setFont(QFont("monospace"))
        self.editor.textChanged.connect(self.schedule)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models… (Enter adds a name not listed)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter_models)
        self.search.returnPressed.connect(self._search_entered)
        self.models = QListWidget()
        self.models.setUniformItemSizes(True)
        self._items: dict[str, QListWidgetItem] = {}
        catalogue = model_catalogue(self.book)
        providers = dict(catalogue)
        for name in DEFAULT_MODELS:
            self._add_model(name, providers.get(name, ""), checked=True)
        for name, provider in catalogue:
            if name not in self._items:
                self._add_model(name, provider, checked=False)
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
        picker_layout = QVBoxLayout(picker)
        picker_layout.setContentsMargins(0, 0, 0, 0)
        picker_layout.addWidget(QLabel("Models"))
        picker_layout.addWidget(self.search)
        picker_layout.addWidget(self.models, 1)
        picker_layout.addLayout(buttons)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.editor)
        top.addWidget(picker)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)

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

        settings = QHBoxLayout()
        for label, widget in (
            ("Output tokens / call", self.output_tokens),
            ("Calls", self.calls),
            ("Calls / day", self.calls_per_day),
        ):
            settings.addWidget(QLabel(label))
            settings.addWidget(widget)
        settings.addSpacing(12)
        settings.addWidget(self.cache)
        settings.addWidget(self.cache_tokens)
        settings.addWidget(self.cache_ttl)
        settings.addWidget(self.batch)
        settings.addStretch(1)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(RESULT_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(RESULT_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        # sized once per update: ResizeToContents re-measures the column on every setItem
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        legend = QLabel(
            "Cheapest first. ≈ marks an approximate count (the vendor's tokenizer is not shipped; "
            "the method is in “Counted by”); OpenAI models are counted exactly with tiktoken. "
            "Costs are for all calls; “Per month” is 30 days at the calls-per-day rate."
        )
        legend.setWordWrap(True)
        legend.setStyleSheet("color: palette(mid);")

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addLayout(settings)
        bottom_layout.addWidget(self.status)
        bottom_layout.addWidget(self.table, 1)
        bottom_layout.addWidget(legend)
        split.addWidget(bottom)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        page = QWidget()
        QVBoxLayout(page).addWidget(split)
        self._update_selected_label()
        return page

    def _build_history_tab(self) -> QWidget:
        self.history_project = QComboBox()
        self.history_project.addItem("All projects", None)
        self.history_model = QComboBox()
        self.history_model.addItem("All models", None)
        self.history_period = QComboBox()
        for label, value in (*PERIODS, *PERIODS_MORE):
            self.history_period.addItem(label, value)
        self.history_period.setCurrentIndex(1)
        self.history_button = QPushButton("Re-price on the checked models")
        self.history_button.clicked.connect(self.run_history)
        form = QFormLayout()
        form.addRow("Project", self.history_project)
        form.addRow("Model used", self.history_model)
        form.addRow("Period", self.history_period)
        self.history_status = QLabel(
            "Re-prices the token counts of your stored calls on each model checked in the "
            "Prompt tab, call by call, at the price in force when each call was made."
        )
        self.history_status.setWordWrap(True)
        self.history_table = QTableWidget(0, len(WHATIF_COLUMNS))
        self.history_table.setHorizontalHeaderLabels(list(WHATIF_COLUMNS))
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.verticalHeader().setVisible(False)
        header = self.history_table.horizontalHeader()
        # sized once per update: ResizeToContents re-measures the column on every setItem
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        row.addLayout(form)
        row.addWidget(self.history_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.history_status)
        layout.addWidget(self.history_table, 1)
        return page

    def _add_model(self, name: str, provider: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(f"{name}  ·  {provider}" if provider else name)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.models.addItem(item)
        self._items[name] = item
        return item

    # -- workers ---------------------------------------------------------------------------

    def _start_workers(self) -> None:
        if self._worker is None:
            self._worker = LatestOnlyWorker(self._deliver(self._relay.estimated), nice=WORKER_NICE)
        if self._history_worker is None:
            self._history_worker = LatestOnlyWorker(
                self._deliver(self._relay.history), name="spendtray-whatif", nice=WORKER_NICE
            )

    @staticmethod
    def _deliver(signal: Any) -> Callable[[int, Any, BaseException | None], None]:
        def deliver(generation: int, result: Any, error: BaseException | None) -> None:
            # RuntimeError: the window was deleted while the job ran; nobody is left to tell
            with contextlib.suppress(RuntimeError):
                signal.emit(generation, result, error)

        return deliver

    def shutdown(self) -> None:
        """Stop the worker threads (the window can be shown again: they restart)."""
        self._debounce.stop()
        self._generation += 1
        self._history_generation += 1
        for worker in (self._worker, self._history_worker):
            if worker is not None:
                # no join: a count in progress finishes on its own and its result is dropped
                worker.close(timeout=0)
        self._worker = self._history_worker = None

    def showEvent(self, event: QShowEvent) -> None:
        self._start_workers()
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- the prompt tab ----------------------------------------------------------------------

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
                    self._add_model(name, "", checked=True)
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
            item = visible[0] if len(visible) == 1 else self._add_model(name, "", checked=False)
        item.setHidden(False)
        item.setCheckState(Qt.CheckState.Checked)
        self.models.scrollToItem(item)

    def _on_model_toggled(self, *_: object) -> None:
        self._update_selected_label()
        self.schedule()

    def _update_selected_label(self) -> None:
        self.selected_label.setText(f"{len(self.checked_models())} checked")

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
        self._start_workers()
        assert self._worker is not None
        generation = self._generation
        book = self.book
        when = self.clock()

        def job() -> tuple[int, _Estimate | Exception]:
            from spendtray.estimator.chat import prompt_from_paste
            from spendtray.estimator.estimate import estimate

            started = time.perf_counter()
            try:
                prompt = prompt_from_paste(text)
                results = estimate(prompt, book=book, when=when, **request)  # type: ignore[arg-type]
            except ValueError as exc:  # InvalidMessages, EstimateError: shown to the user
                return generation, exc
            kind = "text" if isinstance(prompt, str) else f"chat, {len(prompt)} messages"
            return generation, _Estimate(results, kind, len(text), time.perf_counter() - started)

        self.status.setText(f"Counting {len(text):,} characters…")
        self._worker.submit(job)

    def _on_estimated(self, _seq: int, payload: Any, error: BaseException | None) -> None:
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
            self.status.setStyleSheet(f"color: {WARNING.name()};" if warning else "")

    def _show_idle(self) -> None:
        self.table.setRowCount(0)
        if not self.checked_models():
            self.status.setText("Check at least one model.")
        else:
            self.status.setText("Paste a prompt to see what it costs on the checked models.")
        self._set_status_warning(False)

    def _show_error(self, error: BaseException) -> None:
        from spendtray.estimator.chat import InvalidMessages

        self.table.setRowCount(0)
        if isinstance(error, InvalidMessages):
            text = f"This looks like a chat message list, but {error}."
        else:
            text = str(error) or type(error).__name__
        self.status.setText(text)
        self._set_status_warning(True)

    def _show_results(self, estimate: _Estimate) -> None:
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
        self.table.setUpdatesEnabled(False)
        try:
            self.table.setRowCount(len(results))
            for row, result in enumerate(results):
                for column, item in enumerate(self._result_items(result)):
                    self.table.setItem(row, column, item)
            self.table.resizeColumnsToContents()
        finally:
            self.table.setUpdatesEnabled(True)

    def _usd(self, nanos: int | None) -> str:
        return format_usd(nanos, self.precision)

    def _result_items(self, r: EstimateResult) -> list[QTableWidgetItem]:
        usd = self._usd
        tokens = f"{r.input_tokens:,}" if r.exact else f"≈{r.input_tokens:,}"
        token_item = _item(tokens, right=True, tip=r.method)
        method = _item(
            f"exact · {r.method.removesuffix(' (exact)')}" if r.exact else r.method, tip=r.method
        )
        if not r.exact:
            font = method.font()
            font.setItalic(True)
            method.setFont(font)
        if r.context_window is None:
            context = _item("unknown", right=True, tip="the price data has no context window")
        elif r.fits:
            context = _item(format_tokens(r.context_window), right=True)
        else:
            context = _warn(
                _item(
                    f"OVER {format_tokens(r.context_window)}",
                    right=True,
                    tip=f"{r.input_tokens:,} input + {r.output_tokens:,} output tokens do not "
                    f"fit the {r.context_window:,}-token context window",
                )
            )
        notes: list[str] = []
        if r.error:
            notes.append(r.error)
        if r.tier_crossed and r.tier_threshold is not None:
            tier_note = (
                f"prompt over the {r.tier_threshold:,}-token tier: the whole call is billed "
                "at the long-context rate"
            )
            notes.append(tier_note)
            _warn(token_item)
            token_item.setToolTip(f"{r.method}\n{tier_note}")
        if r.output_assumed:
            notes.append("output size assumed")
        notes_item = _item("; ".join(notes), tip="\n".join(notes) or None)
        if r.error or r.tier_crossed:
            notes_item.setForeground(QBrush(WARNING))

        def what_if(value: Any) -> QTableWidgetItem:
            if value is None:
                return _item("—", right=True)
            saves = value.savings_nanos
            change = f"saves {usd(saves)}" if saves >= 0 else f"costs {usd(-saves)} more"
            return _item(f"{usd(value.total_cost_nanos)} ({change})", right=True, tip=value.label)

        total = _item(usd(r.total_cost_nanos), right=True)
        bold = total.font()
        bold.setBold(True)
        total.setFont(bold)
        return [
            _item(r.model, tip=f"priced as {r.model_id}" if r.model_id else r.error),
            _item(r.provider or "—"),
            token_item,
            method,
            _item(usd(r.input_cost_nanos), right=True),
            _item(usd(r.output_cost_nanos), right=True),
            total,
            _item(usd(r.monthly_cost_nanos), right=True),
            context,
            notes_item,
            what_if(r.cached),
            what_if(r.batch),
        ]

    # -- the what-if tab ---------------------------------------------------------------------

    def _on_tab(self, index: int) -> None:
        if index == 1 and not self._choices_loaded and self.reader is not None:
            self._load_choices()

    def _load_choices(self) -> None:
        self._start_workers()
        assert self._history_worker is not None
        reader = self.reader
        generation = self._history_generation

        def job() -> tuple[int, _Choices]:
            from spendtray.store.reader import Filters

            projects = [r.key for r in reader.summary("project", Filters()).rows]
            models = [r.key for r in reader.summary("model", Filters()).rows]
            return generation, _Choices(projects, models)

        self._history_worker.submit(job)

    def _since(self) -> dt.datetime:
        from spendtray.timeparse import parse_when

        value = str(self.history_period.currentData())
        settings = self.settings
        return parse_when(value, self.clock(), settings.zone(), settings.week_start_index)

    def run_history(self) -> None:
        """Re-price the selected history on the checked models (in the background)."""
        from spendtray.store.reader import Filters

        targets = self.checked_models()
        if self.reader is None:
            self.history_status.setText("No usage database is attached to this window.")
            return
        if not targets:
            self.history_status.setText("Check at least one model in the Prompt tab.")
            return
        self._start_workers()
        assert self._history_worker is not None
        self._history_generation += 1
        generation = self._history_generation
        filters = Filters(
            project=self.history_project.currentData(),
            model=self.history_model.currentData(),
            since=self._since(),
        )
        reader, book = self.reader, self.book

        def job() -> tuple[int, WhatIfReport]:
            from spendtray.estimator.whatif import reprice_history

            return generation, reprice_history(reader.conn(), filters, targets, book=book)

        self.history_status.setText("Re-pricing your stored calls…")
        self.history_button.setEnabled(False)
        self._history_worker.submit(job)

    def _on_history(self, _seq: int, payload: Any, error: BaseException | None) -> None:
        if error is not None:
            self.history_button.setEnabled(True)
            self.history_status.setText(f"Could not re-price: {error}")
            self.history_status.setStyleSheet(f"color: {WARNING.name()};")
            self.history_ready.emit()
            return
        generation, value = payload
        if isinstance(value, _Choices):
            self._fill_choices(value)
            return
        if generation != self._history_generation:
            return
        self.history_button.setEnabled(True)
        self._show_history(value)
        self.history_ready.emit()

    def _fill_choices(self, choices: _Choices) -> None:
        self._choices_loaded = True
        for combo, values in (
            (self.history_project, choices.projects),
            (self.history_model, choices.models),
        ):
            current = combo.currentData()
            while combo.count() > 1:
                combo.removeItem(1)
            for value in values:
                combo.addItem(value, value)
            index = combo.findData(current)
            combo.setCurrentIndex(max(0, index))

    def _show_history(self, report: WhatIfReport) -> None:
        usd = self._usd
        t = report.totals
        self.history_status.setStyleSheet("")
        scope = self.history_project.currentText()
        if self.history_model.currentData():
            scope += f", {self.history_model.currentText()}"
        scope += f", {self.history_period.currentText().lower()}"
        if t.calls == 0:
            self.history_status.setText(f"{scope}: no stored calls match; nothing to re-price.")
        else:
            unpriced = (
                f" (+{t.actual_unpriced_calls:,} calls without a price)"
                if t.actual_unpriced_calls
                else ""
            )
            self.history_status.setText(
                f"{scope}: {t.calls:,} calls, {format_tokens(t.input_tokens)} input and "
                f"{format_tokens(t.output_tokens)} output tokens, actually cost "
                f"{usd(t.actual_cost_nanos)}{unpriced}."
            )
        rows = len(report.results) + len(report.unknown)
        self.history_table.setRowCount(rows)
        for row, r in enumerate(report.results):
            notes: list[str] = []
            if r.tier_crossed_calls:
                notes.append(f"{r.tier_crossed_calls:,} calls over a long-context tier")
            if r.over_context_calls:
                notes.append(f"{r.over_context_calls:,} calls would not fit its context")
            if r.unpriceable_calls:
                notes.append(f"{r.unpriceable_calls:,} calls not priceable")
            difference = r.difference_nanos
            sign = "+" if difference > 0 else ""
            diff_item = _item(sign + usd(difference), right=True)
            if difference > 0:
                diff_item.setForeground(QBrush(WARNING))
            items = [
                _item(r.target, tip=f"priced as {r.model_id} ({r.price_source})"),
                _item(r.provider),
                _item(usd(r.whatif_cost_nanos), right=True),
                diff_item,
                _item("; ".join(notes)),
            ]
            for column, item in enumerate(items):
                self.history_table.setItem(row, column, item)
        for offset, (model, reason) in enumerate(report.unknown):
            row = len(report.results) + offset
            for column, text in enumerate((model, "—", "—", "—", reason)):
                self.history_table.setItem(row, column, _item(text))
        self.history_table.resizeColumnsToContents()
