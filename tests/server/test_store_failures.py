"""When the database cannot be written (here: full, through SQLite's page limit — the same
SQLITE_FULL a full disk gives), the real server says "disk full" (507), stores nothing, and
/healthz tells the truth until a write succeeds again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from spendtray.config import load_settings
from spendtray.core import Core

EVENTS = [{"model": "gpt-4o-mini", "input_tokens": 10 + i, "tags": {"pad": "x" * 200}}
          for i in range(2000)]  # fmt: skip


def _cap_pages(extra: int):  # type: ignore[no-untyped-def]
    def cap(db: Database) -> None:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + extra}")

    return cap


def test_disk_full_is_507_and_healthz_says_so(core: Core, client: httpx.Client) -> None:
    assert client.post("/v1/usage", json=EVENTS[:10]).status_code == 202
    core.writer.call(_cap_pages(2))
    r = client.post("/v1/usage", json=EVENTS)
    assert r.status_code == 507, r.text
    assert r.json()["error"]["message"].startswith("disk full")
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "full" in health.json()["problem"]
    core.writer.call(_cap_pages(1_000_000))
    assert client.post("/v1/usage", json=EVENTS[:10]).status_code == 202
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/v1/summary").json()["total"]["calls"] == 20


def test_an_unwritable_database_stops_the_start_in_one_line(tmp_path: Path) -> None:
    """The file cannot be written (immutable: even root cannot): one line, exit 2 — not a
    server that looks healthy and answers 500 to every write."""
    home = tmp_path / "home"
    core = Core(load_settings(home=home, port=0))
    core.start_store()
    core.stop()
    db = home / "spendtray.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        env = {**os.environ, "SPENDTRAY_HOME": str(home), "SPENDTRAY_PORT": "0",
               "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "app")}  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "spendtray", "serve"], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "spendtray.db" in done.stderr
