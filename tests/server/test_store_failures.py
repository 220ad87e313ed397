"""When the database cannot be written (here: full, through SQLite's page limit — the same
SQLITE_FULL a full disk gives), the real server says "disk full" (507), stores nothing, and
/healthz tells the truth until a write succeeds again."""

from __future__ import annotations

import httpx
from sqlite_utils import Database

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
