"""The dashboard's "Limits" tab and the GUI's link to the limits service. GUI thread.

``LimitsPanel`` draws one bar per subscription window with its time to reset and pace (from a
``views.limits_view.LimitsView``). ``LimitsFeed`` keeps the newest readings for the tray and the
panel: the limits service hands each new set over through the bridge (from whichever thread
recorded them), and a minute timer recomputes what only time changes (time to reset, pace,
staleness) without touching the database. The estimated 5-hour block is read when the panel is
shown and on that timer (one small query).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QVBoxLayout, QWidget

from spendtray.clock import utc_now
from spendtray.limits.blocks import Block
from spendtray.limits.model import Observation
from spendtray.limits.service import LimitsService
from spendtray.views.limits_view import LimitsView, WindowRow, build

TICK_MS = 60_000
EMPTY = (
    "No subscription windows seen yet. Install the Claude Code statusline "
    "(spendtray statusline --install), let Spendtray follow Codex's logs, or send calls "
    "through the proxy."
)
BAR_COLOURS = {"ok": "#3a9a5b", "warning": "#d08b1a", "exceeded": "#c23b32"}


class LimitsFeed(QObject):
    """The newest readings and the view made of them; ``changed`` after each new view."""

    changed = Signal(object)  # LimitsView
    _readings = Signal(object)  # list[Observation], from any thread

    def __init__(self, service: LimitsService, clock: Callable[[], object] = utc_now) -> None:
        super().__init__()
        self.service = service
        self.clock = clock
        self.observations: list[Observation] = []
        self.block: Block | None = None
        self.view = LimitsView()
        self._open = True
        self._readings.connect(self._take)
        service.add_listener(self._relay)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.reload)

    def start(self) -> None:
        self.reload()
        self.timer.start()

    def stop(self) -> None:
        self._open = False  # listeners cannot be removed: a stopped feed just stops relaying
        self.timer.stop()

    def _relay(self, observations: list[Observation]) -> None:
        if self._open:  # the recording thread; the signal queues it to the GUI thread
            self._readings.emit(observations)

    def _now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)  # type: ignore[attr-defined]

    def reload(self) -> None:
        """Read the readings and the estimate again (start, the minute tick)."""
        self.observations = self.service.observations()
        self.block = self.service.estimate()
        self.recompute()

    def _take(self, observations: list[Observation]) -> None:
        self.observations = observations
        self.recompute()

    def recompute(self) -> None:
        self.view = build(
            self.observations, self._now_ms(), self.service.settings.limit_thresholds, self.block
        )
        self.changed.emit(self.view)


class _Row(QFrame):
    def __init__(self, row: WindowRow) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 8)
        self.title = QLabel(f"<b>{row.title}</b>" + ("  (old reading)" if row.stale else ""))
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setValue(row.bar_percent)
        self.bar.setFormat(f"{row.used_percent:.0f} %")
        # amber as soon as the pace runs out before the reset, even below the alert threshold
        colour = BAR_COLOURS["warning" if row.full_in and row.state == "ok" else row.state]
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background-color: {colour}; }}")
        self.detail = QLabel(f"{row.resets} · {row.pace}")
        self.detail.setWordWrap(True)
        for widget in (self.title, self.bar, self.detail):
            layout.addWidget(widget)


class LimitsPanel(QWidget):
    """One bar per window, most urgent first; the estimate below."""

    def __init__(self, feed: LimitsFeed | None = None) -> None:
        super().__init__()
        self.setObjectName("limits-panel")
        self._layout = QVBoxLayout(self)
        self.empty = QLabel(EMPTY)
        self.empty.setWordWrap(True)
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.rows: list[_Row] = []
        self._layout.addWidget(self.empty)
        self._layout.addWidget(self.estimate)
        self._layout.addStretch(1)
        self.feed = feed
        if feed is not None:
            feed.changed.connect(self.apply)
            self.apply(feed.view)

    def apply(self, view: LimitsView) -> None:
        for row in self.rows:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.rows = [_Row(r) for r in view.rows]
        for index, row in enumerate(self.rows):
            self._layout.insertWidget(index, row)
        self.empty.setVisible(not self.rows and view.estimate is None)
        self.estimate.setText(view.estimate or "")
        self.estimate.setVisible(view.estimate is not None)

    def showEvent(self, event: QShowEvent) -> None:
        if self.feed is not None:
            self.feed.reload()
        super().showEvent(event)
