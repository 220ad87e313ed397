"""An event posted to the real server reaches the table, the charts and the tooltip live."""

from __future__ import annotations

from typing import Any


def test_posted_event_shows_everywhere_within_a_second(
    gui: Any, dashboard: Any, post: Any, qtbot: Any
) -> None:
    assert dashboard.stack.currentWidget() is dashboard.empty
    assert gui.core.token in dashboard.empty.line.text()
    assert f"{gui.core.url}/v1/usage" in dashboard.empty.line.text()

    post(
        {
            "model": "gpt-4o-mini",
            "input_tokens": 12_000,
            "output_tokens": 3_000,
            "project": "acme",
            "agent": "planner",
        },
    )

    def shown() -> bool:
        rows = dashboard.calls_model.rows
        return bool(rows) and rows[0]["model"] == "gpt-4o-mini"

    qtbot.waitUntil(shown, timeout=1000)
    event = dashboard.calls_model.rows[0]
    nanos = round(event["cost_usd"] * 1e9)
    assert nanos > 0
    # graphs hold the same spend
    assert round(dashboard.today_chart.ys[-1] * 1e9) == nanos
    assert sum(dashboard.days_chart.totals) == nanos
    assert "acme" in [bar.name() for bar in dashboard.days_chart.bars]
    # breakdowns with totals
    by_agent = dashboard.breakdown_models["agent"].rows
    assert [r.key for r in by_agent] == ["planner", "Total"]
    assert by_agent[-1].cost_nanos == nanos
    # the tray tooltip says what today cost
    qtbot.waitUntil(lambda: "Today: $" in gui.tray.icon.toolTip(), timeout=1000)
    assert gui.tray.figures.today_nanos == nanos
    assert dashboard.stack.currentWidget() is dashboard.tabs
