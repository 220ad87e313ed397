"""The Estimator window (SPEC §8): a Prompt tab (paste, see its tokens and cost on many
models) and a "What-if on my history" tab (re-price stored calls on the checked models).

GUI thread. Each tab is its own module (``estimator_prompt``, ``estimator_history``) with its
own background worker; what the tables say comes from ``spendtray.views.estimate_text``, the
model list from ``spendtray.estimator.catalogue``. This window only puts the two together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from spendtray.clock import utc_now
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.gui.estimator_history import HistoryTab
from spendtray.gui.estimator_prompt import DEBOUNCE_MS, PromptTab
from spendtray.prices.book import PriceBook

if TYPE_CHECKING:
    from spendtray.config import Settings
    from spendtray.core import Core
    from spendtray.store.reader import Reader


class EstimatorWindow(QWidget):
    estimated = Signal()  # the results table now shows the newest input (or its error)
    history_ready = Signal()  # the what-if tab shows a new report

    def __init__(
        self, core: Core | PriceBook, parent: QWidget | None = None, debounce_ms: int = DEBOUNCE_MS
    ) -> None:
        super().__init__(parent)
        # The tray app does not load the tokenizers at start (memory); start now, in the
        # background, so they are ready by the time the first paste is counted.
        from spendtray.estimator import tokenizers

        tokenizers.warm_up()
        # A bare PriceBook is accepted too (prompt estimates only, no history what-if).
        reader: Reader | None = None
        settings: Settings | None = None
        clock: Callable[[], dt.datetime] = utc_now
        if isinstance(core, PriceBook):
            book = core
        else:
            book, reader, settings, clock = core.prices, core.reader, core.settings, core.clock
        self.precision = max(2, int(getattr(settings, "currency_precision", 2)))
        self.setWindowTitle("Spendtray — Estimator")
        self.resize(1180, 760)

        self.prompt = PromptTab(book, clock, self.precision, debounce_ms)
        self.history = HistoryTab(
            book, reader, settings, clock, self.prompt.checked_models, self.precision
        )
        self.prompt.estimated.connect(self.estimated)
        self.history.ready.connect(self.history_ready)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.prompt, "Prompt")
        self.tabs.addTab(self.history, "What-if on my history")
        self.tabs.currentChanged.connect(self._on_tab)
        QVBoxLayout(self).addWidget(self.tabs)

        # the parts tests and the tray drive, under the names they had before the split
        p, h = self.prompt, self.history
        self.editor = p.editor
        self.search = p.search
        self.models = p.models
        self.status = p.status
        self.output_tokens = p.output_tokens
        self.calls = p.calls
        self.calls_per_day = p.calls_per_day
        self.cache = p.cache
        self.cache_tokens = p.cache_tokens
        self.batch = p.batch
        self.results = p.results
        self.table = p.table
        self.history_project = h.project
        self.history_model = h.model
        self.history_period = h.period
        self.history_button = h.button
        self.history_status = h.status
        self.history_results = h.results
        self.history_table = h.table

    def checked_models(self) -> list[str]:
        return self.prompt.checked_models()

    def set_models(self, names: Sequence[str]) -> None:
        self.prompt.set_models(names)

    def reset_models(self) -> None:
        self.prompt.set_models(DEFAULT_MODELS)

    def run_history(self) -> None:
        self.history.run()

    def _since(self) -> dt.datetime:
        return self.history.since()

    def _on_tab(self, index: int) -> None:
        if self.tabs.widget(index) is self.history:
            self.history.load_choices()

    def shutdown(self) -> None:
        """Stop the worker threads (the window can be shown again: they restart)."""
        self.prompt.shutdown()
        self.history.shutdown()

    def showEvent(self, event: QShowEvent) -> None:
        self.prompt.jobs.start()
        self.history.jobs.start()
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
