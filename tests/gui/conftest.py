"""GUI fixtures: a ``GuiApp`` on the real core (real server, real SQLite), offscreen Qt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.core import Core


class Clock:
    """A settable clock: the tests decide what "now" is, nothing waits for real time."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(autouse=True)
def agent_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty agent-log folders: the tray app follows these, never this machine's own logs."""
    root = tmp_path / "agent-logs"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(root / "codex"))
    # Every other source is looked for under HOME (spendtray.importers.registry).
    monkeypatch.setenv("HOME", str(root / "home"))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture
def gui(core: Core, qtbot: Any) -> Iterator[Any]:
    from spendtray.gui.app import GuiApp

    app = GuiApp(core, use_tray=True)
    app.start()
    qtbot.waitUntil(lambda: app.is_ready, timeout=5000)
    try:
        yield app
    finally:
        app.shutdown()


@pytest.fixture
def dashboard(gui: Any, qtbot: Any) -> Any:
    gui.open_dashboard()
    board = gui.dashboard
    qtbot.addWidget(board)
    qtbot.waitUntil(lambda: board.snapshot is not None, timeout=5000)
    return board


@pytest.fixture
def post(client: httpx.Client) -> Callable[..., dict[str, Any]]:
    """POST events to the real server and insist they were accepted."""

    def send(*events: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/v1/usage", json=list(events))
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body

    return send
