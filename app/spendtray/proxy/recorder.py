"""Turns a finished proxied call into a stored usage event. Called on the server's event loop
once the response has ended; a large JSON body is parsed on a worker thread.
The call's budget reservation is released once its event is committed (writer thread), or at
once when the call leaves no event.

The event is validated and priced by the same ``IngestService.prepare`` as a ``POST
/v1/usage`` (source "proxy"), then handed to the store's writer thread with ``Writer.submit``:
the loop never waits for the commit, and a queued row is committed even while the server
shuts down (the writer drains its queue before it closes). A failure to record is logged and
never reaches the client, whose response has already gone out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future

from starlette.concurrency import run_in_threadpool

from spendtray.ingest.service import BatchError, IngestService
from spendtray.proxy.exchange import Exchange
from spendtray.proxy.forward import INLINE_PARSE_BYTES
from spendtray.store.writer import WriteOutcome

log = logging.getLogger("spendtray.proxy")


def _stored(exchange: Exchange) -> Callable[[Future[list[WriteOutcome]]], None]:
    """Writer-thread callback: the event is committed (its cost now counts as spend), so the
    call's reservation can go."""

    def done(future: Future[list[WriteOutcome]]) -> None:
        exchange.settle()
        exc = future.exception()
        if exc is not None:
            log.error("proxy: a call's usage event was not stored: %s", exc)

    return done


class Recorder:
    def __init__(self, service: IngestService) -> None:
        self.service = service
        self._warned_missing: set[tuple[str, str]] = set()

    async def record(self, exchange: Exchange) -> None:
        try:
            if exchange.body is not None and len(exchange.body) > INLINE_PARSE_BYTES:
                await run_in_threadpool(self.record_now, exchange)
            else:
                self.record_now(exchange)
        except Exception:
            log.exception("proxy: recording a call failed")
            exchange.settle()

    def record_now(self, exchange: Exchange) -> None:
        event = exchange.to_event()
        if event is None:
            exchange.settle()
            return
        if event.get("tags") == {"usage": "missing"}:
            self._warn_missing(event["project"], event["model"])
        try:
            rows = self.service.prepare([event], source="proxy")
        except BatchError as exc:
            log.warning(
                "proxy: %s call of project %r not stored: %s",
                exchange.upstream.name,
                exchange.project,
                exc,
            )
            exchange.settle()
            return
        self.service.writer.submit(rows).add_done_callback(_stored(exchange))

    def _warn_missing(self, project: str, model: str) -> None:
        key = (project, model)
        if key in self._warned_missing or len(self._warned_missing) > 1000:
            return
        self._warned_missing.add(key)
        log.warning(
            "proxy: a streamed call (project %r, model %r) carried no usage, so its cost is "
            'unknown; ask for it with stream_options={"include_usage": true} or set '
            "proxy_include_usage = true in config.toml",
            project,
            model,
        )
