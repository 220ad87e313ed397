"""The dashboard's Budgets tab on the running app: what proxied calls in flight hold shows up
while the tab is open, with no commit to trigger a refresh."""

from __future__ import annotations

from typing import Any

from spendtray.budgets.model import make_budget
from spendtray.core import Core
from spendtray.views.budget_rows import COLUMNS


def test_in_flight_holds_show_while_the_tab_is_open(
    gui: Any, dashboard: Any, core: Core, post: Any, qtbot: Any
) -> None:
    core.budgets.put(make_budget("acme", "month", 10, mode="hard"))
    post({"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 10, "project": "acme"})
    editor = dashboard.budget_editor
    dashboard.tabs.setCurrentWidget(editor)
    spent = COLUMNS.index("Spent")

    def cell() -> str:
        item = editor.table.item(0, spent)
        return item.text() if item is not None else ""

    qtbot.waitUntil(lambda: cell().startswith("$0.000"), timeout=5000)
    assert "in flight" not in cell()
    assert dashboard.budget_tick.isActive()
    qtbot.wait(1500)  # the refreshes the post and the new budget asked for are done
    generation = gui.refresher.generation
    # what the proxy does before forwarding a call: hold its worst case against the budget
    result, held = core.budgets.reserve("acme", 350_000_000)
    assert result.allow and held is not None
    qtbot.waitUntil(lambda: cell().endswith(" + $0.35 in flight"), timeout=5000)
    assert gui.refresher.generation == generation  # shown by the tab's own tick, no refresh
    core.budgets.reservations.release(held)
    qtbot.waitUntil(lambda: "in flight" not in cell(), timeout=5000)
    # another tab: no more re-reading
    dashboard.show_tab("calls")
    assert not dashboard.budget_tick.isActive()
