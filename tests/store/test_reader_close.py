"""A thread that ends closes its own read connection only: the budget thread and the server
keep theirs (closing another thread's connection under a running query can crash the process;
the dashboard's refresher once did exactly that at quit)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spendtray.store.db import ensure_schema
from spendtray.store.reader import Reader


def test_close_this_thread_leaves_the_other_threads_connections(tmp_path: Path) -> None:
    path = tmp_path / "spendtray.db"
    ensure_schema(path, "laptop")
    reader = Reader(path, ZoneInfo("UTC"))
    mine = reader.conn()
    done = threading.Event()

    def worker() -> None:
        reader.conn().execute("SELECT 1").fetchone()
        reader.close_this_thread()
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert done.is_set()
    assert mine.execute("SELECT count(*) FROM events").fetchone() == (0,)
    reader.close()
    with pytest.raises(sqlite3.ProgrammingError):
        mine.execute("SELECT 1")
