"""A project's spend in the last few minutes, kept current from new event rows (runaway alarm).

Runs on the budget worker thread. The runaway check asks "what did this project spend in the
last 10 minutes" after every commit; summing raw events for that window costs a scan that
grows with the ingest rate (tens of thousands of rows under a burst, ten times a second).
Instead each project's spend is kept per second of event time: loaded once from the events
table, then brought up to date from the rows stored since (``id > watermark``, the same
incremental feed as ``spend.SpendCache``). Rows rewritten in place (a duplicate with more
tokens) are handled by ``invalidate`` from the commit listener.
"""

from __future__ import annotations

import datetime as dt

from spendtray.store.reader import Reader

_KEEP_SLACK = 120  # seconds of history kept beyond the window (clock steps, late events)


class RecentSpend:
    def __init__(self, reader: Reader, window: dt.timedelta) -> None:
        self.reader = reader
        self.keep = int(window.total_seconds()) + _KEEP_SLACK
        self._per_second: dict[str, dict[int, int]] = {}
        self._watermark: int | None = None
        self._horizon = 0  # epoch second: tallies hold every event at or after it

    def invalidate(self, projects: frozenset[str] | None = None) -> None:
        if projects is None:
            self._per_second.clear()
            return
        for project in projects:
            self._per_second.pop(project, None)

    def spend(self, project: str, since: dt.datetime, until: dt.datetime) -> int:
        """Cost of ``project``'s events with ``since <= ts < until`` (whole seconds), for a
        ``since`` within the window of ``now`` (older seconds are not kept)."""
        lo, hi = int(since.timestamp()), int(until.timestamp())
        self._refresh(project, lo)
        tally = self._per_second[project]
        if hi - lo < len(tally):
            return sum(tally.get(s, 0) for s in range(lo, hi))
        return sum(n for s, n in tally.items() if lo <= s < hi)

    def _refresh(self, project: str, lo: int) -> None:
        conn = self.reader.conn()
        conn.execute("BEGIN")
        try:
            newest = int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
            horizon = lo - _KEEP_SLACK
            if self._watermark is None or horizon < self._horizon:
                # First use, or asked about seconds older than what is kept: start over.
                self._per_second.clear()
                self._horizon = horizon
            elif self._watermark < newest:
                # Summed per (project, second) in SQL: under a burst this is thousands of
                # rows a tenth of a second, and stepping each one into Python took the GIL
                # from the event loop once per row. (``+ts``: the id range, not the ts index.)
                rows = conn.execute(
                    "SELECT project, ts / 1000, sum(coalesce(cost_nanos, 0)) FROM events "
                    "WHERE id > ? AND id <= ? AND +ts >= ? GROUP BY project, ts / 1000",
                    (self._watermark, newest, self._horizon * 1000),
                )
                for name, second, cost in rows:
                    tally = self._per_second.get(name)
                    if tally is not None:
                        tally[second] = tally.get(second, 0) + cost
            self._watermark = newest
            if project not in self._per_second:
                tally = {}
                rows = conn.execute(
                    "SELECT ts / 1000, sum(coalesce(cost_nanos, 0)) FROM events "
                    "WHERE project = ? AND ts >= ? AND id <= ? GROUP BY ts / 1000",
                    (project, self._horizon * 1000, newest),
                )
                for second, cost in rows:
                    tally[int(second)] = int(cost)
                self._per_second[project] = tally
        finally:
            conn.execute("COMMIT")
        self._prune(lo)

    def _prune(self, lo: int) -> None:
        """Drop seconds no longer needed once the horizon has moved a whole window on."""
        horizon = lo - _KEEP_SLACK
        if horizon - self._horizon < self.keep:
            return
        for tally in self._per_second.values():
            for second in [s for s in tally if s < horizon]:
                del tally[second]
        self._horizon = horizon
