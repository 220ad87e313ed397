"""Horizontal bars of each key's share of the cost (the Breakdown tab's chart). GUI thread.

Painted directly: one row per ``spendtray.views.breakdown.Bar`` with its name on the left,
the bar scaled to the largest share, and the amount and percentage after it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from spendtray.money import format_usd
from spendtray.views.breakdown import Bar

BAR_COLOUR = QColor("#4c6ef5")
REST_COLOUR = QColor("#adb5bd")
TEXT = QColor("#212529")
MUTED = QColor("#868e96")
ROW = 26


class ShareBars(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[Bar] = []
        self.precision = 2
        self.empty_text = "No priced spend in this range."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(True)

    def set_bars(self, bars: list[Bar], precision: int) -> None:
        self.bars = bars
        self.precision = precision
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, max(3, len(self.bars)) * ROW + 12)

    def minimumSizeHint(self) -> QSize:
        return QSize(260, 3 * ROW)

    def label_width(self) -> int:
        metrics = self.fontMetrics()
        widest = max((metrics.horizontalAdvance(b.label) for b in self.bars), default=0)
        return min(widest + 12, int(self.width() * 0.4))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        if not self.bars:
            painter.setPen(MUTED)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        names = self.label_width()
        values = [f"{format_usd(b.cost_nanos, self.precision)} · {b.share:.0%}" for b in self.bars]
        value_width = max(metrics.horizontalAdvance(v) for v in values) + 10
        room = max(20, self.width() - names - value_width - 8)
        top_share = max(b.share for b in self.bars) or 1.0
        for i, (bar, value) in enumerate(zip(self.bars, values, strict=True)):
            y = 6 + i * ROW
            painter.setPen(TEXT)
            label = metrics.elidedText(bar.label, Qt.TextElideMode.ElideMiddle, names - 8)
            painter.drawText(
                QRectF(0, y, names - 8, ROW - 4),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            length = max(2.0, room * bar.share / top_share)
            colour = REST_COLOUR if bar.label.endswith(" others") else BAR_COLOUR
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(names, y + 3, length, ROW - 10), 3, 3)
            painter.setPen(MUTED)
            painter.drawText(
                QRectF(names + length + 6, y, value_width, ROW - 4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                value,
            )

    def bar_at(self, y: float) -> Bar | None:
        index = int((y - 6) // ROW)
        return self.bars[index] if 0 <= index < len(self.bars) else None

    def event(self, event: QEvent) -> bool:
        if isinstance(event, QHelpEvent) and event.type() == QEvent.Type.ToolTip:
            bar = self.bar_at(event.pos().y())
            if bar is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), bar.tip, self)
            return True
        return super().event(event)
