"""Follows agent logs continuously: an import pass every ``interval`` seconds on its own thread
("spendtray-import-watch"). The tray app starts and stops it; ``spendtray import --watch`` runs
the same loop on the main thread.

A pass over unchanged logs costs one ``stat`` per folder and per live file (files quiet for
ten minutes are looked at every 15th poll; see ``Importer.run``), so polling every 2 s stays
near idle. Between passes the thread sleeps
on an ``Event``, which ``stop`` sets, so stopping is immediate. Listeners get each pass's
reports on the watcher thread; the GUI forwards them through its Qt bridge.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from spendtray.importers.registry import KINDS
from spendtray.importers.runner import Importer, ImportReport

if TYPE_CHECKING:
    from spendtray.core import Core
    from spendtray.ingest.event import UsageEvent
    from spendtray.ingest.service import IngestResult

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 2.0
FULL_EVERY = 15  # every 15th poll (30 s at the default) also checks files quiet for 10 min


class ImportWatcher:
    """``ImportWatcher(core).start()`` … ``.stop()``; ``poll_once()`` runs one pass inline."""

    def __init__(
        self,
        core: Core,
        kinds: Sequence[str] = KINDS,
        interval: float = DEFAULT_INTERVAL,
        paths: dict[str, list[Path]] | None = None,
        store: Callable[[Sequence[UsageEvent]], IngestResult] | None = None,
    ) -> None:
        """``paths`` per kind replace the default places; ``store`` replaces
        ``core.ingest.ingest_events`` (the CLI passes a running server's sink)."""
        if interval <= 0:
            raise ValueError("interval must be > 0 seconds")
        self.interval = interval
        self._importers = [
            Importer.for_core(core, kind, (paths or {}).get(kind), store) for kind in kinds
        ]
        self._listeners: list[Callable[[list[ImportReport]], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one pass at a time (thread vs. poll_once)
        self._polls = 0
        self.last_reports: list[ImportReport] = []
        self.last_error: str | None = None

    def add_listener(self, listener: Callable[[list[ImportReport]], None]) -> None:
        """Called on the watcher thread after every pass; must be quick and never raise."""
        self._listeners.append(listener)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="spendtray-import-watch", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the pass in progress (its events and offsets are committed), then end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for importer in self._importers:
            importer.close()

    def poll_once(self, full: bool | None = None) -> list[ImportReport]:
        """One pass over every kind; errors are logged and kept in ``last_error``.

        The first poll and every ``FULL_EVERY``-th look at every file; the others skip files
        unchanged for ten minutes (``Importer.run(quick=True)``) — unless ``full`` says.
        """
        with self._lock:
            if full is None:
                full = self._polls % FULL_EVERY == 0
            self._polls += 1
            reports: list[ImportReport] = []
            errors: list[str] = []
            for importer in self._importers:
                if self._stop.is_set() and self.running:
                    break
                try:
                    reports.append(importer.run(quick=not full))
                except Exception as exc:  # a bad file system state must not kill the loop
                    errors.append(f"{importer.kind}: {exc}")
                    log.exception("import pass for %s failed", importer.kind)
            self.last_reports = reports
            self.last_error = "; ".join(errors) or None
        for listener in self._listeners:
            try:
                listener(reports)
            except Exception:
                log.exception("import listener failed")
        return reports

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)
