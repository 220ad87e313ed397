"""What the dashboard shows a user: failed calls marked, shares as bars with the totals in
sight, cards that follow the filters, legend swatches, the month trend against a global budget.
Real server, real store, real widgets offscreen; waits are qtbot.waitUntil on a condition."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt


def _call(project: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "input_tokens": 10_000, "project": project, **extra}


def test_recent_calls_mark_failures_and_missing_usage(
    dashboard: Any, post: Any, qtbot: Any
) -> None:
    dashboard.show_tab("calls")
    post(
        _call("acme", status="error 429", input_tokens=0, request_id="r1"),
        _call("acme", status="client closed", request_id="r2"),
        _call("acme", tags={"usage": "missing"}, input_tokens=0, request_id="r3"),
        _call("acme", request_id="r4", source="python-client"),
    )
    model = dashboard.calls_model
    qtbot.waitUntil(lambda: len(model.rows) == 4, timeout=5000)
    titles = [c.title for c in model.columns]
    status, source, cost = titles.index("Status"), titles.index("Source"), titles.index("Cost")
    by_request = {row["request_id"]: i for i, row in enumerate(model.rows)}
    texts = {rid: model.text(i, status) for rid, i in by_request.items()}
    assert texts == {
        "r1": "429 rate limited",
        "r2": "client closed",
        "r3": "usage missing",
        "r4": "ok",
    }
    assert model.text(by_request["r4"], source) == "python-client"
    red = model.data(model.index(by_request["r1"], status), Qt.ItemDataRole.ForegroundRole)
    assert red is not None and red.name() == "#c92a2a"
    plain = model.data(model.index(by_request["r4"], status), Qt.ItemDataRole.ForegroundRole)
    assert plain is None
    assert model.text(by_request["r4"], cost) == "$0.0015"  # 10k tokens at $0.15 per million
    # no column is wider than its content allows: the table fits the window
    view = dashboard.calls_view
    widths = sum(view.columnWidth(i) for i in range(len(titles)))
    assert widths <= dashboard.width()


def test_breakdown_shows_bars_beside_the_table_and_the_totals(
    dashboard: Any, post: Any, qtbot: Any
) -> None:
    post(*[_call("acme") for _ in range(3)], _call("zeta", cache_read_tokens=4_000))
    dashboard.show_tab("breakdown")
    page = dashboard.breakdown
    qtbot.waitUntil(lambda: [b.label for b in page.bars.bars] == ["acme", "zeta"], timeout=5000)
    acme, zeta = page.bars.bars
    assert acme.cost_nanos == 4_500_000  # cached input is cheaper: zeta costs less
    assert acme.share == acme.cost_nanos / (acme.cost_nanos + zeta.cost_nanos)
    assert "4,000 cached" in page.totals.text() and "4 calls" in page.totals.text()
    page.show_group("model")
    assert [b.label for b in page.bars.bars] == ["gpt-4o-mini"]
    assert page.table.model() is dashboard.breakdown_models["model"]
    assert page.bars.isVisible() and page.table.isVisible() and page.totals.isVisible()


def test_cards_follow_the_filters(dashboard: Any, post: Any, qtbot: Any) -> None:
    post(_call("acme"), _call("zeta"), _call("zeta"))
    qtbot.waitUntil(lambda: dashboard.today_value.text() == "$0.0045", timeout=5000)
    dashboard.set_filter("project", "acme")
    qtbot.waitUntil(lambda: dashboard.today_value.text() == "$0.0015", timeout=5000)
    assert dashboard.month_value.text() == "$0.0015"
    assert dashboard.top_value.text() == "acme · $0.0015"


def test_legend_swatches_are_squares_without_a_line(dashboard: Any, post: Any, qtbot: Any) -> None:
    dashboard.show_tab("overview")
    post(_call("acme"), _call("zeta"))
    chart = dashboard.days_chart
    qtbot.waitUntil(lambda: sorted(chart.names) == ["acme", "zeta"], timeout=5000)
    samples = [sample.item for sample, _label in chart.legend.items]
    assert len(samples) == 2
    assert all(isinstance(item, pg.ScatterPlotItem) for item in samples)


def test_global_monthly_budget_draws_on_the_month_trend_without_a_filter(
    dashboard: Any, client: Any, post: Any, qtbot: Any
) -> None:
    assert client.put("/v1/budgets/*", json={"period": "month", "limit_usd": 40}).status_code == 200
    dashboard.show_tab("overview")
    post(_call("acme"))
    chart = dashboard.month_chart
    qtbot.waitUntil(lambda: chart.budget.line.isVisible(), timeout=5000)
    assert chart.budget.line.value() == 40.0
    assert dashboard.current_filters().project is None
    trend = dashboard.snapshot.dashboard.overview.month
    assert round(chart.ys[-1] * 1e9) == trend.spent_nanos == 1_500_000
    assert "budget $40.00" in chart.note.textItem.toPlainText()
    assert "forecast" in chart.note.textItem.toPlainText()


def test_each_hours_cumulative_point_sits_at_the_end_of_the_hour(
    dashboard: Any, post: Any, qtbot: Any
) -> None:
    dashboard.show_tab("overview")
    post(_call("acme"))
    chart = dashboard.today_chart
    qtbot.waitUntil(lambda: bool(chart.ys) and chart.ys[-1] > 0, timeout=5000)
    overview = dashboard.snapshot.dashboard.overview
    ended = [float(h + 1) for h in range(overview.current_hour)]
    assert chart.xs == [0.0, *ended, overview.current_hour + overview.hour_fraction]
    # the spend of an hour is on the point at its end: nothing before the call's hour
    assert chart.ys[: overview.current_hour + 1] == [0.0] * (overview.current_hour + 1)
