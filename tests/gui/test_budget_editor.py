"""The budget editor widget, offscreen, on a real core's budget service (no HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from sharedkit import UNIT_PRICES
from spendtray.budgets import BudgetService
from spendtray.budgets.model import make_budget
from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.gui.budget_editor import BudgetEditor
from spendtray.views.budget_rows import COLUMNS

NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def running(home: Path) -> Iterator[tuple[Core, BudgetService]]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "prices.toml").write_text(UNIT_PRICES, encoding="utf-8")
    settings = replace(load_settings(home=home, port=0), timezone="UTC")
    core = Core(settings, clock=lambda: NOW, budget_min_gap=0)
    core.start()
    try:
        yield core, core.budgets
    finally:
        core.stop()


def spend(core: Core, service: BudgetService, usd: float, project: str) -> None:
    core.ingest.ingest(
        [
            {
                "model": "unit-model",
                "provider": "testco",
                "project": project,
                "input_tokens": round(usd * 1_000_000),
            }
        ]
    )
    assert service.flush()


def cell(editor: BudgetEditor, row: int, col: int) -> str:
    item = editor.table.item(row, col)
    assert item is not None
    return item.text()


def test_lists_adds_edits_and_removes(
    qtbot: object, running: tuple[Core, BudgetService], tmp_path: Path
) -> None:
    core, service = running
    service.put(make_budget("*", "month", 200))
    spend(core, service, 41, "acme")
    editor = BudgetEditor(service)
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    editor.show()
    assert editor.table.rowCount() == 1
    assert cell(editor, 0, 0) == "* (all projects)"
    assert cell(editor, 0, 5) == "$41.00"

    # add a project budget through the form
    editor.project.setText("acme")
    editor.period.setCurrentText("month")
    editor.limit.setText("50")
    editor.mode.setCurrentIndex(editor.mode.findData("hard"))
    editor.thresholds.setText("50, 80, 100")
    changes: list[bool] = []
    editor.changed.connect(lambda: changes.append(True))
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert changes == [True]
    stored = {(b.project, b.period): b for b in service.budgets()}
    assert stored[("acme", "month")].limit_nanos == 50 * 10**9
    assert stored[("acme", "month")].mode == "hard"
    assert editor.table.rowCount() == 2
    row = [cell(editor, r, 0) for r in range(2)].index("acme")
    headers = [editor.table.horizontalHeaderItem(c).text() for c in range(len(COLUMNS))]
    assert headers == list(COLUMNS) and "Forecast" in headers
    assert [cell(editor, row, headers.index(c)) for c in ("Period", "Limit", "When spent")] == [
        "month",
        "$50",
        "block new calls",
    ]
    assert [cell(editor, row, headers.index(c)) for c in ("Used", "State")] == ["82 %", "warning"]
    assert cell(editor, row, headers.index("Forecast")).startswith("$")
    assert "Saved: $50.00 per month for acme." in editor.message.text()
    editor.grab().save(str(tmp_path / "budget_editor.png"))

    # selecting a row fills the form; changing the limit replaces that budget
    editor.table.selectRow(row)
    assert (editor.project.text(), editor.limit.text()) == ("acme", "50")
    assert editor.mode.currentData() == "hard"
    editor.limit.setText("100")
    assert editor.save()
    assert [b.limit_nanos for b in service.budgets("acme")] == [100 * 10**9]

    # remove it
    row = [cell(editor, r, 0) for r in range(editor.table.rowCount())].index("acme")
    editor.table.selectRow(row)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert [b.project for b in service.budgets()] == ["*"]
    assert editor.table.rowCount() == 1
    assert editor.message.text() == "Removed the month budget of acme."


@pytest.mark.parametrize(
    ("limit", "thresholds", "period", "message"),
    [
        ("-5", "50, 80, 100", "month", "limit: must be more than $0"),
        ("0", "50, 80, 100", "month", "limit: must be more than $0"),
        ("nan", "50, 80, 100", "month", "limit: must be a finite amount"),
        ("", "50, 80, 100", "month", "limit: '' is not an amount in US dollars"),
        ("5", "50, 120", "month", "notify at: 120 % is outside 0 < percent ≤ 100"),
        ("5", "80, 50", "month", "notify at: must be in ascending order"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    qtbot: object,
    running: tuple[Core, BudgetService],
    limit: str,
    thresholds: str,
    period: str,
    message: str,
) -> None:
    _, service = running
    service.put(make_budget("acme", "month", 10))
    editor = BudgetEditor(service)
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    editor.table.selectRow(0)
    editor.limit.setText(limit)
    editor.thresholds.setText(thresholds)
    editor.period.setCurrentText(period)
    assert editor.save() is False
    assert message in editor.message.text()
    assert editor.message.text().startswith("Not saved — ")
    assert [(b.period, b.limit_nanos) for b in service.budgets()] == [("month", 10 * 10**9)]


def test_empty_project_is_refused(qtbot: object, running: tuple[Core, BudgetService]) -> None:
    _, service = running
    editor = BudgetEditor(service)
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    assert editor.empty.isVisibleTo(editor)
    editor.limit.setText("5")
    assert editor.save() is False
    assert "project: must not be empty" in editor.message.text()
    assert service.budgets() == []
    assert editor.remove_selected() is False


def test_state_column_follows_spend(qtbot: object, running: tuple[Core, BudgetService]) -> None:
    core, service = running
    service.put(make_budget("acme", "day", 10))
    editor = BudgetEditor(service)
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    state, used = COLUMNS.index("State"), COLUMNS.index("Used")
    assert cell(editor, 0, state) == "on track"
    spend(core, service, 11, "acme")
    editor.refresh()
    assert cell(editor, 0, state) == "over budget"
    assert cell(editor, 0, used) == "110 %"


def test_spent_shows_reservations_of_calls_in_flight(
    qtbot: object, running: tuple[Core, BudgetService]
) -> None:
    core, service = running
    service.put(make_budget("acme", "month", 10, mode="hard"))
    spend(core, service, 4.10, "acme")
    editor = BudgetEditor(service)
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    editor.show()
    spent = COLUMNS.index("Spent")
    assert cell(editor, 0, spent) == "$4.10"
    # a proxied call in flight holds its worst case, as the proxy's reserve does
    result, held = service.reserve("acme", 350_000_000)
    assert result.allow and held is not None
    editor.refresh()
    assert cell(editor, 0, spent) == "$4.10 + $0.35 in flight"
    item = editor.table.item(0, spent)
    assert item is not None and "in flight" in item.toolTip()
    service.reservations.release(held)
    editor.refresh()
    assert cell(editor, 0, spent) == "$4.10"
