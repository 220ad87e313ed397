"""Table models for the dashboard: recent calls and the per-dimension breakdowns. GUI thread.

Each refresh replaces the rows in one model reset, which is far cheaper than rebuilding item
widgets and keeps the user's column widths and scroll position.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from spendtray.money import format_tokens, format_usd
from spendtray.store.reader import Summary

Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
UNPRICED_COLOUR = QColor("#c92a2a")


@cache
def _bold() -> QFont:
    # made on first use: a QFont needs the QGuiApplication to exist
    font = QFont()
    font.setBold(True)
    return font


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    right: bool = False
    tip: Callable[[Any], str | None] | None = None


class RowsModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[Any] = []
        self.bold_last = False

    def set_rows(self, rows: list[Any], bold_last: bool = False) -> None:
        self.beginResetModel()
        self.rows = rows
        self.bold_last = bold_last
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].title
            if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[section].right:
                return RIGHT
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column.tip is not None:
            return column.tip(row)
        unpriced = isinstance(row, dict) and not row.get("priced", True)
        if role == Qt.ItemDataRole.ForegroundRole and unpriced:
            return UNPRICED_COLOUR
        if (
            role == Qt.ItemDataRole.FontRole
            and self.bold_last
            and index.row() == len(self.rows) - 1
        ):
            return _bold()
        return None


def _usd_nanos(value: float | None) -> int | None:
    # The Reader's event rows carry dollars rounded to 9 places: exactly the nano amount.
    return None if value is None else round(value * 1e9)


def call_columns(
    zone: ZoneInfo, now: Callable[[], dt.datetime], precision: Callable[[], int]
) -> list[Column]:
    def when(event: dict[str, Any]) -> str:
        stamp = dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
        local = stamp.astimezone(zone)
        if local.date() == now().astimezone(zone).date():
            return local.strftime("%H:%M:%S")
        return f"{local:%b} {local.day}, {local:%H:%M}"

    def cost(event: dict[str, Any]) -> str:
        if not event["priced"]:
            return "unpriced"
        return format_usd(_usd_nanos(event["cost_usd"]), max(precision(), 4))

    return [
        Column("Time", when, tip=lambda e: e["timestamp"]),
        Column("Project", lambda e: e["project"]),
        Column("Model", lambda e: e["model"]),
        Column("Provider", lambda e: e["provider"]),
        Column("Agent", lambda e: e["agent"] or ""),
        Column("In", lambda e: format_tokens(e["input_tokens"]), right=True),
        Column("Out", lambda e: format_tokens(e["output_tokens"]), right=True),
        Column("Cached", lambda e: format_tokens(e["cache_read_tokens"]), right=True),
        Column("Cost", cost, right=True, tip=lambda e: e.get("unpriced_reason")),
        Column(
            "Priced",
            lambda e: "yes" if e["priced"] else "no",
            tip=lambda e: e.get("unpriced_reason") or (e.get("price") or {}).get("source"),
        ),
    ]


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_nanos: int
    unpriced_calls: int
    share: float | None  # of the total cost; None for the total row


def breakdown_rows(summary: Summary) -> list[BreakdownRow]:
    total = summary.total.cost_nanos
    rows = [
        BreakdownRow(
            r.key,
            r.calls,
            r.input_tokens,
            r.output_tokens,
            r.cost_nanos,
            r.unpriced_calls,
            (r.cost_nanos / total) if total else 0.0,
        )
        for r in summary.rows
    ]
    t = summary.total
    rows.append(
        BreakdownRow(
            "Total", t.calls, t.input_tokens, t.output_tokens, t.cost_nanos, t.unpriced_calls, None
        )
    )
    return rows


def breakdown_columns(title: str, precision: Callable[[], int]) -> list[Column]:
    return [
        Column(title, lambda r: r.key or "(none)"),
        Column("Calls", lambda r: f"{r.calls:,}", right=True),
        Column("In", lambda r: format_tokens(r.input_tokens), right=True),
        Column("Out", lambda r: format_tokens(r.output_tokens), right=True),
        Column("Cost", lambda r: format_usd(r.cost_nanos, precision()), right=True),
        Column("Share", lambda r: "" if r.share is None else f"{r.share:.0%}", right=True),
        Column(
            "Unpriced", lambda r: f"{r.unpriced_calls:,}" if r.unpriced_calls else "", right=True
        ),
    ]
