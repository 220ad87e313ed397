"""The sync folder worker (SPEC §14): every few seconds, write this machine's new events to its
own files, then read what the other machines wrote. Thread "spendtray-sync", created and
stopped by the composition root; ``spendtray sync`` runs one pass on the calling thread.

Events taken from other machines are committed through the one writer like any others, so the
budgets, alerts, the tray and the dashboard count every machine without knowing about sync.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from spendtray.store.reader import Reader
from spendtray.store.writer import Writer
from spendtray.sync.exporter import Exporter
from spendtray.sync.follower import Follower, FollowReport
from spendtray.sync.layout import machine_id

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 3.0


@dataclass(frozen=True)
class SyncPass:
    exported: int
    received: FollowReport


class SyncService:
    """Owns the exporter and the follower of one sync folder."""

    def __init__(
        self,
        folder: Path,
        home: Path,
        machine_name: str,
        reader: Reader,
        writer: Writer,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self.folder = folder
        self.machine_id = machine_id(home)
        self.machine_name = machine_name
        self.exporter = Exporter(folder, self.machine_id, machine_name, reader, writer)
        self.follower = Follower(folder, self.machine_id, reader, writer)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one pass at a time (the thread, or run_once)

    def run_once(self) -> SyncPass:
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            exported = self.exporter.run()
            received = self.follower.run()
            return SyncPass(exported, received)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="spendtray-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except OSError as exc:  # an unmounted share, a full disk: try again later
                log.warning("sync folder %s: %s", self.folder, exc)
            except Exception:  # a bug must not end syncing for the session
                log.exception("sync folder %s: a pass failed", self.folder)
            self._stop.wait(self.interval)
