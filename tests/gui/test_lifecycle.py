"""Single instance, quitting, and the real `spendtray` process under SIGTERM."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sharedkit import spawn_spendtray
from spendtray.config import Settings


def test_second_instance_wakes_the_first(home: Path, qtbot: Any) -> None:
    from spendtray.gui.single_instance import SingleInstance

    first = SingleInstance(home)
    assert first.claim()
    try:
        second = SingleInstance(home)
        with qtbot.waitSignal(first.activated, timeout=2000):
            assert second.claim() is False
        other_home = SingleInstance(home / "elsewhere")
        assert other_home.name != first.name
    finally:
        first.release()


def test_quit_stops_server_and_drains_writer(settings: Settings, qtbot: Any) -> None:
    from spendtray.core import Core
    from spendtray.gui.app import GuiApp

    core = Core(settings)
    core.start_background()
    app = GuiApp(core, use_tray=True)
    app.start()
    url = core.url
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {core.token}"}) as c:
        assert c.post("/v1/usage", json={"model": "gpt-4o", "input_tokens": 5}).status_code == 202
    with qtbot.waitSignal(app.stopped, timeout=5000):
        app.quit()
    assert core.runner is None
    assert not core.writer.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)
    app.shutdown()  # a second call is harmless


def _read_until(proc: subprocess.Popen[str], needle: str, timeout: float) -> str:
    """Lines of the child's stderr up to the one containing ``needle`` (fails at timeout)."""
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not selector.select(left):
            raise AssertionError(f"{needle!r} not printed in {timeout}s; got: {seen!r}")
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"process ended before printing {needle!r}; got: {seen!r}")
        seen += line
    return seen


@pytest.mark.slow
def test_spendtray_process_single_instance_and_sigterm(home: Path) -> None:
    env = {
        **os.environ,
        "SPENDTRAY_HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "DISPLAY": os.environ.get("DISPLAY", ":0"),  # launch() looks for a display first
    }
    command = [sys.executable, "-m", "spendtray", "--port", "0"]
    first = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        out = _read_until(first, "ingest server on ", 30)
        assert "No system tray found" in out  # offscreen has no tray: a normal window instead
        url = out.split("ingest server on ")[1].split()[0]
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 0
        assert "already running" in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        assert first.stderr is not None
        assert "stopped; every acknowledged event is stored" in first.stderr.read()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=2)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


@pytest.mark.slow
def test_port_in_use_is_one_line_and_exit_2(core: Any, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SPENDTRAY_HOME": str(tmp_path / "other-home"),  # another instance key: no hand-off
        "QT_QPA_PLATFORM": "offscreen",
        "DISPLAY": os.environ.get("DISPLAY", ":0"),
    }
    port = str(core.runner.port)
    result = subprocess.run(
        [sys.executable, "-m", "spendtray", "--port", port],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_stops_cleanly(home: Path) -> None:
    env = {
        **os.environ,
        "SPENDTRAY_HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "DISPLAY": os.environ.get("DISPLAY", ":0"),
    }
    proc = spawn_spendtray("--port", "0", env=env)
    try:
        out = _read_until(proc, "ingest server on ", 30)
        url = out.split("ingest server on ")[1].split()[0]
        token = (home / "token").read_text().strip()
        sent = httpx.post(
            f"{url}/v1/usage",
            json={"model": "gpt-4o", "input_tokens": 10},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert sent.status_code == 202
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        assert "stopped; every acknowledged event is stored" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    from spendtray.config import load_settings
    from spendtray.store.reader import Filters, Reader

    reader = Reader(load_settings(home=home).db_path, load_settings(home=home).zone())
    assert reader.events(Filters())[0][0]["model"] == "gpt-4o"
    reader.close()


def test_stopping_the_refresher_leaves_the_cores_other_connections(
    settings: Settings, qtbot: Any
) -> None:
    import threading

    from spendtray.core import Core
    from spendtray.gui.app import GuiApp

    core = Core(settings)
    core.start_background()
    app = GuiApp(core, use_tray=True)
    app.start()
    try:
        app.refresher.request()
        qtbot.waitUntil(lambda: app.refresher._thread.isRunning(), timeout=5000)
        results: list[object] = []
        opened = threading.Event()
        go = threading.Event()

        def other_thread() -> None:  # stands for the budget thread
            conn = core.reader.conn()
            opened.set()
            go.wait(10)
            results.append(conn.execute("SELECT count(*) FROM events").fetchone())

        t = threading.Thread(target=other_thread)
        t.start()
        assert opened.wait(10)
        app.refresher.stop()
        go.set()
        t.join(10)
        assert results == [(0,)]
    finally:
        app.shutdown()
