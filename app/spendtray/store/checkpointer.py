"""WAL checkpoints on their own thread ("spendtray-checkpoint") and their own connection.

SQLite's automatic checkpoint runs inside the COMMIT that crosses the WAL's size mark, on the
committing thread — for the server, the event loop — and fsyncs twice. Every few hundred
commits one POST paid for copying a thousand pages to the database file. The write connection
turns the automatic checkpoint off and this thread runs a PASSIVE checkpoint (it never blocks
the writer or readers) about once a second while there are commits to copy.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from spendtray.store.db import open_for_checkpoints

log = logging.getLogger(__name__)

INTERVAL = 1.0  # seconds between checkpoints while commits keep coming


class Checkpointer:
    def __init__(self, db_path: Path, interval: float = INTERVAL) -> None:
        self._db_path = db_path
        self._interval = interval
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="spendtray-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """A commit happened (any thread; cheap)."""
        if not self._dirty.is_set():
            self._dirty.set()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._dirty.set()
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        conn = open_for_checkpoints(self._db_path)
        try:
            while not self._stopping.is_set():
                self._dirty.wait()
                if self._stopping.wait(self._interval):
                    break
                self._dirty.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except Exception:
                    log.exception("WAL checkpoint failed; the next one will retry")
        finally:
            conn.close()
