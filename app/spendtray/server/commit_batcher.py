"""Group commit on the server's event loop: every POST that arrives within one loop iteration is
committed in one transaction, right there, before any of them is answered.

Runs on the event loop thread only. Large batches (which are validated in the thread pool)
still go through the same path; the commit itself is one short transaction.
"""

from __future__ import annotations

import asyncio

from spendtray.store.rows import EventRow
from spendtray.store.writer import WriteOutcome, Writer


class CommitBatcher:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._pending: list[tuple[list[EventRow], asyncio.Future[list[WriteOutcome]]]] = []
        self._scheduled = False

    def commit(self, rows: list[EventRow]) -> asyncio.Future[list[WriteOutcome]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[WriteOutcome]] = loop.create_future()
        self._pending.append((rows, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        self._scheduled = False
        try:
            outcomes = self.writer.write_direct([rows for rows, _ in pending])
        except Exception as exc:
            for _, future in pending:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(pending, outcomes, strict=True):
            if not future.done():
                future.set_result(result)
