"""The filter bar changes what the table, the breakdowns and the graphs show."""

from __future__ import annotations

import datetime as dt
from typing import Any


def _event(project: str, model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "input_tokens": 1000, "output_tokens": 200, "project": project, **extra}


def test_project_model_provider_and_range_filters(dashboard: Any, post: Any, qtbot: Any) -> None:
    dashboard.show_tab("calls")
    ten_days_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    post(
        _event("acme", "gpt-4o-mini"),
        _event("acme", "claude-sonnet-4-5"),
        _event("zeta", "gpt-4o-mini"),
        _event("zeta", "gpt-4.1", timestamp=ten_days_ago),
    )
    qtbot.waitUntil(lambda: len(dashboard.calls_model.rows) == 4, timeout=5000)

    dashboard.set_filter("project", "acme")
    qtbot.waitUntil(
        lambda: {e["project"] for e in dashboard.calls_model.rows} == {"acme"}, timeout=5000
    )
    assert len(dashboard.calls_model.rows) == 2
    dashboard.show_tab("breakdown")
    qtbot.waitUntil(
        lambda: [r.key for r in dashboard.breakdown_models["project"].rows] == ["acme"],
        timeout=5000,
    )
    dashboard.show_tab("overview")
    qtbot.waitUntil(lambda: dashboard.days_chart.names == ["acme"], timeout=5000)
    dashboard.show_tab("calls")

    dashboard.set_filter("provider", "anthropic")
    qtbot.waitUntil(
        lambda: [e["model"] for e in dashboard.calls_model.rows] == ["claude-sonnet-4-5"],
        timeout=5000,
    )

    dashboard.set_filter("project", None)
    dashboard.set_filter("provider", None)
    dashboard.set_filter("model", "gpt-4o-mini")
    qtbot.waitUntil(
        lambda: sorted(e["project"] for e in dashboard.calls_model.rows) == ["acme", "zeta"],
        timeout=5000,
    )

    dashboard.set_filter("model", None)
    dashboard.set_filter("time_range", "today")
    qtbot.waitUntil(
        lambda: (
            len(dashboard.calls_model.rows) == 3
            and "gpt-4.1" not in {e["model"] for e in dashboard.calls_model.rows}
        ),
        timeout=5000,
    )
    dashboard.set_filter("time_range", "30d")
    qtbot.waitUntil(lambda: len(dashboard.calls_model.rows) == 4, timeout=5000)
    # the combos learned every key seen so far
    models = [
        dashboard.combos["model"].itemData(i) for i in range(dashboard.combos["model"].count())
    ]
    assert models[1:] == sorted(["claude-sonnet-4-5", "gpt-4.1", "gpt-4o-mini"])


def test_unpriced_usage_is_named(gui: Any, dashboard: Any, post: Any, qtbot: Any) -> None:
    dashboard.show_tab("calls")
    post(_event("lab", "my-homebrew-model-7b", provider="acme-ai"))
    qtbot.waitUntil(lambda: not dashboard.unpriced_banner.isHidden(), timeout=5000)
    assert "my-homebrew-model-7b" in dashboard.unpriced_banner.text()
    qtbot.waitUntil(lambda: len(dashboard.calls_model.rows) == 1, timeout=5000)
    assert dashboard.calls_model.rows[0]["priced"] is False
    # The tray refreshes from its own snapshot, not the dashboard's: it may follow a moment later.
    qtbot.waitUntil(lambda: gui.tray.state == "unpriced", timeout=5000)
    assert "no known price" in gui.tray.icon.toolTip()


def test_one_machine_without_a_sync_folder_shows_no_sync_columns(
    dashboard: Any, post: Any, qtbot: Any
) -> None:
    post({"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 10})
    dashboard.show_tab("breakdown")
    dashboard.breakdown.show_group("machine")
    model = dashboard.breakdown_models["machine"]
    qtbot.waitUntil(lambda: len(model.rows) == 1, timeout=5000)
    titles = [c.title for c in model.columns]
    assert titles[0] == "Machine" and "Last synced" not in titles
    # one machine: nothing to choose between, so no Machine filter taking room in the bar
    assert not dashboard.combos["machine"].isVisibleTo(dashboard)
    assert dashboard.combos["project"].isVisibleTo(dashboard)
    assert "Machine" not in [c.title for c in dashboard.calls_model.columns]
    assert dashboard.breakdown.machine_sync is not None
    assert not dashboard.breakdown.machine_sync.shown
