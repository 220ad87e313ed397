"""The OTLP export worker: thread "spendtray-otlp-export", created and stopped by the
composition root when config.toml has ``otlp_export``.

It reads this machine's events above the exported id on its own read connection, sends them in
batches with the official SDK exporter (``OTLPLogExporter``: protobuf over HTTP, gzip, its own
retries), and moves the exported id (in the database, through the writer) only after the
collector accepted a batch. So ingest never waits for the collector; a collector that is down
only delays the export (the batch is retried with a growing pause, up to a minute); and a
restart of either side resumes at the first unsent event — nothing skipped, and nothing sent
twice unless a stop came between a send and its bookkeeping (at-least-once, with
``spendtray.event.id`` to tell). Events taken from other machines through the sync folder are
not sent: their own machine sends them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Protocol

from opentelemetry.sdk._logs import ReadableLogRecord

from spendtray.config import OtlpExportConfig
from spendtray.otlp_export.records import log_record, resource
from spendtray.store.reader import Reader
from spendtray.store.sync_state import (
    OTLP_EXPORTED_KEY,
    exported_through,
    local_events_after,
    set_exported_through,
)
from spendtray.store.writer import Writer

log = logging.getLogger(__name__)

BATCH = 512
IDLE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0


class LogExporter(Protocol):
    def export(self, batch: list[ReadableLogRecord]) -> object: ...

    def shutdown(self) -> None: ...


def _sdk_exporter(config: OtlpExportConfig) -> LogExporter:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    return OTLPLogExporter(
        endpoint=config.logs_url,
        headers=dict(config.headers),
        timeout=config.timeout,
        compression=Compression.Gzip,
    )


class OtlpExportService:
    """Sends every event stored here to ``config``'s collector, in order, resumably."""

    def __init__(
        self,
        config: OtlpExportConfig,
        machine_id: str,
        machine_name: str,
        reader: Reader,
        writer: Writer,
        make_exporter: Callable[[OtlpExportConfig], LogExporter] = _sdk_exporter,
    ) -> None:
        self.config = config
        self.machine_id = machine_id
        self.reader = reader
        self.writer = writer
        self._resource = resource(machine_name)
        self._make_exporter = make_exporter
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0  # records accepted by the collector since start

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="spendtray-otlp-export", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.config.timeout + 30)
            self._thread = None

    def _run(self) -> None:
        from opentelemetry.sdk._logs.export import LogRecordExportResult

        exporter = self._make_exporter(self.config)
        backoff = 1.0
        try:
            while not self._stop.is_set():
                cursor = exported_through(self.reader.conn(), OTLP_EXPORTED_KEY)
                rows = local_events_after(self.reader.conn(), cursor, BATCH)
                if not rows:
                    self._stop.wait(IDLE_SECONDS)
                    continue
                batch = [log_record(row, self.machine_id, self._resource) for row in rows]
                try:
                    result = exporter.export(batch)
                except Exception as exc:  # the SDK reports failures; a bug must not end export
                    log.warning("OTLP export to %s failed: %s", self.config.logs_url, exc)
                    result = None
                if result != LogRecordExportResult.SUCCESS:
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                backoff = 1.0
                self.writer.call(
                    partial(
                        set_exported_through, event_id=int(rows[-1]["id"]), key=OTLP_EXPORTED_KEY
                    )
                )
                self.sent += len(rows)
        finally:
            exporter.shutdown()
