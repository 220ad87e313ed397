"""Subscription windows in the GUI (pytest-qt, offscreen, the real core and server): the
dashboard's Limits tab draws a bar per window with time to reset and pace; the tray's tooltip
and menu name the most urgent window and its icon turns at 100 %; threshold notifications reach
the tray once per window, and not while paused."""

from __future__ import annotations

import time
from typing import Any

import httpx

from spendtray.store.limits import fired_limit_alerts


def reading(window: str, used: float, resets_in: int, minutes: int = 300) -> dict[str, Any]:
    return {
        "provider": "anthropic",
        "window": window,
        "window_minutes": minutes,
        "used_percent": used,
        "resets_at": int(time.time()) + resets_in,
    }


def record(client: httpx.Client, *readings: dict[str, Any]) -> None:
    response = client.post("/v1/limits", json=list(readings))
    assert response.status_code == 202, response.text


def test_limits_tab_draws_bars_with_reset_and_pace(
    gui: Any, dashboard: Any, client: httpx.Client, qtbot: Any
) -> None:
    panel = dashboard.limits_panel
    assert panel is not None
    dashboard.tabs.setCurrentWidget(panel)
    assert not panel.empty.isHidden() and panel.rows == []
    # 3 h into the 5 h window at 60 %: 20 %/h, full in 2 h — exactly at the reset
    # 1 day into the 7 d window at 10 %: on pace (≈ 70 % at reset)
    record(
        client,
        reading("five_hour", 60.0, 2 * 3600 + 600),
        reading("seven_day", 10.0, 6 * 86400, minutes=10080),
    )
    qtbot.waitUntil(lambda: len(panel.rows) == 2, timeout=3000)
    five, seven = panel.rows
    assert five.title.text() == "<b>Claude 5h</b>"
    assert five.bar.value() == 60 and five.bar.format() == "60 %"
    assert five.detail.text().startswith("resets in 2 h 10 m · at this rate you reach 100 % in ")
    assert seven.bar.value() == 10
    assert seven.detail.text() == "resets in 6 d · on pace (≈ 70 % at reset)"
    assert panel.empty.isHidden()


def test_tray_names_the_most_urgent_window_and_turns_at_100(
    gui: Any, client: httpx.Client, qtbot: Any
) -> None:
    record(client, reading("seven_day", 40.0, 3 * 86400, minutes=10080))
    record(client, reading("five_hour", 50.0, 4 * 3600))
    qtbot.waitUntil(lambda: gui.limits.view.urgent is not None, timeout=3000)
    qtbot.waitUntil(lambda: "Claude 5h: 50 %" in gui.tray.icon.toolTip(), timeout=3000)
    assert gui.tray.state == "ok"
    # an hour into the window at 50 %: full in another hour, three hours before the reset
    assert gui.tray.icon.toolTip().endswith("\nClaude 5h: 50 % · resets in 4 h · 100 % in 1 h")
    gui.tray.menu.aboutToShow.emit()
    texts = [a.text() for a in gui.tray.menu.actions()]
    assert "Claude 5h: 50 % · resets in 4 h" in texts
    assert "Claude 7d: 40 % · resets in 3 d" in texts
    assert "Claude 5h: at this rate you reach 100 % in 1 h, 3 h before reset" in texts

    record(client, reading("five_hour", 100.0, 3600))
    qtbot.waitUntil(lambda: gui.tray.state == "exceeded", timeout=3000)
    assert "Claude 5h: 100 % · resets in 1 h" in gui.tray.icon.toolTip()


def test_threshold_notifications_once_per_window(
    gui: Any, client: httpx.Client, qtbot: Any
) -> None:
    shown: list[tuple[str, str]] = []
    gui.tray.notify = lambda title, text, severity="warning": shown.append((title, text)) or True
    with qtbot.waitSignal(gui.bridge.alert, timeout=3000) as alert:
        record(client, reading("five_hour", 72.0, 3 * 3600))
    assert alert.args[0].kind == "limit" and alert.args[0].threshold == 70.0
    qtbot.waitUntil(lambda: len(shown) == 1)
    assert shown[0][0] == "Spendtray — Claude 5h window filling"
    assert shown[0][1].startswith("Claude 5h window at 72 % (70 % alert) · resets in 3 h")

    with qtbot.assertNotEmitted(gui.bridge.alert, wait=300):
        record(client, reading("five_hour", 80.0, 3 * 3600))  # same window, same threshold

    gui.tray.menu.aboutToShow.emit()
    next(a for a in gui.tray.menu.actions() if a.text() == "Pause notifications").trigger()
    assert gui.core.limits.delivering is False
    with qtbot.assertNotEmitted(gui.bridge.alert, wait=300):
        record(client, reading("five_hour", 91.0, 3 * 3600))
    fired = fired_limit_alerts(gui.core.reader.conn())
    assert [(a["threshold"], a["delivered"]) for a in fired] == [(90.0, 0), (70.0, 1)]


def test_rows_name_subscriptions_and_api_keys_apart() -> None:
    from spendtray.limits.model import Observation
    from spendtray.views.limits_view import build

    now_ms = 1_800_000_000_000
    view = build(
        [
            Observation("openai", "api", "tokens", None, 25.0, 1_800_000_030, now_ms),
            Observation("openai", "subscription", "secondary", 10080, 12.0, 1_800_300_000, now_ms),
            Observation("anthropic", "subscription", "five_hour", 300, 95.0, 1_800_003_600, now_ms),
        ],
        now_ms,
    )
    assert [r.title for r in view.rows] == ["Claude 5h", "Codex 7d", "OpenAI API tokens"]
    assert [r.state for r in view.rows] == ["warning", "ok", "ok"]
    assert view.urgent is not None and view.urgent.title == "Claude 5h"
    assert view.state == "warning"
