"""Group commit for the server: the events of requests that arrive together are committed in
one transaction on the store's writer thread, and each request is answered after that COMMIT.

Runs on the event loop thread (``commit``). The requests whose events were ready in one turn
of the loop, or in the next, are committed together, at the end of that next turn. While the
writer thread is idle and no other process holds SQLite's write lock, the loop commits them
itself
(``Writer.submit_batches(here=True)``: a transaction of a few events is cheaper than two
thread wake-ups); it never waits for either — a busy writer thread or a held lock sends them
to the writer thread, whose results come back through ``call_soon_threadsafe``. So a write
lock held by another process, or an import's batch being committed, can delay answers to
POSTs but never ``/healthz`` or reads.

One transaction of small requests is in flight at a time: requests arriving while it commits
wait and go in the next one together, so a burst of single-event POSTs costs a few commits,
not one each. A large batch (an import's) goes to the writer thread alone, which commits the
small jobs waiting before each large one.

Under a write lock held elsewhere a request waits at most ``LOCK_WAIT`` seconds, then fails
with ``StoreBusy`` (nothing of it stored); the endpoints answer 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future

from spendtray.store.rows import EventRow
from spendtray.store.writer import SMALL_JOB_ROWS, WriteOutcome, Writer

# Seconds a request may wait for a write lock another process holds before it is answered 503.
LOCK_WAIT = 1.0

log = logging.getLogger(__name__)

# Called on the loop once the rows committed (their outcomes, None) or failed (None, error).
Done = Callable[[list[WriteOutcome] | None, BaseException | None], None]
_Pending = list[tuple[list[EventRow], Done]]


class CommitBatcher:
    def __init__(self, writer: Writer, lock_wait: float = LOCK_WAIT) -> None:
        self.writer = writer
        self.lock_wait = lock_wait
        self._pending: _Pending = []
        self._in_flight = False
        self._flush_soon = False
        self._turn_waited = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def commit(self, rows: list[EventRow]) -> asyncio.Future[list[WriteOutcome]]:
        """A future (of this loop) resolved with the rows' outcomes after they committed."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[list[WriteOutcome]] = loop.create_future()

        def settle(outcomes: list[WriteOutcome] | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(outcomes)  # type: ignore[arg-type]

        self.commit_then(rows, settle)
        return future

    def commit_then(self, rows: list[EventRow], done: Done) -> None:
        """``commit`` with ``done`` called on the loop instead of a future resolved: the
        answer to a request is written right after its COMMIT, with no Task to wake."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        if len(rows) > SMALL_JOB_ROWS:
            # A large batch is a job of its own on the writer thread, which commits the
            # small jobs waiting before it (``Writer``): single events never wait behind it.
            result = self.writer.submit_batches([rows], self.lock_wait)
            result.add_done_callback(
                lambda result: loop.call_soon_threadsafe(self._done_alone, done, result)
            )
            return
        self._pending.append((rows, done))
        if not self._in_flight and not self._flush_soon:
            # After the other callbacks of this turn: requests parsed together commit together.
            self._flush_soon = True
            loop.call_soon(self._flush)

    def _flush(self) -> None:
        if not self._turn_waited:
            # One more turn of the loop first: requests whose bytes arrive in its poll join
            # this transaction rather than waiting for the next one. Under 8 connections
            # (bench/ingest.py) a commit carried 6.6 events instead of 4.3 and the server
            # answered 1.10x as many single POSTs; a lone request waits microseconds more.
            self._turn_waited = True
            self._loop.call_soon(self._flush)  # type: ignore[union-attr]
            return
        self._turn_waited = False
        self._flush_soon = False
        if not self._in_flight and self._pending:
            self._send()

    def _send(self) -> None:
        # At most a small job's rows (at least one request): what is left goes next.
        take = rows = 0
        for batch, _ in self._pending:
            if take and rows + len(batch) > SMALL_JOB_ROWS:
                break
            take += 1
            rows += len(batch)
        pending, self._pending = self._pending[:take], self._pending[take:]
        self._in_flight = True
        done = self.writer.submit_batches([rows for rows, _ in pending], self.lock_wait, here=True)
        if done.done():  # committed on this thread
            self._done(pending, done)
            return
        loop = self._loop
        assert loop is not None
        done.add_done_callback(
            lambda result: loop.call_soon_threadsafe(self._done, pending, result)
        )

    @staticmethod
    def _done_alone(done: Done, result: Future[list[list[WriteOutcome]]]) -> None:
        error = result.exception()
        _call(done, None if error is not None else result.result()[0], error)

    def _done(self, pending: _Pending, result: Future[list[list[WriteOutcome]]]) -> None:
        self._in_flight = False
        error = result.exception()
        if error is not None:
            for _, done in pending:
                _call(done, None, error)
        else:
            for (_, done), outcomes in zip(pending, result.result(), strict=True):
                _call(done, outcomes, None)
        if self._pending and not self._flush_soon:
            self._flush_soon = True
            self._loop.call_soon(self._flush)  # type: ignore[union-attr]


def _call(done: Done, outcomes: list[WriteOutcome] | None, error: BaseException | None) -> None:
    """``done``, whose failure must not keep the other requests of its commit unanswered."""
    try:
        done(outcomes, error)
    except Exception:
        log.exception("answering a committed request failed")
