"""The dashboard's pyqtgraph charts: today's cumulative spend by hour, this month's cumulative
spend with its forecast to the month's end, and the last 30 days stacked by project, each
against its budget line. GUI thread.

Plotted values are dollars as floats: the chart is a picture, not a ledger. Totals shown as
text come from the integer nano-dollar sums, formatted by ``spendtray.money``.
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import accumulate

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from spendtray.money import format_usd
from spendtray.views.snapshot import STACKED_PROJECTS, Overview
from spendtray.views.trend import MonthTrend

PALETTE = ("#4c6ef5", "#f59f00", "#2f9e44", "#ae3ec9", "#e8590c", "#1098ad", "#868e96")
LINE = "#1c7ed6"
BUDGET = "#e03131"
FORECAST = "#868e96"


def dollars(nanos: int) -> float:
    return nanos / 1e9


class UsdAxis(pg.AxisItem):  # type: ignore[misc]
    """Tick labels in dollars with as many decimals as the tick spacing needs ($0.005, $12)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        step = spacing * scale
        if step <= 0:
            return ["" for _ in values]
        # whole dollars for steps of $1 or more; cents at least below that ($0.50, not $0.5)
        places = 0 if step >= 1 else min(6, max(2, -math.floor(math.log10(step))))
        return [f"${v * scale:,.{places}f}" for v in values]


def _plot(title: str, bottom: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(axisItems={"left": UsdAxis(orientation="left")})
    widget.setBackground("w")
    item = widget.getPlotItem()
    item.setTitle(title, color="#212529", size="11pt")
    item.setLabel("left", "spend (USD)", color="#495057")
    item.setLabel("bottom", bottom, color="#495057")
    item.showGrid(x=False, y=True, alpha=0.25)
    item.setMenuEnabled(False)
    item.hideButtons()
    widget.setMouseEnabled(x=False, y=False)
    # dollars stay dollars: no "(x0.001)" SI rescaling of the axis
    item.getAxis("left").enableAutoSIPrefix(False)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen("#adb5bd"))
        axis.setTextPen(pg.mkPen("#495057"))
    return widget


class BudgetLine:
    """One dashed horizontal budget line, kept and moved rather than re-created."""

    def __init__(self, plot: pg.PlotWidget, label: str) -> None:
        self.line = pg.InfiniteLine(
            pos=0,
            angle=0,
            pen=pg.mkPen(BUDGET, width=2, style=Qt.PenStyle.DashLine),
            label=label,
            # the label's right end near the right edge, above the line: never clipped
            labelOpts={
                "position": 0.98,
                "anchors": [(1, 1), (1, 1)],
                "color": BUDGET,
                "fill": (255, 255, 255, 220),
            },
        )
        self.line.setZValue(20)  # above the bars, so its label is never hidden
        self.line.hide()
        plot.addItem(self.line, ignoreBounds=True)

    def set(self, line: tuple[int, str] | None) -> float:
        """Show ``(nanos, label)`` (hide for None); answers the height in dollars."""
        if line is None or line[0] <= 0:
            self.line.hide()
            return 0.0
        nanos, label = line
        self.line.setValue(dollars(nanos))
        self.line.label.setFormat(label)
        self.line.show()
        return dollars(nanos)


class TodayChart:
    """Cumulative spend through today's hours (local time) with the daily budget line."""

    def __init__(self, zone_name: str) -> None:
        self.widget = _plot("Today — cumulative spend by hour", f"hour of day ({zone_name})")
        self.curve = self.widget.plot(
            [],
            [],
            pen=pg.mkPen(LINE, width=2.5),
            symbol="o",
            symbolSize=5,
            symbolBrush=LINE,
            symbolPen=None,
            fillLevel=0,
            brush=QColor(76, 110, 245, 40),
        )
        self.budget = BudgetLine(self.widget, "daily budget")
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._ticks: list[tuple[float, str]] = []

    def set_data(self, data: Overview) -> None:
        cumulative = list(accumulate(data.hour_costs[: data.current_hour + 1]))
        # each point sits at the end of its hour; the running hour's at "now"
        self.xs = [0.0, *(float(i + 1) for i in range(len(cumulative)))]
        self.xs[-1] = data.current_hour + data.hour_fraction
        self.ys = [0.0, *(dollars(c) for c in cumulative)]
        self.curve.setData(self.xs, self.ys)
        hours = len(data.hour_labels)
        ticks: list[tuple[float, str]] = [
            (float(i), f"{data.hour_labels[i]}:00") for i in range(0, hours, 3)
        ]
        ticks.append((float(hours), "24:00"))
        if ticks != self._ticks:
            self._ticks = ticks
            self.widget.getPlotItem().getAxis("bottom").setTicks([ticks])
        limit = self.budget.set(data.daily_line())
        top = max([*self.ys, limit])
        self.widget.setXRange(0, hours, padding=0.02)
        self.widget.setYRange(0, top * 1.15 if top > 0 else 0.01, padding=0)


class DaysChart:
    """Spend per local day for the last 30 days, one stacked colour per project."""

    def __init__(self) -> None:
        self.widget = _plot("Last 30 days — spend per day by project", "day")
        # one row across the top, above the bars (the y range leaves room for it)
        self.legend = self.widget.getPlotItem().addLegend(
            offset=(10, 1),
            labelTextColor="#212529",
            brush=(255, 255, 255, 230),
            colCount=STACKED_PROJECTS + 1,
        )
        self.bars: list[pg.BarGraphItem] = []
        self.names: list[str] = []
        self.budget = BudgetLine(self.widget, "daily budget")
        self.totals: list[int] = []
        self._ticks: list[tuple[float, str]] = []

    def _rebuild_series(self, names: list[str], n: int) -> None:
        # Only when the set of projects changes: legend entries are costly to lay out. Named
        # items join (and leave) the legend with addItem/removeItem.
        plot = self.widget
        for bar in self.bars:
            plot.removeItem(bar)
        self.bars = []
        for index in range(len(names)):
            colour = PALETTE[index % len(PALETTE)]
            bar = pg.BarGraphItem(
                x=list(range(n)),
                height=[0.0] * n,
                y0=[0.0] * n,
                width=0.75,
                brush=colour,
                pen=pg.mkPen(colour),
            )
            plot.addItem(bar)
            self.bars.append(bar)
        # The legend draws a bar item as a line in its pen: a square swatch says "this colour"
        # without the stray line beside it.
        self.legend.clear()
        for index, name in enumerate(names):
            colour = PALETTE[index % len(PALETTE)]
            swatch = pg.ScatterPlotItem(symbol="s", size=11, brush=colour, pen=None)
            self.legend.addItem(swatch, name)
        self.names = names

    def set_data(self, data: Overview) -> None:
        n = len(data.day_keys)
        names = list(data.day_series)
        if names != self.names or (self.bars and len(self.bars[0].opts["x"]) != n):
            self._rebuild_series(names, n)
        base = [0.0] * n
        self.totals = [0] * n
        for bar, costs in zip(self.bars, data.day_series.values(), strict=True):
            heights = [dollars(c) for c in costs]
            bar.setOpts(x=list(range(n)), height=heights, y0=list(base))
            base = [b + h for b, h in zip(base, heights, strict=True)]
            self.totals = [t + c for t, c in zip(self.totals, costs, strict=True)]
        ticks = [(float(i), _short_day(data.day_keys[i])) for i in range(n - 1, -1, -5)]
        if ticks != self._ticks:
            self._ticks = ticks
            self.widget.getPlotItem().getAxis("bottom").setTicks([ticks])
        limit = self.budget.set(data.daily_line())
        top = max([*base, limit, 0.0])
        self.widget.setXRange(-0.6, n - 0.4, padding=0)
        self.widget.setYRange(0, top * 1.3 if top > 0 else 0.01, padding=0)


class MonthChart:
    """This month's cumulative spend, day by day, with a dashed forecast to the month's end
    and the monthly budget line."""

    def __init__(self) -> None:
        self.widget = _plot("This month — cumulative spend and forecast", "day of month")
        self.curve = self.widget.plot(
            [],
            [],
            pen=pg.mkPen(LINE, width=2.5),
            symbol="o",
            symbolSize=5,
            symbolBrush=LINE,
            symbolPen=None,
            fillLevel=0,
            brush=QColor(76, 110, 245, 40),
        )
        self.forecast = self.widget.plot(
            [], [], pen=pg.mkPen(FORECAST, width=2, style=Qt.PenStyle.DashLine)
        )
        self.budget = BudgetLine(self.widget, "monthly budget")
        self.note = pg.TextItem(anchor=(1, 0), color="#495057", fill=(255, 255, 255, 220))
        self.note.setZValue(30)
        self.widget.addItem(self.note, ignoreBounds=True)
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._ticks: list[tuple[float, str]] = []

    def set_data(self, trend: MonthTrend, precision: int = 2) -> None:
        xs, ys = trend.points()
        self.xs, self.ys = xs, [dollars(y) for y in ys]
        self.curve.setData(self.xs, self.ys)
        fx, fy = trend.forecast_points()
        self.forecast.setData(fx, [dollars(y) for y in fy])
        n = len(trend.day_keys)
        ticks = [(float(i), str(i + 1)) for i in range(0, n, 5)]
        if ticks != self._ticks:
            self._ticks = ticks
            self.widget.getPlotItem().getAxis("bottom").setTicks([ticks])
        budget = trend.budget_nanos
        limit = self.budget.set((budget, "monthly budget") if budget else None)
        top = max([*self.ys, dollars(trend.forecast_nanos), limit, 0.0])
        self.widget.setXRange(0, n, padding=0.02)
        self.widget.setYRange(0, top * 1.25 if top > 0 else 0.01, padding=0)
        last_day = _short_day(trend.day_keys[-1])
        text = f"forecast {format_usd(trend.forecast_nanos, precision)} by {last_day}"
        if budget:
            text += f" · budget {format_usd(budget, precision)}"
        self.note.setText(text, color=BUDGET if trend.over_budget() else "#495057")
        self.note.setPos(n, top * 1.22 if top > 0 else 0.01)


def _short_day(key: str) -> str:
    day = dt.date.fromisoformat(key)
    return f"{day:%b} {day.day}"


def setup_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=True, background="w", foreground="#212529")
