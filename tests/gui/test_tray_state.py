"""The tray's colour follows the worst budget state, its menu the latest figures."""

from __future__ import annotations

from typing import Any

import httpx

# gpt-4o-mini: 12k in + 3k out = $0.0036, so three calls walk a $0.01 daily budget through
# ok (36 %), warning (72 %, past the 50 % threshold) and exceeded (108 %).
CALL = {"model": "gpt-4o-mini", "input_tokens": 12_000, "output_tokens": 3_000, "project": "acme"}


def test_tray_state_crosses_budget_thresholds(
    gui: Any, client: httpx.Client, post: Any, qtbot: Any
) -> None:
    if gui.hooks.budgets is None:
        raise AssertionError("the core has a budget service; the GUI must find it")
    response = client.put("/v1/budgets/acme", json={"period": "day", "limit_usd": 0.01})
    assert response.status_code == 200, response.text
    seen: list[str] = []
    gui.tray.state_changed.connect(seen.append)

    post(CALL)
    qtbot.waitUntil(lambda: gui.tray.figures.today_calls == 1, timeout=5000)
    assert gui.tray.state == "ok"

    with qtbot.waitSignal(gui.bridge.alert, timeout=3000) as alert:
        post(CALL)
        qtbot.waitUntil(lambda: gui.tray.state == "warning", timeout=5000)
    assert "acme" in alert.args[0].text

    post(CALL)
    qtbot.waitUntil(lambda: gui.tray.state == "exceeded", timeout=5000)
    assert seen == ["warning", "exceeded"]
    assert "acme at 108 % of $0.01 today" in gui.tray.icon.toolTip()
    gui.tray.menu.aboutToShow.emit()
    assert "acme at 108 % of $0.01 today" in [a.text() for a in gui.tray.menu.actions()]


def test_menu_is_rebuilt_with_current_figures(gui: Any, post: Any, qtbot: Any) -> None:
    post(CALL)
    qtbot.waitUntil(lambda: gui.tray.figures.today_calls == 1, timeout=5000)
    gui.tray.menu.aboutToShow.emit()
    texts = [a.text() for a in gui.tray.menu.actions() if a.text()]
    assert texts[0] == "Today: $0.0036 (1 call)"
    assert texts[2] == "Top project: acme ($0.0036 this month)"
    for item in (
        "Open dashboard",
        "Estimator…",
        "Pause notifications",
        "Copy ingest URL",
        "Copy token",
        "Quit Spendtray",
    ):
        assert item in texts
    gui.tray.copy_token()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == gui.core.token
    gui.tray.copy_url()
    assert QGuiApplication.clipboard().text() == f"{gui.core.url}/v1/usage"


def test_pause_reaches_the_budget_service(gui: Any) -> None:
    gui.tray.menu.aboutToShow.emit()
    pause = next(a for a in gui.tray.menu.actions() if a.text() == "Pause notifications")
    pause.trigger()
    assert gui.hooks.budgets.paused is True
    assert gui.tray.notify("t", "m") is False
