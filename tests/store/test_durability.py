"""A kill -9 during a burst of POSTs loses no acknowledged event.

A child process runs `spendtray serve`; threads post events with unique request ids and record
every id the server acknowledged (2xx). The child is SIGKILLed mid-burst; every acknowledged id
must then be in the database file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from sharedkit import spawn_spendtray, wait_healthy
from spendtray.store.reader import Filters, Reader
from spendtray.store.writer import Writer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_9_loses_no_acknowledged_event(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    env.pop("SPENDTRAY_PORT", None)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = spawn_spendtray("serve", "--port", str(port), env=env, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        token = (home / "token").read_text().strip()
        acked: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def burst(worker: int) -> None:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
                n = 0
                while not stop.is_set():
                    ids = [f"w{worker}-{n}-{k}" for k in range(5)]
                    n += 1
                    body = [{"model": "gpt-4o", "input_tokens": 10, "request_id": i} for i in ids]
                    try:
                        r = c.post("/v1/usage", json=body, timeout=5)
                    except httpx.HTTPError:
                        return
                    if r.status_code == 202:
                        with lock:
                            acked.extend(ids)

        threads = [threading.Thread(target=burst, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        while True:
            with lock:
                if len(acked) >= 2000:
                    break
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        stop.set()
        for t in threads:
            t.join(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    db_path = home / "spendtray.db"
    conn = sqlite3.connect(db_path)
    stored = {row[0] for row in conn.execute("SELECT request_id FROM events")}
    conn.close()
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged events lost"
    assert len(acked) >= 2000
    # Summaries count every stored event, folded into the rollups or not ...
    reader = Reader(db_path, ZoneInfo("UTC"))
    assert reader.count() == len(stored)
    assert reader.summary("project", Filters()).total.calls == len(stored)
    reader.close()
    # ... and the next writer folds what the killed one left unfolded.
    writer = Writer(db_path)
    writer.start()
    writer.stop()
    conn = sqlite3.connect(db_path)
    rolled = conn.execute("SELECT sum(calls) FROM rollup_key_quarter").fetchone()[0]
    by_dim = conn.execute("SELECT sum(calls) FROM rollup_day WHERE dim = 'total'").fetchone()[0]
    conn.close()
    assert rolled == by_dim == len(stored)
