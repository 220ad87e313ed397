"""Spend per budget period, cached and kept current from new event rows. Any thread (locked).

A month of rollups for the global budget is ~10^5 rows; summing it on every ``POST /v1/usage``
would cost tens of milliseconds. Instead each (scope, period) sum is computed once with
``Reader.summary`` and then brought up to date by adding the events stored since — the writer
gives events strictly increasing ids, so ``id > watermark`` is exactly the new rows, whatever
their timestamps (backdated imports included). The rare rows the writer rewrites in place (a
duplicate ``request_id`` with more tokens) are handled by ``invalidate`` from the commit
listener, and every entry is recomputed after ``MAX_AGE`` as a safety net.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from spendtray.budgets.model import GLOBAL
from spendtray.store.reader import Filters, Reader

MAX_AGE = 300.0  # seconds before an entry is recomputed from the rollups anyway
MAX_CATCH_UP = 50_000  # more new rows than this: recomputing is cheaper than adding
MAX_ENTRIES = 2_000

Key = tuple[str, int, int]  # scope, start ms, end ms


@dataclass
class _Entry:
    nanos: int
    made: float


class SpendCache:
    def __init__(self, reader: Reader, clock: Callable[[], float] = time.monotonic) -> None:
        self.reader = reader
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Key, _Entry] = {}
        self._watermark = 0  # highest event id already counted in every entry

    def invalidate(self, projects: frozenset[str] | None = None) -> None:
        """Forget sums of ``projects`` (and every global one); all of them for None."""
        with self._lock:
            if projects is None:
                self._entries.clear()
                return
            for key in [k for k in self._entries if k[0] == GLOBAL or k[0] in projects]:
                del self._entries[key]

    def spend(self, scope: str, since: dt.datetime, until: dt.datetime) -> int:
        key = (scope, int(since.timestamp() * 1000), int(until.timestamp() * 1000))
        with self._lock:
            self._catch_up()
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry.made < MAX_AGE:
                return entry.nanos
            nanos = self._compute(scope, since, until)
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = _Entry(nanos, self._clock())
            return nanos

    def _catch_up(self) -> None:
        conn = self.reader.conn()
        if not self._entries:
            row = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            self._watermark = int(row[0])
            return
        rows = conn.execute(
            "SELECT id, ts, project, coalesce(cost_nanos, 0) FROM events WHERE id > ? "
            "ORDER BY id LIMIT ?",
            (self._watermark, MAX_CATCH_UP + 1),
        ).fetchall()
        if not rows:
            return
        if len(rows) > MAX_CATCH_UP:
            self._entries.clear()
            self._catch_up()
            return
        self._add([(ts, project, cost) for _, ts, project, cost in rows])
        self._watermark = int(rows[-1][0])

    def _add(self, rows: list[tuple[int, str, int]]) -> None:
        """Count new (ts ms, project, cost) rows into every entry they fall in."""
        for (scope, lo, hi), entry in self._entries.items():
            for ts, project, cost in rows:
                if lo <= ts < hi and scope in (GLOBAL, project):
                    entry.nanos += cost

    def _compute(self, scope: str, since: dt.datetime, until: dt.datetime) -> int:
        """The rollup sum as of exactly ``self._watermark`` (one read snapshot)."""
        conn = self.reader.conn()
        conn.execute("BEGIN")
        try:
            row = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            newest = int(row[0])
            project = None if scope == GLOBAL else scope
            nanos = self.reader.spend_nanos(Filters(project=project, since=since, until=until))
            if newest > self._watermark:
                # Rows stored after the last catch-up are in this sum already: count them in
                # the other entries too, so every entry stands at the same watermark.
                extra = conn.execute(
                    "SELECT ts, project, coalesce(cost_nanos, 0) FROM events "
                    "WHERE id > ? AND id <= ?",
                    (self._watermark, newest),
                ).fetchall()
                self._add(extra)
                self._watermark = newest
        finally:
            conn.execute("COMMIT")
        return nanos
