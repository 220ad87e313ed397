"""Group commit for the server: the events of requests that arrive together are committed in
one transaction on the store's writer thread, and each request is answered after that COMMIT.

Runs on the event loop thread (``commit``) and gets the writer's results back through
``call_soon_threadsafe``; the loop itself never touches SQLite, so a slow disk or a write lock
held by another process can delay answers to POSTs but never ``/healthz`` or reads.

One transaction is in flight at a time: requests arriving while it commits wait and go in the
next one together, so a burst of single-event POSTs costs a few commits, not one each.

Under a write lock held elsewhere a request waits at most ``LOCK_WAIT`` seconds, then fails
with ``StoreBusy`` (nothing of it stored); the endpoints answer 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

from spendtray.store.rows import EventRow
from spendtray.store.writer import WriteOutcome, Writer

# Seconds a request may wait for a write lock another process holds before it is answered 503.
LOCK_WAIT = 1.0

_Pending = list[tuple[list[EventRow], "asyncio.Future[list[WriteOutcome]]"]]


class CommitBatcher:
    def __init__(self, writer: Writer, lock_wait: float = LOCK_WAIT) -> None:
        self.writer = writer
        self.lock_wait = lock_wait
        self._pending: _Pending = []
        self._in_flight = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def commit(self, rows: list[EventRow]) -> asyncio.Future[list[WriteOutcome]]:
        """A future (of this loop) resolved with the rows' outcomes after they committed."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[list[WriteOutcome]] = loop.create_future()
        self._pending.append((rows, future))
        if not self._in_flight:
            self._send()
        return future

    def _send(self) -> None:
        pending, self._pending = self._pending, []
        self._in_flight = True
        done = self.writer.submit_batches([rows for rows, _ in pending], self.lock_wait)
        loop = self._loop
        assert loop is not None
        done.add_done_callback(
            lambda result: loop.call_soon_threadsafe(self._done, pending, result)
        )

    def _done(self, pending: _Pending, result: Future[list[list[WriteOutcome]]]) -> None:
        self._in_flight = False
        error = result.exception()
        if error is not None:
            for _, future in pending:
                if not future.done():
                    future.set_exception(error)
        else:
            for (_, future), outcomes in zip(pending, result.result(), strict=True):
                if not future.done():
                    future.set_result(outcomes)
        if self._pending:
            self._send()
