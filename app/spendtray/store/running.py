"""Running spend sums kept current from new event rows: the one in-memory cache over ``events``.

Any thread (one lock): the server's event loop (the budget object of every ingest reply) and the
budget worker (evaluations, the runaway alarm). Two kinds of sums, one feed:

- ``window(scope, since, until)``: a budget period's spend (``scope`` a project or ``"*"``).
  A month of rollups for the global budget is ~10^5 rows; summing it on every ``POST /v1/usage``
  would cost tens of milliseconds. Each window is summed once from the rollups
  (``Reader.spend_nanos``, which ``store.fold`` keeps exact) and then brought up to date.
- ``recent(project, since, until)``: a project's spend over the last few minutes, per second
  of event time (the runaway alarm asks after every commit; re-summing the window each time
  costs a scan that grows with the ingest rate).

The feed: the writer gives events strictly increasing ids, so ``id > watermark`` is exactly the
rows stored since the last look, whatever their timestamps (backdated imports included); they
are read once, summed per (project, second) in SQL, and added to every sum they fall in.
This process's own commits hand their rows over directly (``feed``, from the commit listener)
when nothing else was stored between the watermark and that transaction (its first id follows
the watermark): the reply to a POST then needs no read at all (``windows(through=...)``).
Rows another process stored still come from the store: their ids lie between the watermark
and the next commit's, which then is not fed, and the next look reads them. The
rare rows the writer rewrites in place (a duplicate ``request_id`` with more tokens) are
handled by ``invalidate`` from the commit listener, and every window is recomputed after
``MAX_AGE`` as a safety net.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from spendtray.budgets.model import GLOBAL
from spendtray.store.reader import Filters, Reader
from spendtray.store.rows import COLUMN_INDEX
from spendtray.store.timed import between

MAX_AGE = 300.0  # seconds before a window is recomputed from the rollups anyway
MAX_CATCH_UP = 50_000  # more new rows than this: recomputing is cheaper than adding
MAX_ENTRIES = 2_000
SWEEP_EVERY = 30.0  # seconds between looks for windows past MAX_AGE
KEEP_SLACK = 120  # seconds of per-second history kept beyond the recent window

WindowKey = tuple[str, int, int]  # scope, start ms, end ms
_ID_AT, _PROJECT_AT = COLUMN_INDEX["id"], COLUMN_INDEX["project"]
_TS_AT, _COST_AT = COLUMN_INDEX["ts"], COLUMN_INDEX["cost_nanos"]


@dataclass
class _Window:
    nanos: int
    made: float


class RunningSpend:
    def __init__(
        self,
        reader: Reader,
        recent_window: dt.timedelta,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.keep = int(recent_window.total_seconds()) + KEEP_SLACK
        self._clock = clock
        self._lock = threading.Lock()
        self._watermark: int | None = None  # highest event id counted in every sum
        self._windows: dict[WindowKey, _Window] = {}
        self._bounds: dict[tuple[dt.datetime, dt.datetime], tuple[int, int]] = {}  # ``_ms``
        self._per_second: dict[str, dict[int, int]] = {}  # project -> epoch second -> nanos
        self._horizon: int | None = None  # epoch second: tallies hold every event from it on
        self._next_sweep = clock() + SWEEP_EVERY

    def invalidate(self, projects: frozenset[str] | None = None) -> None:
        """Forget the sums of ``projects`` (and every global window); all of them for None."""
        with self._lock:
            if projects is None:
                self._windows.clear()
                self._per_second.clear()
                return
            for key in [k for k in self._windows if k[0] == GLOBAL or k[0] in projects]:
                del self._windows[key]
            for project in projects:
                self._per_second.pop(project, None)

    # -- the two sums ---------------------------------------------------------------------

    def window(self, scope: str, since: dt.datetime, until: dt.datetime) -> int:
        """Cost of ``scope``'s events with ``since <= ts < until``."""
        return self.windows([(scope, since, until)])[0]

    def windows(
        self, asked: list[tuple[str, dt.datetime, dt.datetime]], through: int | None = None
    ) -> list[int]:
        """``window`` of each (scope, since, until), all as of one catch-up: an ingest reply
        asks for every budget that applies at once and pays for one look at new rows.

        ``through``: sums that count every event up to this id will do (the reply to a POST
        whose events have ids up to it): when the commits fed them that far, no look at the
        store at all. Without it, the sums are brought up to the store's latest commit."""
        out: list[int] = []
        with self._lock:
            caught_up = False
            for scope, since, until in asked:
                lo, hi = self._ms(since, until)
                if lo % 1000 or hi % 1000:
                    # The feed is summed per second: only whole-second windows can follow it.
                    out.append(self.reader.spend_nanos(_filters(scope, since, until)))
                    continue
                if not caught_up:
                    mark = self._watermark
                    if through is None or mark is None or mark < through:
                        # One statement, no transaction.
                        self._catch_up(self.reader.conn())
                    caught_up = True
                key = (scope, lo, hi)
                entry = self._windows.get(key)
                if entry is not None and self._clock() - entry.made < MAX_AGE:
                    out.append(entry.nanos)
                    continue
                with self.reader.snapshot() as conn:
                    self._catch_up(conn)
                    # The rollups as of this snapshot, which is exactly the watermark's.
                    nanos = self.reader.spend_nanos(_filters(scope, since, until))
                if len(self._windows) >= MAX_ENTRIES:
                    self._windows.clear()
                self._windows[key] = _Window(nanos, self._clock())
                out.append(nanos)
        return out

    def _ms(self, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
        """A window's bounds in epoch ms. The same period is asked about on every ingest
        reply (the evaluator keeps its bounds), and ``timestamp()`` of an aware datetime is
        a timedelta's arithmetic: two per window were a tenth of the budget object's cost."""
        bounds = self._bounds.get((since, until))
        if bounds is None:
            if len(self._bounds) >= MAX_ENTRIES:
                self._bounds.clear()
            bounds = (int(since.timestamp() * 1000), int(until.timestamp() * 1000))
            self._bounds[(since, until)] = bounds
        return bounds

    def recent(self, project: str, since: dt.datetime, until: dt.datetime) -> int:
        """Cost of ``project``'s events with ``since <= ts < until`` in whole seconds, for a
        ``since`` within the recent window of now (older seconds are not kept)."""
        lo, hi = int(since.timestamp()), int(until.timestamp())
        with self._lock:
            with self.reader.snapshot() as conn:
                self._catch_up(conn)
                horizon = lo - KEEP_SLACK
                if self._horizon is None or horizon < self._horizon:
                    # First use, or asked about seconds older than what is kept: start over.
                    self._per_second.clear()
                    self._horizon = horizon
                if project not in self._per_second:
                    self._per_second[project] = self._load_seconds(conn, project)
            tally = self._per_second[project]
            nanos = (
                sum(tally.get(s, 0) for s in range(lo, hi))
                if hi - lo < len(tally)
                else sum(n for s, n in tally.items() if lo <= s < hi)
            )
            self._prune(lo)
            return nanos

    # -- the feed ---------------------------------------------------------------------------

    def feed(self, top: int, inserted: Sequence[Sequence[object]]) -> None:
        """Rows this process just committed (``CommitInfo``: ``top`` the highest id when its
        transaction began, ``inserted`` its new rows as stored), added to every sum when the
        sums already count every row up to ``top``. Otherwise (another process stored rows in
        between, or an earlier commit was not fed) nothing is done: the next look at the
        store reads them all, these included."""
        if not inserted:
            return
        # Never waits: the caller is usually the event loop, and the budget worker holds the
        # lock while it reads. A feed left out only means the next look reads these rows.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._watermark != top:
                return
            newest = inserted[-1][_ID_AT]
            assert isinstance(newest, int)
            if self._windows or self._per_second:
                sums: dict[tuple[str, int], int] = {}
                for values in inserted:
                    cost = values[_COST_AT]
                    if cost:
                        ts = values[_TS_AT]
                        assert isinstance(cost, int) and isinstance(ts, int)
                        key = (str(values[_PROJECT_AT]), ts // 1000)
                        sums[key] = sums.get(key, 0) + cost
                self._add((project, second, cost) for (project, second), cost in sums.items())
            self._watermark = newest
        finally:
            self._lock.release()

    # -- the look at the store (under the lock, inside one read snapshot) ------------------

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        old = self._watermark
        if old is None or not (self._windows or self._per_second):
            self._watermark = self._newest(conn)
            return
        # Nothing new is one seek at the end of the id index, as cheap as asking max(id) first.
        # Summed per (project, second) in SQL: under a burst this is thousands of rows a tenth
        # of a second, and stepping each one into Python took the GIL from the event loop.
        # One statement is one read snapshot: its max(id) is exactly what it summed.
        bound = old + MAX_CATCH_UP
        rows = conn.execute(
            "SELECT project, ts / 1000, sum(coalesce(cost_nanos, 0)), max(id) FROM events "
            "WHERE id > ? AND id <= ? GROUP BY project, ts / 1000",
            (old, bound),
        ).fetchall()
        if not rows:
            return
        newest = max(int(row[3]) for row in rows)
        if newest >= bound:  # maybe more beyond: recomputing is cheaper than adding
            self._windows.clear()
            self._per_second.clear()
            self._watermark = self._newest(conn)
            return
        self._add((project, second, cost) for project, second, cost, _ in rows)
        self._watermark = newest

    def _add(self, sums: Iterable[tuple[str, int, int]]) -> None:
        """Add new rows' cost, summed per (project, epoch second), to every sum they fall in."""
        self._drop_expired()
        sums = list(sums)
        touched = {project for project, _, _ in sums}
        for (scope, lo, hi), entry in self._windows.items():
            if scope != GLOBAL and scope not in touched:
                continue  # most windows: a project none of these rows is of
            for project, second, cost in sums:
                if lo <= second * 1000 < hi and scope in (GLOBAL, project):
                    entry.nanos += cost
        horizon = self._horizon
        if horizon is not None and self._per_second:
            for project, second, cost in sums:
                tally = self._per_second.get(project)
                if tally is not None and second >= horizon:
                    tally[second] = tally.get(second, 0) + cost

    def _drop_expired(self) -> None:
        """Forget windows older than ``MAX_AGE``: asked again, they are summed afresh anyway,
        and kept they cost every catch-up a step. Without this they pile up (the forecast's
        look-back window moves every quarter hour, every day and month leaves its own)."""
        now = self._clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        for key in [k for k, e in self._windows.items() if now - e.made >= MAX_AGE]:
            del self._windows[key]

    @staticmethod
    def _newest(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])

    def _load_seconds(self, conn: sqlite3.Connection, project: str) -> dict[int, int]:
        assert self._horizon is not None and self._watermark is not None
        selected, params = between(
            "{ts} AS ts, e.cost_nanos",
            "project = ? AND {id} <= ?",
            [project, self._watermark],
            self._horizon * 1000,
        )
        rows = conn.execute(
            f"SELECT ts / 1000, sum(coalesce(cost_nanos, 0)) FROM ({selected}) GROUP BY ts / 1000",
            params,
        )
        return {int(second): int(cost) for second, cost in rows}

    def _prune(self, lo: int) -> None:
        """Drop seconds no longer needed once the horizon has moved a whole window on."""
        horizon = lo - KEEP_SLACK
        if self._horizon is None or horizon - self._horizon < self.keep:
            return
        for tally in self._per_second.values():
            for second in [s for s in tally if s < horizon]:
                del tally[second]
        self._horizon = horizon


def _filters(scope: str, since: dt.datetime, until: dt.datetime) -> Filters:
    return Filters(project=None if scope == GLOBAL else scope, since=since, until=until)
