"""The one table model of the GUI: rows shown through ``spendtray.views.columns.Column``s.
GUI thread.

The dashboard's tables, the estimator's results and its what-if table are all a ``RowsModel``
in a ``QTableView`` made by ``table_view``. Each refresh replaces the rows in one model reset,
which is far cheaper than rebuilding item widgets and keeps the user's scroll position.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from spendtray.views.columns import Column, Tone

Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
TONE_COLOURS: dict[Tone, str] = {"error": "#c92a2a", "warning": "#d9480f", "muted": "#868e96"}


@cache
def _bold() -> QFont:
    # made on first use: a QFont needs the QGuiApplication to exist
    font = QFont()
    font.setBold(True)
    return font


@cache
def _colour(tone: Tone) -> QColor:
    return QColor(TONE_COLOURS[tone])


class RowsModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[Any] = []

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Change which columns show (the estimator's optional ones); rows stay."""
        if list(columns) != self.columns:
            self.beginResetModel()
            self.columns = list(columns)
            self.endResetModel()

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
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

    def text(self, row: int, column: int) -> str:
        return self.columns[column].text(self.rows[row])

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
        if role == Qt.ItemDataRole.ForegroundRole and column.tone is not None:
            tone = column.tone(row)
            return _colour(tone) if tone else None
        if role == Qt.ItemDataRole.FontRole and column.bold is not None and column.bold(row):
            return _bold()
        return None


def table_view(model: RowsModel, selectable: bool = True, stretch: int | None = None) -> QTableView:
    """A read-only table of ``model``; column ``stretch`` (else the last) takes the width left."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if not selectable:
        view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setHighlightSections(False)
    # Sizing columns to their contents measures every cell, so not on every refresh: only when
    # the table is on screen and its number of rows changed since it was last sized.
    model.modelReset.connect(lambda: fit_columns(view))
    # before any row: wide enough for the titles ("Would have cost" must not read "ould have")
    model.modelReset.connect(lambda: _fit_titles(view))
    _fit_titles(view)
    return view


def _fit_titles(view: QTableView) -> None:
    if view.model().rowCount() == 0:
        view.resizeColumnsToContents()


def fit_columns(view: QTableView, force: bool = False) -> None:
    """Size each column to its contents, within its ``max_chars``."""
    model = view.model()
    rows = model.rowCount()
    if not rows or not (force or view.isVisible()):
        return
    if not force and view.property("sized_rows") == rows:
        return
    view.resizeColumnsToContents()
    view.setProperty("sized_rows", rows)
    if isinstance(model, RowsModel):
        char = view.fontMetrics().horizontalAdvance("0")
        for i, column in enumerate(model.columns):
            widest = column.max_chars * char + 16
            if view.columnWidth(i) > widest:
                view.setColumnWidth(i, widest)
    if view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
        _fit_width(view)


def _fit_width(view: QTableView) -> None:
    """No horizontal scrolling: the widest columns give way (their full text is in the tip
    or elided) until the table fits its viewport."""
    count = view.model().columnCount()
    room = view.viewport().width()
    widths = [view.columnWidth(i) for i in range(count)]
    floor = view.fontMetrics().horizontalAdvance("0") * 8
    while sum(widths) > room:
        widest = max(range(count), key=lambda i: widths[i])
        if widths[widest] <= floor:
            break
        widths[widest] = max(floor, widths[widest] - (sum(widths) - room))
    # the last column gets what remains (and stretches when the window grows)
    widths[-1] = max(floor, room - sum(widths[:-1]))
    for i, width in enumerate(widths):
        view.setColumnWidth(i, width)
