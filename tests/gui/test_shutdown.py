"""The tray app's shutdown stops every part the core owns: no Spendtray thread left, no SQLite
file of its data folder open (counted from /proc, not from our own bookkeeping)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from leaks import open_data_files, spendtray_threads
from spendtray.config import Settings
from spendtray.core import Core


def test_gui_shutdown_ends_every_thread_and_connection(
    settings: Settings, qtbot: Any, agent_logs: Path
) -> None:
    from spendtray.gui.app import GuiApp

    before = spendtray_threads()
    core = Core(settings)
    core.start_background()
    gui = GuiApp(core, use_tray=False, import_interval=0.05)
    gui.start()
    qtbot.waitUntil(lambda: gui.is_ready)
    assert gui.dashboard is not None
    qtbot.addWidget(gui.dashboard)
    gui._follow_logs(True)  # the agent-log watcher, as the tray's toggle starts it
    with httpx.Client(base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}) as c:
        call = {"model": "gpt-4o", "project": "acme", "input_tokens": 10, "output_tokens": 1}
        assert c.post("/v1/usage", json=call).status_code == 202
        assert c.put("/v1/budgets/acme", json={"period": "day", "limit_usd": 1}).is_success
    qtbot.waitUntil(lambda: gui.tray.figures.today_calls == 1)
    running = {t.name for t in spendtray_threads() - before}
    assert {"spendtray-writer", "spendtray-budgets", "spendtray-http"} <= running
    assert "spendtray-import-watch" in running
    assert open_data_files(settings.home)

    gui.shutdown()

    assert [t.name for t in spendtray_threads() - before] == []
    assert open_data_files(settings.home) == []


def test_gui_qt_parts_are_deleted_on_the_gui_thread_at_shutdown(
    settings: Settings, qtbot: Any
) -> None:
    """The app's callbacks point back at it, so after shutdown it is cyclic garbage, freed by
    the cycle collector on whichever thread runs it next. Collected on a worker thread, a tray
    icon, menu or QThread still alive would be destroyed there, under the GUI thread's event
    loop (the crash seen under load in the test above). Shutdown deletes them on this thread."""
    import gc
    import threading

    from PySide6.QtCore import Qt

    from spendtray.gui.app import GuiApp

    destroyed: list[tuple[str, str]] = []

    def record(part: str) -> Any:
        return lambda *_: destroyed.append((part, threading.current_thread().name))

    core = Core(settings)
    core.start_background()
    try:
        gui = GuiApp(core, use_tray=True)
        with qtbot.waitSignal(gui.ready):
            gui.start()
        direct = Qt.ConnectionType.DirectConnection
        gui.tray.icon.destroyed.connect(record("tray icon"), direct)
        gui.tray.menu.destroyed.connect(record("tray menu"), direct)
        gui.refresher._thread.destroyed.connect(record("refresh QThread"), direct)
        gui.shutdown()
        del gui
        collector = threading.Thread(target=gc.collect, name="spendtray-test-gc")
        collector.start()
        collector.join()
    finally:
        core.stop()
    main = threading.current_thread().name
    assert sorted(destroyed) == [
        ("refresh QThread", main),
        ("tray icon", main),
        ("tray menu", main),
    ]
