"""A write lock held by another connection (another process, a second tool) must not freeze
the server: POSTs are answered 503 with Retry-After quickly, nothing of them is stored or
acknowledged, /healthz stays fast, and everything works again once the lock is released."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from spendtray.core import Core
from spendtray.server.commit_batcher import LOCK_WAIT
from spendtray.store.writer import StoreBusy, Writer

EVENT = {"model": "gpt-4o", "project": "locked", "input_tokens": 100, "output_tokens": 10}


def stored(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def held_lock(core: Core) -> Iterator[sqlite3.Connection]:
    """A second, real connection holding SQLite's write lock (BEGIN IMMEDIATE)."""
    other = sqlite3.connect(
        core.settings.db_path, isolation_level=None, timeout=0, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def test_a_held_write_lock_answers_503_quickly_and_stores_nothing(
    core: Core, client: httpx.Client, held_lock: sqlite3.Connection
) -> None:
    before = stored(core.settings.db_path)
    answers: list[httpx.Response] = []
    took: list[float] = []

    def post() -> None:
        start = time.monotonic()
        answers.append(client.post("/v1/usage", json={**EVENT, "request_id": "r-locked"}))
        took.append(time.monotonic() - start)

    poster = threading.Thread(target=post)
    poster.start()
    time.sleep(0.2)  # the POST is waiting for the lock now
    # The event loop is free meanwhile: health and reads answer at once.
    start = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/summary", params={"group_by": "project"}).status_code == 200
    assert time.monotonic() - start < 0.5
    poster.join(30)
    (answer,) = answers
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert "locked by another process" in answer.json()["error"]["message"]
    assert took[0] < LOCK_WAIT + 2
    held_lock.execute("ROLLBACK")
    assert stored(core.settings.db_path) == before
    # Released: the retry is stored, once.
    retry = client.post("/v1/usage", json={**EVENT, "request_id": "r-locked"})
    assert retry.status_code == 202
    assert retry.json()["accepted"] == 1
    assert stored(core.settings.db_path) == before + 1


def test_a_lock_released_in_time_is_waited_for(
    core: Core, client: httpx.Client, held_lock: sqlite3.Connection
) -> None:
    threading.Timer(LOCK_WAIT / 3, held_lock.execute, ("ROLLBACK",)).start()
    answer = client.post("/v1/usage", json=EVENT)
    assert answer.status_code == 202
    assert answer.json()["accepted"] == 1


def test_a_patient_job_does_not_hold_up_an_impatient_one(core: Core) -> None:
    # An import waits up to 30 s for the lock; a request queued behind it must still be refused
    # within its own, short wait — and the import is stored once the lock goes.
    writer: Writer = core.writer
    rows = core.ingest.prepare([{**EVENT, "request_id": "import-1"}])
    quick_rows = core.ingest.prepare([{**EVENT, "request_id": "quick-1"}])
    other = sqlite3.connect(core.settings.db_path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        patient = writer.submit(rows, lock_wait=30)
        time.sleep(0.1)
        start = time.monotonic()
        impatient = writer.submit_batches([quick_rows], lock_wait=0.3)
        with pytest.raises(StoreBusy):
            impatient.result(10)
        assert time.monotonic() - start < 1.5
        assert not patient.done()
    finally:
        other.execute("ROLLBACK")
        other.close()
    (outcome,) = patient.result(10)
    assert not outcome.duplicate
    assert stored(core.settings.db_path) == 1
