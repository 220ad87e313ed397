"""``store.imports.last_request_ids_between``: the greatest stored request id in each of many
ranges in one statement (the Claude Code importer asks it for every message a batch may
already hold under another key), equal, range by range and in order, to the plain query."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.store import imports
from spendtray.store.imports import last_request_ids_between

STORED = ["cc:m1:r1", "cc:m1:r2", "cc:m10:r1", "cc:m2:", "cc:m3:ra", "cc:m4;", "cc:m5"]


def _one(conn: sqlite3.Connection, low: str, high: str) -> str | None:
    row = conn.execute(
        "SELECT max(request_id) FROM events WHERE request_id >= ? AND request_id < ?",
        (low, high),
    ).fetchone()
    return row[0]


@pytest.fixture()
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    core = Core(load_settings(home=tmp_path, port=0))
    core.start_store()
    rng = random.Random(15)
    more = [f"cc:x{rng.randrange(300)}:r{rng.randrange(5)}" for _ in range(400)]
    try:
        core.ingest.ingest(
            [
                {"model": "gpt-4o", "input_tokens": 10, "output_tokens": 1, "request_id": rid}
                for rid in dict.fromkeys(STORED + more)
            ]
        )
    finally:
        core.stop()
    opened = sqlite3.connect(core.settings.db_path)
    yield opened
    opened.close()


def test_each_range_answers_what_its_own_query_answers(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = [(f"cc:{m}:", f"cc:{m};") for m in ("m1", "m10", "m2", "m3", "m4", "m5", "m6")]
    assert last_request_ids_between(conn, wanted) == [
        "cc:m1:r2",  # the greatest of the message's keys
        "cc:m10:r1",  # not m1's
        "cc:m2:",  # the bare key itself
        "cc:m3:ra",
        None,  # "cc:m4;" is the range's end, not in it
        None,  # "cc:m5" sorts before "cc:m5:"
        None,
    ]
    rng = random.Random(6)
    many = [(f"cc:x{n}:", f"cc:x{n};") for n in (rng.randrange(400) for _ in range(700))]
    monkeypatch.setattr(imports, "_RANGES_CHUNK", 64)  # several statements, still in order
    assert last_request_ids_between(conn, many) == [_one(conn, lo, hi) for lo, hi in many]
    assert sum(key is not None for key in last_request_ids_between(conn, many)) > 300
    assert last_request_ids_between(conn, []) == []
