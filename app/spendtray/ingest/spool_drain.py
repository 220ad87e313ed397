"""At start, the app stores what Python clients spooled while it was down. Thread
"spendtray-spool-drain" (once per start), beside the server.

``spendtray.client`` keeps events in ``<data>/spool/`` when the app does not answer and
delivers them the next time that program (or another one using the client) runs — which may be
never for a finished script. So the app takes the spool over when it starts: it claims each
sealed or orphaned file the way a client would (an atomic rename, so a client delivering at the
same moment never sends the same file too), stores its events through the ingest service
exactly as ``POST /v1/usage`` would, and removes the file once they are committed. A file a
live client is still writing is left to it. Events the ingest refuses are named in one warning
each and dropped, as the client does with a 400; repeated request ids are stored once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from spendtray.ingest.service import BatchError, IngestService

log = logging.getLogger("spendtray.ingest")


class SpoolDrain:
    """Delivers ``folder``'s spooled client events to ``ingest`` once, on its own thread."""

    def __init__(self, ingest: IngestService, folder: Path) -> None:
        self.ingest = ingest
        self.folder = folder
        self.stored = 0  # events stored (duplicates included) by the last drain
        self.refused = 0
        self._thread: threading.Thread | None = None

    def drain(self) -> int:
        """Store every claimable spool file's events; returns how many were accepted."""
        if not self.folder.is_dir():
            return 0
        # Here, not at the top: every command that builds a Core imports this module, and the
        # client package is only needed when there is a spool to drain.
        from spendtray.client.spool import Spool

        # Only read and claimed, never appended to; an in-process client's files stay its own.
        spool = Spool(self.folder, max_bytes=0, foreign_only=True)
        for claim in spool.claims():
            try:
                self._store(claim.events)
            except Exception:
                claim.release()  # a store failure (disk full…): the file waits for next time
                log.exception("spooled client events not stored; kept in %s", self.folder)
                return self.stored
            claim.keep([])
        if self.stored or self.refused:
            log.info(
                "stored %d spooled client event(s) from %s (%d refused)",
                self.stored,
                self.folder,
                self.refused,
            )
        return self.stored

    def _store(self, events: list[dict[str, Any]]) -> None:
        """All at once; a batch with a bad event is stored without it (named in a warning)."""
        while events:
            try:
                result = self.ingest.ingest(events)
            except BatchError as exc:
                bad = events[exc.index]
                model = bad.get("model") if isinstance(bad, dict) else None
                log.warning("a spooled client event for model %r was refused: %s", model, exc)
                self.refused += 1
                events = events[: exc.index] + events[exc.index + 1 :]
                continue
            self.stored += result.accepted + result.duplicates
            return

    def _run(self) -> None:
        try:
            self.drain()
        except Exception:
            log.exception("draining the client spool failed")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="spendtray-spool-drain", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
