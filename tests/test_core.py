"""The composition root: after ``Core.stop()`` no Spendtray thread is alive and no SQLite
connection to the data file is open — counted from the process's open file descriptors, not
from our own bookkeeping."""

from __future__ import annotations

import threading

import httpx

from leaks import open_data_files, spendtray_threads
from spendtray.config import Settings
from spendtray.core import Core

CALL = {"model": "gpt-4o", "project": "acme", "input_tokens": 1000, "output_tokens": 10}


def use_every_part(core: Core) -> None:
    """Reach every part that opens a connection or a thread: ingest over HTTP (event loop),
    reads on the thread pool, a budget (writer + budget worker), an estimate, the log
    watcher."""
    with httpx.Client(
        base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}, timeout=30
    ) as client:
        assert client.post("/v1/usage", json=CALL).status_code == 202
        put = client.put("/v1/budgets/acme", json={"period": "day", "limit_usd": 0.001})
        assert put.status_code == 200, put.text
        assert client.post("/v1/usage", json={**CALL, "input_tokens": 5}).status_code == 202
        for path in ("/v1/usage", "/v1/summary", "/v1/budgets", "/v1/whatif?target=gpt-4o"):
            assert client.get(path).status_code == 200, path
    assert core.budgets.flush()
    core.follow_agent_logs(interval=0.05)


def test_stop_ends_every_thread_and_closes_every_connection(settings: Settings) -> None:
    before = set(spendtray_threads())
    core = Core(settings, warm_tokenizers=True)
    core.start_background()
    use_every_part(core)
    running = {t.name for t in spendtray_threads()}
    assert {"spendtray-writer", "spendtray-budgets", "spendtray-http"} <= running
    assert "spendtray-import-watch" in running
    assert open_data_files(settings.home)

    core.stop()

    assert [t.name for t in spendtray_threads() if t not in before] == []
    assert open_data_files(settings.home) == []
    core.stop()  # twice is harmless


def test_serving_on_the_calling_thread_stops_the_same_way(settings: Settings) -> None:
    """``spendtray serve``'s path: ``build_server`` + ``runner.run()`` until asked to exit."""
    before = set(spendtray_threads())
    core = Core(settings)
    runner = core.build_server()
    serving = threading.Thread(target=runner.run, name="test-serve")
    serving.start()
    try:
        for _ in range(1000):
            if runner.server.started:
                break
            serving.join(0.01)
        use_every_part(core)
    finally:
        runner.server.should_exit = True
        serving.join(10)
        core.stop()
    assert [t.name for t in spendtray_threads() if t not in before] == []
    assert open_data_files(settings.home) == []


def test_a_store_only_core_starts_no_worker(settings: Settings) -> None:
    """CLI commands start the writer alone: no budget evaluation, no alerts from a CLI import."""
    before = set(spendtray_threads())
    core = Core(settings)
    core.start_store()
    try:
        started = {t.name for t in spendtray_threads() if t not in before}
        assert started == {"spendtray-writer", "spendtray-checkpoint"}  # the writer's own
    finally:
        core.stop()
    assert open_data_files(settings.home) == []
