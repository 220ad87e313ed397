"""An event posted to the real server reaches the table, the charts and the tooltip live."""

from __future__ import annotations

from typing import Any


def test_live_refresh_of_the_visible_tab(dashboard: Any, post: Any, qtbot: Any) -> None:
    post({"model": "gpt-4o", "input_tokens": 100, "project": "one"})
    qtbot.waitUntil(lambda: sum(dashboard.days_chart.totals) > 0, timeout=5000)
    first = sum(dashboard.days_chart.totals)
    post({"model": "gpt-4o", "input_tokens": 100, "project": "two"})
    qtbot.waitUntil(lambda: sum(dashboard.days_chart.totals) == 2 * first, timeout=5000)
    assert sorted(dashboard.days_chart.names) == ["one", "two"]
    assert dashboard.range_value.text().endswith("· 2 calls")


def test_posted_event_shows_everywhere_within_a_second(
    gui: Any, dashboard: Any, post: Any, qtbot: Any
) -> None:
    assert dashboard.stack.currentWidget() is dashboard.empty
    assert f"{gui.core.url}/v1/usage" in dashboard.empty.curl.text
    assert gui.core.token in dashboard.empty.curl.text

    dashboard.show_tab("calls")
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

    qtbot.waitUntil(shown, timeout=5000)
    event = dashboard.calls_model.rows[0]
    nanos = round(event["cost_usd"] * 1e9)
    assert nanos > 0
    # graphs hold the same spend once their tab is shown (hidden tabs are not re-read live)
    dashboard.show_tab("overview")
    qtbot.waitUntil(lambda: sum(dashboard.days_chart.totals) == nanos, timeout=5000)
    assert round(dashboard.today_chart.ys[-1] * 1e9) == nanos
    assert dashboard.days_chart.names == ["acme"]
    # breakdowns with totals
    dashboard.show_tab("breakdown")
    qtbot.waitUntil(lambda: len(dashboard.breakdown_models["agent"].rows) == 1, timeout=5000)
    by_agent = dashboard.breakdown_models["agent"].rows
    assert [r.key for r in by_agent] == ["planner"]
    assert by_agent[0].cost_nanos == nanos
    # the tray tooltip says what today cost
    qtbot.waitUntil(lambda: "Today: $" in gui.tray.icon.toolTip(), timeout=5000)
    assert gui.tray.figures.today_nanos == nanos
    assert dashboard.stack.currentWidget() is dashboard.tabs


def test_budget_lines_on_the_charts(
    gui: Any, dashboard: Any, client: Any, post: Any, qtbot: Any
) -> None:
    assert (
        client.put("/v1/budgets/acme", json={"period": "month", "limit_usd": 31}).status_code == 200
    )
    post({"model": "gpt-4o", "input_tokens": 1000, "project": "acme"})
    dashboard.set_filter("project", "acme")  # unfiltered, only global (*) budgets are drawn
    line = dashboard.days_chart.budget.line
    # a monthly budget only: the daily pace that keeps the month inside it is drawn
    qtbot.waitUntil(lambda: line.isVisible(), timeout=5000)
    days = gui.refresher.latest.dashboard.overview.days_in_month
    assert line.label.format == f"monthly budget ÷ {days} days"
    assert round(line.value() * 1e9) == 31_000_000_000 // days
    # a daily budget is the line itself, on both charts
    assert client.put("/v1/budgets/*", json={"period": "day", "limit_usd": 2}).status_code == 200
    post({"model": "gpt-4o", "input_tokens": 1000, "project": "acme"})
    qtbot.waitUntil(lambda: line.value() == 2.0, timeout=5000)
    assert line.label.format == "daily budget"
    assert dashboard.today_chart.budget.line.value() == 2.0
