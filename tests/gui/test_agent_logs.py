"""The tray app follows Claude Code / Codex logs: imported calls reach the dashboard, the tray
item and the settings checkbox turn following off and on (and save it), and the Source filter
tells agent calls from API calls. Real core, real log files, real widgets (offscreen)."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spendtray.config import load_settings, with_overrides
from spendtray.core import Core
from spendtray.gui.tray import FOLLOW_LOGS

SESSION = "5f0c1c1e-0000-4000-8000-000000000001"


def _cc_line(n: int, when: dt.datetime) -> str:
    """One Claude Code assistant line in the shape the agent writes (compact JSON)."""
    line = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/src/shop",
        "sessionId": SESSION,
        "version": "2.0.14",
        "gitBranch": "main",
        "message": {
            "id": f"msg_{n}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 1200 + n,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 300,
                "service_tier": "standard",
            },
        },
        "requestId": f"req_{n}",
        "type": "assistant",
        "uuid": f"u-{n}",
        "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return json.dumps(line, separators=(",", ":"))


def _write(log: Path, lines: list[str], mode: str = "w") -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open(mode, encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)


@pytest.fixture
def claude_log(agent_logs: Path) -> Path:
    """A session log with two calls from a few minutes ago, where CLAUDE_CONFIG_DIR points."""
    now = dt.datetime.now(dt.UTC)
    log = agent_logs / "claude" / "projects" / "-home-dev-src-shop" / f"{SESSION}.jsonl"
    _write(log, [_cc_line(1, now - dt.timedelta(minutes=5)), _cc_line(2, now)])
    return log


@pytest.fixture
def app(core: Core, qtbot: Any, claude_log: Path) -> Iterator[Any]:
    from spendtray.gui.app import GuiApp

    gui = GuiApp(core, use_tray=False, import_interval=0.05)
    gui.start()
    qtbot.waitUntil(lambda: gui.is_ready, timeout=5000)
    assert gui.dashboard is not None
    qtbot.addWidget(gui.dashboard)
    try:
        yield gui
    finally:
        gui.shutdown()


def _sources(board: Any) -> list[str]:
    return sorted(e["source"] for e in board.calls_model.rows)


def test_logged_calls_show_live_and_the_source_filter_narrows_them(
    app: Any, post: Any, claude_log: Path, qtbot: Any
) -> None:
    board = app.dashboard
    board.show_tab("calls")
    assert app.watcher is not None and app.watcher.running
    qtbot.waitUntil(lambda: _sources(board) == ["claude-code", "claude-code"], timeout=10_000)
    qtbot.waitUntil(lambda: "Imported 2 new calls from Claude Code logs" in app.import_note)
    assert board.statusBar().currentMessage() == app.import_note
    row = board.calls_model.rows[0]
    assert (row["project"], row["model"]) == ("shop", "claude-sonnet-4-5-20250929")

    # a line the agent appends later arrives while the app runs
    _write(claude_log, [_cc_line(3, dt.datetime.now(dt.UTC))], mode="a")
    qtbot.waitUntil(lambda: len(board.calls_model.rows) == 3, timeout=10_000)

    post({"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 200, "project": "shop"})
    qtbot.waitUntil(lambda: _sources(board) == ["api"] + ["claude-code"] * 3, timeout=5000)

    board.set_filter("source", "claude-code")
    qtbot.waitUntil(lambda: _sources(board) == ["claude-code"] * 3, timeout=5000)
    # a filter change reads every key of the range, so the combo offers each source seen
    combo = board.combos["source"]
    qtbot.waitUntil(
        lambda: [combo.itemData(i) for i in range(combo.count())] == [None, "api", "claude-code"],
        timeout=5000,
    )
    assert combo.itemText(0) == "All sources"
    board.show_tab("breakdown")
    qtbot.waitUntil(
        lambda: [r.key for r in board.breakdown_models["provider"].rows] == ["anthropic"],
        timeout=5000,
    )
    board.show_tab("calls")
    board.set_filter("source", "api")
    qtbot.waitUntil(lambda: _sources(board) == ["api"], timeout=5000)
    board.set_filter("source", None)
    qtbot.waitUntil(lambda: len(board.calls_model.rows) == 4, timeout=5000)


def test_source_filter_offers_every_source_found_before_its_first_call(
    core: Core, qtbot: Any, claude_log: Path, agent_logs: Path
) -> None:
    from spendtray.gui.app import GuiApp

    (agent_logs / "home" / ".gemini" / "tmp").mkdir(parents=True)  # found, nothing logged yet
    gui = GuiApp(core, use_tray=False, import_interval=0.05)
    gui.start()
    try:
        qtbot.waitUntil(lambda: gui.is_ready, timeout=5000)
        assert gui.dashboard is not None
        qtbot.addWidget(gui.dashboard)
        combo = gui.dashboard.combos["source"]
        qtbot.waitUntil(
            lambda: {combo.itemData(i) for i in range(combo.count())} >= {"gemini-cli"},
            timeout=10_000,
        )
        assert "codex" not in {combo.itemData(i) for i in range(combo.count())}  # not found
    finally:
        gui.shutdown()


def test_tray_item_turns_following_off_and_on_and_saves_it(
    app: Any, settings: Any, qtbot: Any
) -> None:
    app.tray.rebuild_menu()
    item = next(a for a in app.tray.menu.actions() if a.text() == FOLLOW_LOGS)
    assert item.isCheckable() and item.isChecked()
    watcher = app.watcher

    item.trigger()  # unchecks it
    assert app.watcher is None and not watcher.running
    assert load_settings(home=settings.home).follow_agent_logs is False
    assert app.settings.follow_agent_logs is False
    app.tray.rebuild_menu()
    item = next(a for a in app.tray.menu.actions() if a.text() == FOLLOW_LOGS)
    assert not item.isChecked()

    item.trigger()
    assert app.watcher is not None and app.watcher.running
    raw = tomllib.loads(settings.config_path.read_text(encoding="utf-8"))
    assert raw == {"follow_agent_logs": True}


def test_settings_checkbox_turns_following_off(app: Any, settings: Any, qtbot: Any) -> None:
    app.open_settings()
    dialog = app.settings_dialog
    qtbot.addWidget(dialog)
    assert dialog.follow_agent_logs.isChecked()
    watcher = app.watcher
    dialog.follow_agent_logs.setChecked(False)
    assert dialog.save()
    assert app.watcher is None and not watcher.running
    assert load_settings(home=settings.home).follow_agent_logs is False


def test_setting_off_means_no_watcher(core: Core, qtbot: Any, claude_log: Path) -> None:
    from spendtray.gui.app import GuiApp

    gui = GuiApp(core, use_tray=True)
    gui.settings = with_overrides(gui.settings, follow_agent_logs=False)
    gui.start()
    try:
        qtbot.waitUntil(lambda: gui.is_ready, timeout=5000)
        assert gui.watcher is None
        gui.tray.rebuild_menu()
        item = next(a for a in gui.tray.menu.actions() if a.text() == FOLLOW_LOGS)
        assert not item.isChecked()
    finally:
        gui.shutdown()


def test_watcher_errors_are_shown_once_and_never_crash(app: Any, qtbot: Any) -> None:
    app.set_follow_logs(False)  # only the failures sent below reach the status bar
    bar = app.dashboard.statusBar()
    with qtbot.waitSignal(app.bridge.imported, timeout=5000):
        app.bridge.imported.emit([], "claude-code: [Errno 5] Input/output error")
    assert bar.currentMessage() == (
        "Reading the agent logs failed: claude-code: [Errno 5] Input/output error"
    )
    bar.clearMessage()
    with qtbot.waitSignal(app.bridge.imported, timeout=5000):
        app.bridge.imported.emit([], "claude-code: [Errno 5] Input/output error")
    assert bar.currentMessage() == ""  # the same failure again is not repeated
    app.set_follow_logs(True)
    assert app.watcher is not None and app.watcher.running
