"""The single writer: a thread that owns the write connection and commits in batches.

Runs on its own thread ("spendtray-writer"), the only thread that writes: callers (the
server's event loop, CLI, importers) ``submit`` rows and get a ``Future`` that resolves only
after the transaction holding those rows has COMMITTED — that is what lets the server
acknowledge an event only once it is durable, without its event loop ever waiting on SQLite.
Whatever is queued while a commit runs goes into the next one (group commit), so throughput
grows with load instead of paying one commit per request.

Another process may hold SQLite's write lock (a second tool, a CLI import without the app).
Each job says how long it may wait for the lock (``lock_wait``); a transaction waits at most
until the earliest of its jobs' deadlines, then the jobs past theirs fail with ``StoreBusy``
(nothing of them stored; the server answers 503 with Retry-After) and the others try again
with whatever was queued meanwhile. So one held lock never freezes the writer for everyone.

Idempotency lives here because only the writer sees every row: a ``request_id`` already stored
is not stored twice; the copy with more tokens is kept (rollups adjusted by the difference).
A ``call_key`` (the same call reaching us by two ways that share no id, ``ingest.call_keys``)
is a second identity, checked the same way when the request id is new, between copies from
different sources only.
So does ``prices_used``: each distinct price an event was costed with is stored once, and the
event row keeps its id.

An ingest transaction inserts event rows only; the writer thread folds them into the rollup
tables a quarter second later in bulk (``store.fold``), and readers add what is not folded yet.
While large jobs keep coming (a burst of batches, an import), or single events arrive at
``SINGLE_BURST_RATE`` or more (for at most ``FOLD_DEFER_SECONDS``), the fold waits for a
quarter second without them, or for ``FOLD_BACKLOG`` events: the burst is acknowledged at
insert speed and folded right after, in whole chunks when no single event is waiting for the
connection. The WAL checkpoint follows a fold (and comes every ``FOLD_SECONDS`` during a
burst of single events), on a thread and a connection of its own.

A writer started with ``folds=False`` neither folds nor checkpoints: ``spendtray import``
sending to the running app starts one only to keep its import offsets, and the app's writer
folds and checkpoints that file (two folding the same rollups only took turns at the lock).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from spendtray.ingest.bounds import SUM_LIMIT, TotalsFull
from spendtray.store.db import Database, open_for_checkpoints, open_for_writing
from spendtray.store.fold import fold, folded_through, put_back, take_out
from spendtray.store.rows import COLUMN_INDEX, EVENT_COLUMNS, PRICE_FIELDS, EventRow, PriceFields

log = logging.getLogger(__name__)

# A job of at most this many rows is "small" (single POSTs, a few events from the proxy or
# a receiver): the writer thread commits every small job waiting before the next large one.
SMALL_JOB_ROWS = 100
# Rows one transaction takes from several jobs (a single job is never split: all or nothing).
TXN_ROWS = 2_000
# Most items taken off the queue in one turn.
DRAIN_ITEMS = 10_000
# Rollups are folded (store.fold) this often, or sooner once this many events wait.
FOLD_SECONDS = 0.25
FOLD_EVENTS = 2_000
# While large jobs keep coming (a burst of batches, an import), folds wait until none has
# committed for FOLD_QUIET seconds, or until FOLD_BACKLOG events wait: the rollups are a read
# cache (readers add unfolded events exactly), and folding events spread over months costs
# more than inserting them, so a burst is acknowledged at insert speed and folded right after.
# The bound keeps a summary during a long burst within tens of milliseconds (bench/ingest.py
# prints what one costs with the backlog a run left).
FOLD_QUIET = 0.25
FOLD_BACKLOG = 50_000
# Single events arriving this fast (events per second, counted over FOLD_QUIET) are a burst
# too: an agent fleet, a replay. Their fold (and so the WAL checkpoint after it) waits like a
# batch burst's, but no longer than FOLD_DEFER_SECONDS after the first unfolded event: a
# steady stream is folded in paced chunks from then on, as any single events are. One agent's
# calls (a few a second) are no burst and are folded every FOLD_SECONDS as before.
SINGLE_BURST_RATE = 1_000
FOLD_DEFER_SECONDS = 10.0
# Meanwhile the WAL is still checkpointed as often as folds come otherwise: it grew by ~7.5 KB
# per event (the index pages each commit rewrites), to ~400 MB before the backlog bound.
BURST_CHECKPOINT_SECONDS = FOLD_SECONDS
# Ids folded per transaction: after an import of thousands of events with timestamps spread
# over months, folding them all at once held the write lock for seconds while single POSTs
# waited behind it; in chunks, queued commits go between them. The chunk is fitted to the
# time folds of at least FOLD_CHUNK_MIN ids took, so that one lasts about FOLD_TXN_SECONDS
# (2,000 ids spread over months took 70-200 ms here: a single POST arriving meanwhile waited
# that long), between FOLD_CHUNK_MIN and FOLD_CHUNK ids.
FOLD_CHUNK = 2_000
# Stopping, no event of this writer's can wait any more: what is left is folded in larger
# transactions (38k events of a first import: 110 vs 141 ms of CPU and 1.6 vs 11.7 MB of WAL
# to checkpoint, each rollup page written once rather than in each of 19 chunks), each at most
# ~0.15 s of the write lock for another process that wants it.
FOLD_STOP_CHUNK = 50_000
FOLD_CHUNK_MIN = 50
# The chunk before any fold was timed (a fold of a handful of ids says little about the rate).
FOLD_CHUNK_START = 200
FOLD_TXN_SECONDS = 0.005
# Once a burst of single events has filled the backlog (FOLD_BACKLOG), the fold is losing
# ground to that burst: its chunks are fitted to this instead. A longer fold writes each
# rollup page it touches once for more events (at a million events spread over months, 2.7
# WAL pages and 37 us of CPU per event in folds of 2,000 ids, 4.3 and 55 us in folds of 200),
# which leaves more of the connection to the burst's own commits; an event arriving during
# one waits for it. bench/ingest.py, single POSTs spread over 90 days, against 5 ms: 15 ms
# 1.05x the rate (p99 18 vs 12 ms), 25 ms 1.09-1.12x (p99 32-45 vs 11-19 ms), 50 ms 1.14x.
# Events that are no burst (an agent's calls during an import's batches) keep short folds.
FOLD_BEHIND_TXN_SECONDS = 0.025
# How long a writer starting up folds what it finds unfolded (see ``Writer._run``).
FOLD_START_SECONDS = 0.5
_INSERT_HEAD = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
_INSERT = _INSERT_HEAD + f"({', '.join('?' * len(EVENT_COLUMNS))})"
# A writer started with ``remember_keys`` on a store without events remembers the hashes of
# the request ids and call keys it stores, at most this many (~15 MB, 100k calls): while no
# other connection has written, only those can be stored, so a key whose hash it never stored
# needs no look-up (a first import of 313 MB: the writer's transactions took 0.85x the
# instructions, 3.22 G -> 2.73 G under callgrind).
REMEMBER_KEYS = 200_000
# How long a job may wait for SQLite's write lock by default (CLI, importers, budget calls);
# the server passes its own, shorter wait (``submit(..., lock_wait=...)``).
LOCK_WAIT = 30.0
# The longest one attempt waits for the lock before the writer looks at its queue again.
LOCK_SLICE = 0.25
# A fold does not wait long for a lock another process holds: it is retried a moment later.
FOLD_LOCK_WAIT = 0.1
# Rows per multi-row INSERT (see ``_insert``), and per INSERT of the rows left over; 200 rows
# of parameters stay far below SQLite's limit of 32,766.
INSERT_ROWS = 200
INSERT_ROWS_LEFT = 50
# A transaction of FEW_ROWS_MIN to FEW_ROWS rows (the server's group commit of single events)
# inserts them in one statement (``_insert``): one per size and pattern of NULL columns, few
# enough for the statement caches. Measured per commit against ``executemany``: 16 rows -12 us,
# 7 rows -8 us, 5 rows -4 us, 4 rows even, 1 row +5 us (finding the NULL columns then costs
# more than not binding them saves).
FEW_ROWS_MIN = 5
FEW_ROWS = 16
_UPDATE = f"UPDATE events SET {', '.join(f'{c} = ?' for c in EVENT_COLUMNS[1:])} WHERE id = ?"


class WriteOutcome(NamedTuple):
    """What happened to one submitted row. A named tuple: one is made per stored event, and
    a frozen dataclass took three times as long to build."""

    id: int
    duplicate: bool  # the request_id was already stored (the bigger copy is what is kept)


# A named tuple built from a tuple of its values without a Python-level call (its
# constructor is a Python function): one outcome is made per stored event.
_new_tuple = tuple.__new__


class StoreBusy(RuntimeError):
    """Another process held SQLite's write lock longer than the job could wait; nothing of the
    job was stored."""


@dataclass(frozen=True)
class CommitInfo:
    """Passed to commit listeners, on the writer thread, after each commit."""

    stored: int
    duplicates: int
    projects: frozenset[str]
    newest_ts: int
    # The highest event id when the transaction began (every row at or below it was already
    # stored), and the rows it inserted as stored (EVENT_COLUMNS order, ids ascending from
    # above ``top``): the running sums add them without reading them back (store.running).
    top: int = 0
    inserted: Sequence[list[object]] = ()


@dataclass
class _Job:
    """Batches committed together, all or nothing; the future gets their outcomes, batch by
    batch, or ``StoreBusy`` once ``deadline`` (monotonic seconds) passed with the lock held."""

    batches: list[list[EventRow]]
    deadline: float
    future: Future[list[list[WriteOutcome]]] = field(default_factory=Future)

    @property
    def n_rows(self) -> int:
        return sum(map(len, self.batches))


@dataclass
class _Call:
    """A function run on the writer thread in a transaction of its own (``Writer.call``)."""

    fn: Callable[[Database], object]
    deadline: float
    future: Future[object] = field(default_factory=Future)


_STOP = object()


_PROJECT_AT, _TS_AT = COLUMN_INDEX["project"], COLUMN_INDEX["ts"]
_PRICE_AT = COLUMN_INDEX["price_id"]
_COST_AT = COLUMN_INDEX["cost_nanos"]
_INPUT_AT, _OUTPUT_AT = COLUMN_INDEX["input_tokens"], COLUMN_INDEX["output_tokens"]
_SOURCE_AT = COLUMN_INDEX["source"]
_REQUEST_AT, _CALL_KEY_AT = COLUMN_INDEX["request_id"], COLUMN_INDEX["call_key"]


def _tokens(values: list[object]) -> int:
    """Input + output tokens of a row's values as they will be stored."""
    inp, out = values[_INPUT_AT], values[_OUTPUT_AT]
    return (inp if isinstance(inp, int) else 0) + (out if isinstance(out, int) else 0)


PriceIds = dict[PriceFields | None, int | None]


class _PricesUsed:
    """The ids of ``prices_used`` rows by their fields, for the writer connection.

    Ids stored in a transaction are kept aside until it commits: after a rollback they do not
    exist. Rows of ``prices_used`` are never deleted, so a committed id stays right even when
    another process writes too.
    """

    def __init__(self) -> None:
        self._known: dict[PriceFields, int] = {}
        self._new: dict[PriceFields, int] = {}

    def ids(self, conn: sqlite3.Connection, batches: list[list[EventRow]]) -> PriceIds:
        """The id of every price these rows were costed with, storing the new ones."""
        fields: set[PriceFields | None] = set()
        price = itemgetter(_PRICE_AT)
        for rows in batches:
            fields.update(map(price, rows))
        ids: PriceIds = {None: None}
        for f in fields:
            if f is None:
                continue
            found = self._known.get(f) or self._new.get(f)
            if found is None:
                found = self._new[f] = _price_id(conn, f)
            ids[f] = found
        return ids

    def committed(self) -> None:
        self._known.update(self._new)
        self._new.clear()

    def rolled_back(self) -> None:
        self._new.clear()


def _price_id(conn: sqlite3.Connection, fields: PriceFields) -> int:
    found = conn.execute(
        "SELECT id FROM prices_used WHERE price_model = ? AND price_provider = ? "
        "AND unit_prices = ? AND price_source = ? AND price_date IS ?",
        fields,
    ).fetchone()
    if found is not None:
        return int(found[0])
    cursor = conn.execute(
        f"INSERT INTO prices_used ({', '.join(PRICE_FIELDS)}) VALUES (?, ?, ?, ?, ?)", fields
    )
    return int(cursor.lastrowid or 0)


def _stored_copies(
    conn: sqlite3.Connection, column: str, wanted: set[str | None]
) -> dict[str, tuple[int, int]]:
    """Key -> (id, input + output tokens) of the stored events whose ``column`` is in ``wanted``."""
    return {key: (i, t) for key, (i, t, _) in _stored_with_source(conn, column, wanted).items()}


def _stored_with_source(
    conn: sqlite3.Connection, column: str, wanted: set[str | None]
) -> dict[str, tuple[int, int, str]]:
    found: dict[str, tuple[int, int, str]] = {}
    values = [v for v in wanted if v is not None]
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        cursor = conn.execute(
            f"SELECT {column}, id, input_tokens + output_tokens, source FROM events "
            f"WHERE {column} IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        for key, event_id, total, source in cursor:
            found.setdefault(key, (int(event_id), int(total), str(source)))
    return found


class _Plan:
    """What one transaction does with its rows: which are inserted under which new id, which
    are duplicates of a stored or earlier row (and which of those replace a smaller copy)."""

    def __init__(self, next_id: int, price_ids: PriceIds) -> None:
        self.next_id = next_id
        self.price_ids = price_ids
        self.inserts: list[list[object]] = []
        self.replaced: list[tuple[int, list[object]]] = []  # stored id, the values it gets
        self.outcomes: list[list[WriteOutcome]] = []
        self.stored = self.dups = self.newest = 0
        self.projects: set[str] = set()

    def sort_out(
        self,
        conn: sqlite3.Connection,
        batches: list[list[EventRow]],
        wanted: set[str | None],
        keys: set[str | None],
    ) -> None:
        """Rows some of which carry request ids or call keys: a request id (or else a call key)
        already stored, or seen earlier in these batches, is a duplicate; the copy with more
        tokens is the one kept. ``wanted`` empty: none of the request ids is looked up (taken
        for new; ``_apply`` sorts them out again if one was stored)."""
        existing = _stored_copies(conn, "request_id", wanted)  # -> stored id, its tokens
        # A call key only matches a copy from another source (telemetry vs. log file): within
        # one source the request id is the identity, and equal counts are two calls.
        by_key = _stored_with_source(conn, "call_key", keys)
        pending_new: dict[str, list[object]] = {}  # request_id -> values inserted this batch
        pending_keys: dict[str, list[object]] = {}  # call_key -> values inserted this batch
        # The loop does only what a new row needs (most rows of a batch): duplicates are
        # handled apart, and the commit's summary (projects, newest time) is taken from the
        # inserted rows at the end, as they will be stored.
        price_ids = self.price_ids
        inserts = self.inserts
        add = inserts.append
        next_id = self.next_id
        for rows in batches:
            job_out: list[WriteOutcome] = []
            for row in rows:
                rid = row.request_id
                ckey = row.call_key
                if rid is not None and (rid in pending_new or rid in existing):
                    job_out.append(self._same_request(row, rid, pending_new, existing))
                    continue
                if ckey is not None:
                    outcome = self._same_call(row, ckey, pending_keys, by_key)
                    if outcome is not None:
                        job_out.append(outcome)
                        continue
                values: list[object] = list(row)
                values[0] = next_id
                values[_PRICE_AT] = price_ids[values[_PRICE_AT]]  # type: ignore[index]
                add(values)
                if rid is not None:
                    pending_new[rid] = values
                if ckey is not None:
                    pending_keys[ckey] = values
                job_out.append(_new_tuple(WriteOutcome, (next_id, False)))
                next_id += 1
            self.outcomes.append(job_out)
        self.next_id = next_id
        self.stored = len(inserts)
        if inserts:
            self.projects.update(map(str, map(itemgetter(_PROJECT_AT), inserts)))
            self.newest = max(self.newest, max(map(itemgetter(_TS_AT), inserts)))  # type: ignore[call-overload]

    def _same_request(
        self,
        row: EventRow,
        rid: str,
        pending_new: dict[str, list[object]],
        existing: dict[str, tuple[int, int]],
    ) -> WriteOutcome:
        """A row whose request id was inserted earlier in these batches or is stored."""
        self.dups += 1
        if rid in pending_new:
            values = pending_new[rid]
            if row.total_tokens > _tokens(values):
                # Not folded yet: the rollups will see the final row.
                values[1:] = self._stored(row)[1:]
            return WriteOutcome(int(values[0]), True)  # type: ignore[call-overload]
        event_id, total = existing[rid]
        if row.total_tokens > total:
            self.replaced.append((event_id, self._stored(row)))
            existing[rid] = (event_id, row.total_tokens)
        return WriteOutcome(event_id, True)

    def _same_call(
        self,
        row: EventRow,
        ckey: str,
        pending_keys: dict[str, list[object]],
        by_key: dict[str, tuple[int, int, str]],
    ) -> WriteOutcome | None:
        """A row with a new request id whose call key was inserted earlier in these batches
        or is stored, from another source; None when it is not such a copy."""
        source = row.source
        if ckey in pending_keys and pending_keys[ckey][_SOURCE_AT] != source:
            values = pending_keys[ckey]
            if row.total_tokens > _tokens(values):
                values[1:] = self._stored(row)[1:]
            self.dups += 1
            return WriteOutcome(int(values[0]), True)  # type: ignore[call-overload]
        if ckey in by_key and by_key[ckey][2] != source:
            event_id, total, stored_source = by_key[ckey]
            if row.total_tokens > total:
                self.replaced.append((event_id, self._stored(row)))
                by_key[ckey] = (event_id, row.total_tokens, stored_source)
            self.dups += 1
            return WriteOutcome(event_id, True)
        return None

    def _stored(self, row: EventRow) -> list[object]:
        """A copy of the row's values as stored: its price as the id in prices_used."""
        values: list[object] = list(row)
        values[_PRICE_AT] = self.price_ids[values[_PRICE_AT]]  # type: ignore[index]
        return values


class Writer:
    """Owns the write connection. ``start`` it, ``submit`` rows, ``stop`` to drain and close."""

    def __init__(
        self, db_path: Path, durability: str = "normal", machine: str | None = None
    ) -> None:
        self._db_path = db_path
        self._durability = durability
        self._machine = machine
        self._queue: queue.Queue[_Job | object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[CommitInfo], None]] = []
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._next_id = 1
        self._conn: sqlite3.Connection | None = None
        self._unfolded = 0  # events this writer committed that the rollups do not include yet
        self._unfolded_since = 0.0
        self._fold_chunk = FOLD_CHUNK_START  # ids per fold transaction, fitted to FOLD_TXN_SECONDS
        self._fold_resume = 0.0  # monotonic time before which no fold starts (writer thread)
        self._large_at = 0.0  # monotonic time the last transaction of a large job committed
        self._small_at = 0.0  # the same for small jobs (single events)
        # Single events: rows committed since ``_small_window`` began, and the last time they
        # came at SINGLE_BURST_RATE or more (``_count_small``), and when that burst began.
        self._small_rows = 0
        self._small_window = 0.0
        self._burst_at = 0.0
        self._burst_from = 0.0
        self._bursting = False
        self._checkpointed = 0.0  # monotonic time of the last WAL checkpoint
        # Set by a fold; the checkpoint thread ("spendtray-checkpoint") then copies the WAL.
        self._checkpoint_due = threading.Event()
        self._checkpoints_stop = False
        self._folds = True  # False: this writer never folds nor checkpoints (``start``)
        self._checkpoint_bursts = False  # checkpoints during a burst of large jobs (``start``)
        self._prices = _PricesUsed()
        # ``start(remember_keys=True)`` on a store without events: the hashes of every request
        # id and call key this writer stored (``REMEMBER_KEYS``), and the connection's
        # ``PRAGMA data_version`` then, which changes once another connection commits; None:
        # every key is looked up.
        self._remember_keys = False
        self._own_keys: set[int] | None = None
        self._data_version = 0
        # The write connection and the busy_timeout (ms) last set on it (``_begin``): set again
        # only when a transaction waits otherwise. The loop's own commits always wait 0 ms, and
        # the PRAGMA was a twentieth of such a commit's CPU.
        self._busy_set: tuple[sqlite3.Connection, int] | None = None
        # Held by whichever thread is using the write connection: the writer thread for each
        # job, call and fold, or a caller committing a small job itself (``submit_batches``
        # with ``here=True``) while the writer thread has nothing to do.
        self._busy = threading.Lock()
        # With an fsync per commit (durability "full") a caller committing itself would wait
        # on the disk; its jobs always go to the writer thread then.
        self._here_allowed = durability != "full"
        # The database's total cost and input + output tokens (ingest.bounds): read when this
        # writer starts and whenever another process has written, then kept up to date.
        # Why the last write failed (disk full, a read-only or corrupt file), until one
        # succeeds: what /healthz reports.
        self.problem: str | None = None
        self._totals: tuple[int, int] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(
        self, *, folds: bool = True, checkpoint_bursts: bool = False, remember_keys: bool = False
    ) -> None:
        """Open the database (migrating it) and start the writer thread. ``folds=False``:
        this writer never folds events into the rollups nor checkpoints the WAL — for a
        process beside the running app (whose writer does both); readers add the events it
        leaves unfolded. ``checkpoint_bursts``: while large jobs keep coming (and their fold
        waits), the WAL is checkpointed every ``BURST_CHECKPOINT_SECONDS`` as during a burst
        of single events — for ``spendtray import``, whose WAL otherwise held every page of
        the import until it ended, and whose last checkpoint (with its fsyncs) then waited
        for all of them. ``remember_keys``: on a store without events, the request ids and
        call keys this writer stores are remembered (``REMEMBER_KEYS``), and a key it never
        stored is not looked up while the store holds only its rows — for ``spendtray
        import``, whose first pass looked up every call in an empty store."""
        self._folds = folds
        self._checkpoint_bursts = checkpoint_bursts
        self._remember_keys = remember_keys
        self._thread = threading.Thread(target=self._run, name="spendtray-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            raise self._start_error

    def stop(self, timeout: float = 30.0) -> None:
        """Commit everything queued so far, then close."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add_listener(self, listener: Callable[[CommitInfo], None]) -> None:
        """Called after each commit, on the thread that committed (the writer thread or the
        server's event loop); must be quick, thread-safe and never raise."""
        self._listeners.append(listener)

    # -- submitting ----------------------------------------------------------------------

    def submit(
        self, rows: list[EventRow], lock_wait: float = LOCK_WAIT
    ) -> Future[list[WriteOutcome]]:
        single: Future[list[WriteOutcome]] = Future()

        def one(done: Future[list[list[WriteOutcome]]]) -> None:
            error = done.exception()
            if error is not None:
                single.set_exception(error)
            else:
                single.set_result(done.result()[0])

        self.submit_batches([rows], lock_wait).add_done_callback(one)
        return single

    def submit_batches(
        self, batches: list[list[EventRow]], lock_wait: float = LOCK_WAIT, here: bool = False
    ) -> Future[list[list[WriteOutcome]]]:
        """Commit ``batches`` in one transaction on the writer thread; the future resolves
        after COMMIT with each batch's outcomes (the server's group commit: every request
        that arrived while the previous commit ran).

        ``here``: commit a small job on the calling thread instead when that costs no
        waiting — the writer thread is not using the connection and no other process holds
        the write lock — so the future is already resolved on return. Otherwise (or after a
        ``StoreBusy`` at once) the job goes to the writer thread as usual. The server's event
        loop asks for this: handing a few events to another thread and back took longer than
        committing them (two thread wake-ups on a busy machine, against ~100 us of SQLite)."""
        job = _Job(batches, time.monotonic() + lock_wait)
        if not self.running:
            job.future.set_exception(RuntimeError("the store writer is not running"))
            return job.future
        if here and self._here_allowed and job.n_rows <= SMALL_JOB_ROWS and self._commit_here(job):
            return job.future
        self._queue.put(job)
        return job.future

    def _commit_here(self, job: _Job) -> bool:
        """Commit ``job`` on the calling thread if the connection is free and the write lock
        is not held elsewhere; False (nothing done) when either would mean waiting."""
        if not self._busy.acquire(blocking=False):
            return False
        try:
            if self._conn is None:
                return False
            return not self._commit_jobs([job], lock_wait=0.0)
        finally:
            self._busy.release()

    def write(self, rows: list[EventRow], timeout: float | None = 60.0) -> list[WriteOutcome]:
        """Submit and wait for the commit (for threads that may block: CLI, importers)."""
        return self.submit(rows).result(timeout)

    def call(self, fn: Callable[[Database], object], timeout: float | None = 60.0) -> object:
        """Run ``fn(db)`` on the writer thread inside its own transaction (budget state etc.)."""
        return self.submit_call(fn).result(timeout)

    def submit_call(self, fn: Callable[[Database], object]) -> Future[object]:
        """``call`` without waiting: the future resolves once ``fn`` has run (or failed)."""
        call = _Call(fn, time.monotonic() + LOCK_WAIT)
        self._queue.put(call)
        return call.future

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            db = open_for_writing(self._db_path, self._durability, self._machine)
            # The highest id and the commits count from one snapshot: a row another process
            # stores after it changes the count, which the next transaction sees.
            db.conn.execute("BEGIN")
            try:
                row = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
                version = _data_version(db.conn)
            finally:
                db.conn.execute("COMMIT")
            self._next_id = int(row[0]) + 1
            if self._remember_keys and self._next_id == 1:
                self._own_keys = set()
                self._data_version = version
            checkpoints = open_for_checkpoints(self._db_path)
            checkpointer = threading.Thread(
                target=self._run_checkpoints,
                args=(checkpoints,),
                name="spendtray-checkpoint",
                daemon=True,
            )
        except BaseException as exc:  # reported to start()'s caller
            self._start_error = exc
            self._ready.set()
            return
        conn = db.conn
        # Events a killed process committed but never folded: for a moment only, in short
        # transactions with as long a pause after each, since they may as well be the running
        # app's (this writer being a CLI's): folding them whole held SQLite's write lock for
        # seconds and the app answered 503. What is left is folded with this writer's own
        # events; readers add it meanwhile.
        with self._busy:
            self._conn = conn
            if self._folds:
                self._fold_backlog(FOLD_START_SECONDS, pause=True)
            self._unfolded = 0
        if self._folds:
            checkpointer.start()
        else:
            checkpoints.close()
        self._ready.set()
        stopping = False
        retry: list[_Job | _Call] = []  # met a lock held elsewhere; may wait some more
        # Large jobs (an import's batches) and calls, in the order they came: one step of it
        # per turn, after the small jobs that are waiting then, so a single event never
        # waits behind more than one large transaction (or one fold).
        backlog: deque[_Job | _Call] = deque()
        fold_next = False
        while not stopping or retry or backlog:
            items: list[object] = list(retry)
            if not stopping:
                try:
                    items.append(self._queue.get(timeout=self._idle_wait(retry or backlog)))
                except queue.Empty:
                    if not retry and not backlog:
                        if self._fold_due():
                            with self._busy:
                                self._fold()
                        continue
                items.extend(_drain(self._queue))
            stopping = stopping or _STOP in items
            retry = []
            small: list[_Job] = []
            for item in items:
                if isinstance(item, _Job) and item.n_rows <= SMALL_JOB_ROWS:
                    small.append(item)
                elif isinstance(item, _Job | _Call):
                    backlog.append(item)
            with self._busy:
                for group in _groups(small):
                    retry.extend(self._commit_jobs(group))
                # Then one long thing at most — a step of the backlog or a fold, taking turns
                # when both wait — before the queue is looked at again for small jobs.
                if self._fold_due() and (fold_next or not backlog):
                    self._fold()
                    fold_next = False
                elif backlog:
                    retry.extend(self._backlog_step(db, backlog))
                    fold_next = True
        with self._busy:
            wrote = self._unfolded > 0
            if wrote:  # what this writer stored, and any backlog before it
                self._fold_backlog(None, chunk=FOLD_STOP_CHUNK)
            self._conn = None
        self._checkpoints_stop = True
        self._checkpoint_due.set()
        if checkpointer.is_alive():
            checkpointer.join()
        try:
            if wrote:  # a TRUNCATE checkpoint stops other writers while it runs
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def _idle_wait(self, more: object) -> float:
        """How long the writer thread may wait for a job: not at all with work in hand, else
        until the next fold is due (commits made on other threads do not wake it)."""
        if more:
            return 0.0
        if not self._unfolded:
            return FOLD_SECONDS
        due = self._fold_resume
        if self._unfolded < FOLD_EVENTS:
            due = max(due, self._unfolded_since + FOLD_SECONDS)
        if self._unfolded < FOLD_BACKLOG:
            due = max(due, self._large_at + FOLD_QUIET, self._single_burst_end())
        return max(0.0, due - time.monotonic())

    def _single_burst_end(self) -> float:
        """When a fold waiting for a burst of single events may start (0: none waits)."""
        return min(self._burst_at + FOLD_QUIET, self._burst_from + FOLD_DEFER_SECONDS)

    def _backlog_step(self, db: Database, backlog: deque[_Job | _Call]) -> list[_Job | _Call]:
        """Run the backlog's first call, or commit its first large jobs (together while they
        stay within ``TXN_ROWS``); returns what is to be tried again."""
        head = backlog.popleft()
        if isinstance(head, _Call):
            return [] if self._run_call(db, head) else [head]
        group, rows = [head], head.n_rows
        while backlog:
            job = backlog[0]
            if not isinstance(job, _Job) or rows + job.n_rows > TXN_ROWS:
                break
            backlog.popleft()
            group.append(job)
            rows += job.n_rows
        return list(self._commit_jobs(group))

    def _run_call(self, db: Database, call: _Call) -> bool:
        """Run one ``call`` in its own transaction; False when it should be tried again (the
        write lock is held elsewhere and its deadline has not passed)."""
        conn = db.conn
        try:
            self._begin(conn, _attempt_wait(call.deadline))
            try:
                value = call.fn(db)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except StoreBusy as exc:
            if call.deadline > time.monotonic():
                return False
            call.future.set_exception(exc)
        except BaseException as exc:
            call.future.set_exception(exc)
        else:
            call.future.set_result(value)
        return True

    def _fold_due(self) -> bool:
        if not self._folds:
            return False
        unfolded = self._unfolded
        now = time.monotonic()
        if not unfolded or now < self._fold_resume:
            return False
        if unfolded < FOLD_BACKLOG and (
            now - self._large_at < FOLD_QUIET or now < self._single_burst_end()
        ):
            return False  # a burst of large jobs or single events: they go first, the fold after
        return unfolded >= FOLD_EVENTS or now - self._unfolded_since >= FOLD_SECONDS

    def _fold_backlog(
        self, seconds: float | None, pause: bool = False, chunk: int | None = None
    ) -> None:
        """Fold chunk after chunk, each in its own transaction, until none is left or
        ``seconds`` have passed; with ``pause``, as long again after each one, so another
        process's writer waiting for the lock (SQLite's busy handler polls) gets it.
        ``chunk``: ids per transaction instead of ``_fold``'s choice."""
        end = None if seconds is None else time.monotonic() + seconds
        while True:
            started = time.monotonic()
            if not self._fold(chunk) or (end is not None and time.monotonic() >= end):
                return
            if pause:
                time.sleep(time.monotonic() - started)

    def _fold(self, chunk: int | None = None) -> bool:
        """Fold the next ``_fold_chunk`` ids (or ``chunk``) into the rollups in one
        transaction (writer thread); True when there are more to fold."""
        conn = self._conn
        if conn is None:
            return False
        started = time.monotonic()
        # With no single event for a while, FOLD_CHUNK ids at once (per event a third cheaper
        # than the short folds, bench/fold.py): the first single event to come may wait for one.
        quiet = started - self._small_at >= FOLD_QUIET
        if chunk:
            limit = chunk
        elif quiet:
            limit = FOLD_CHUNK
        elif self._unfolded >= FOLD_BACKLOG and started - self._burst_at < FOLD_QUIET:
            behind = self._fold_chunk * FOLD_BEHIND_TXN_SECONDS / FOLD_TXN_SECONDS
            limit = min(int(behind), FOLD_CHUNK)
        else:
            limit = min(self._fold_chunk, FOLD_CHUNK)
        try:
            self._begin(conn, FOLD_LOCK_WAIT)
            covered = fold(conn, limit)
            conn.execute("COMMIT")
        except StoreBusy:
            return False  # another process writes; readers add unfolded events meanwhile
        except Exception:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # Nothing is lost: readers add unfolded events themselves; the next fold retries.
            log.exception("folding new events into the rollups failed")
            return False
        now = time.monotonic()
        # While single events come, the next fold no sooner than this one took again: the
        # connection is free half the time, and they commit at once (on the loop) instead of
        # each waiting for the chunk in progress. With none coming (a burst's backlog folded
        # right after it), the next fold follows at once: pausing made catching up on 40k
        # events take 3.5-5 s instead of about 1.5.
        if not quiet:
            self._fold_resume = now + (now - started)
        if covered >= FOLD_CHUNK_MIN and not quiet:
            self._fold_chunk = _next_fold_chunk(self._fold_chunk, covered, now - started)
        more = covered >= limit
        if not more:
            self._unfolded = 0
        else:  # more to fold: due again at once, after whatever is queued now
            self._unfolded = max(1, self._unfolded - covered)
            self._unfolded_since = 0.0
        if not more or now - self._checkpointed >= FOLD_SECONDS:
            # (a backlog in many short folds: not a checkpoint after each one)
            self._checkpointed = now
            self._checkpoint_due.set()
        return more

    def _run_checkpoints(self, checkpoints: sqlite3.Connection) -> None:
        """The checkpoint thread: a WAL checkpoint after each fold that asks for one.

        Here rather than inside whichever COMMIT crosses SQLite's automatic mark, and neither
        on the write connection nor on the writer thread: copying the WAL into the database
        and its two fsyncs took 3-100 ms (60 ms typical while an import's backlog was being
        folded), and commits — a single POST's on the event loop, queued jobs on the writer
        thread — go on meanwhile; only what they added is copied with them held off. The
        first transaction after that starts the WAL over instead of growing it."""
        try:
            while True:
                self._checkpoint_due.wait()
                self._checkpoint_due.clear()
                if self._checkpoints_stop:
                    return
                try:
                    checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    # Then with our commits held off: what they added meanwhile is copied
                    # (little, or nothing) and no transaction of ours is open, so the next
                    # one starts the WAL over. One already open when the copy ended keeps a
                    # snapshot that the WAL cannot restart under: without this pass, under
                    # continuous writes it never did and the WAL only grew.
                    with self._busy:
                        checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    log.exception("WAL checkpoint failed; the next fold retries")
        finally:
            checkpoints.close()

    def _transact(
        self, batches: list[list[EventRow]], lock_wait: float = LOCK_WAIT
    ) -> tuple[list[list[WriteOutcome]], CommitInfo]:
        """One transaction for ``batches`` (writer thread); returns after COMMIT, raises after
        ROLLBACK (``StoreBusy`` when the write lock stayed held elsewhere for ``lock_wait``)."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("the store writer is not running")
        first_id = self._next_id
        self._begin(conn, lock_wait)
        try:
            # Another process (a CLI import, a second tool) may have written since our last
            # transaction; the write lock is ours now, so the max id is stable.
            top = int(conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0)
            if self._own_keys is not None and _data_version(conn) != self._data_version:
                self._own_keys = None  # another connection wrote: its keys are unknown here
            totals = self._totals
            if totals is None or top >= first_id:
                totals = stored_totals(conn)
            self._next_id = max(self._next_id, top + 1)
            outcomes, info, totals = self._apply(conn, batches, totals, top)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._next_id = first_id
            self._prices.rolled_back()
            raise
        self._totals = totals
        self._prices.committed()
        if not self._folds:  # left for the app's writer to fold; readers add them meanwhile
            return outcomes, info
        if info.stored and not self._unfolded:
            self._unfolded_since = time.monotonic()
        self._unfolded += info.stored
        if info.stored + info.duplicates > SMALL_JOB_ROWS:
            now = self._large_at = time.monotonic()
            if self._checkpoint_bursts and now - self._checkpointed >= BURST_CHECKPOINT_SECONDS:
                self._checkpointed = now
                self._checkpoint_due.set()
        else:
            self._count_small(info.stored, time.monotonic())
        return outcomes, info

    def _begin(self, conn: sqlite3.Connection, lock_wait: float) -> None:
        """``_begin`` on the write connection, by whichever thread holds ``_busy``."""
        known = self._busy_set
        self._busy_set = None  # unknown until BEGIN has returned (it may raise)
        busy_ms = known[1] if known is not None and known[0] is conn else None
        self._busy_set = (conn, _begin(conn, lock_wait, busy_ms))

    def _count_small(self, stored: int, now: float) -> None:
        """A small job committed at ``now``: is the rate of single events a burst?"""
        self._small_at = now
        self._small_rows += stored
        elapsed = now - self._small_window
        if elapsed >= FOLD_QUIET:  # a window closes: were they a burst over it?
            self._bursting = self._small_rows >= SINGLE_BURST_RATE * elapsed
            self._small_rows = 0
            self._small_window = now
        elif self._small_rows >= SINGLE_BURST_RATE * FOLD_QUIET:
            self._bursting = True  # already, before the window closes
        # A burst goes on until a window closes below the rate (or none comes for FOLD_QUIET):
        # its fold then starts FOLD_QUIET after the last of its events, as after large jobs.
        if self._bursting:
            if now - self._burst_at >= FOLD_QUIET:
                self._burst_from = now
            self._burst_at = now
            if now - self._checkpointed >= BURST_CHECKPOINT_SECONDS:
                self._checkpointed = now
                self._checkpoint_due.set()

    def _notify(self, info: CommitInfo) -> None:
        for listener in self._listeners:
            try:
                listener(info)
            except Exception:
                log.exception("commit listener failed")

    def _commit_jobs(self, jobs: list[_Job], lock_wait: float | None = None) -> list[_Job]:
        """Commit ``jobs`` in one transaction, waiting up to ``lock_wait`` for a write lock
        held elsewhere (default: one slice towards the earliest deadline); returns the jobs
        to try again (the lock stayed held and their deadline has not passed)."""
        batches = [rows for job in jobs for rows in job.batches]
        if lock_wait is None:
            lock_wait = _attempt_wait(min(j.deadline for j in jobs))
        try:
            outcomes, info = self._transact(batches, lock_wait)
        except StoreBusy as exc:
            now = time.monotonic()
            expired = [job for job in jobs if job.deadline <= now]
            if expired:
                log.warning(
                    "the database is locked by another process; %d job(s) refused", len(expired)
                )
            for job in expired:
                job.future.set_exception(exc)
            return [job for job in jobs if job.deadline > now]
        except TotalsFull as exc:
            log.warning("events refused: %s", exc)
            for job in jobs:
                job.future.set_exception(exc)
            return []
        except BaseException as exc:
            log.exception("store write failed; %d request(s) answered with an error", len(jobs))
            if isinstance(exc, sqlite3.Error | OSError):
                self.problem = f"the database cannot be written: {exc}"
            for job in jobs:
                job.future.set_exception(exc)
            return []
        self.problem = None
        start = 0
        for job in jobs:
            end = start + len(job.batches)
            job.future.set_result(outcomes[start:end])
            start = end
        self._notify(info)
        return []

    def _apply(
        self,
        conn: sqlite3.Connection,
        batches: list[list[EventRow]],
        totals: tuple[int, int],
        top: int,
    ) -> tuple[list[list[WriteOutcome]], CommitInfo, tuple[int, int]]:
        # The request ids and call keys of the batch (None is the one other value they take).
        request_id = itemgetter(COLUMN_INDEX["request_id"])
        call_key = itemgetter(COLUMN_INDEX["call_key"])
        wanted: set[str | None] = set()
        keys: set[str | None] = set()
        for rows in batches:
            wanted.update(map(request_id, rows))
            keys.update(map(call_key, rows))
        wanted.discard(None)
        keys.discard(None)
        own = self._own_keys
        if own is not None:  # the store holds only this writer's rows: look up those it stored
            wanted = {key for key in wanted if hash(key) in own}
            keys = {key for key in keys if hash(key) in own}
        price_ids = self._prices.ids(conn, batches)
        plan = _Plan(self._next_id, price_ids)
        if keys or len(wanted) < 2:
            plan.sort_out(conn, batches, wanted, keys)
            _insert(conn, plan.inserts)
        else:
            # Request ids are new nearly always: the rows go in without looking them up first,
            # and the events table's unique index on request_id finds the rare one already
            # stored; the rows are then sorted out again with the look-up, as though it had
            # been made first: same outcomes. Instructions per transaction (callgrind): 1,000
            # events -14 %, 7 single events -13 %, 2 -8 %; for one id the savepoint costs
            # more than its look-up (+1 %), so it keeps the look-up.
            plan.sort_out(conn, batches, set(), keys)
            conn.execute("SAVEPOINT new_ids")
            try:
                _insert(conn, plan.inserts)
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK TO new_ids")
                plan = _Plan(self._next_id, price_ids)
                plan.sort_out(conn, batches, wanted, keys)
                _insert(conn, plan.inserts)
            finally:
                conn.execute("RELEASE new_ids")
        if own is not None:
            self._remember(own, plan)
        totals = _within_limit(totals, plan)
        self._next_id = plan.next_id
        if plan.replaced:
            self._replace(conn, plan.replaced, plan.projects)
        info = CommitInfo(
            plan.stored, plan.dups, frozenset(plan.projects), plan.newest, top, plan.inserts
        )
        return plan.outcomes, info, totals

    def _remember(self, own: set[int], plan: _Plan) -> None:
        """Adds the keys of the rows ``plan`` stores (as inserted or rewritten) to ``own``.
        Before COMMIT: a rolled-back row's key only makes its next copy looked up."""
        rows = [*plan.inserts, *(values for _, values in plan.replaced)]
        own.update(map(hash, map(itemgetter(_REQUEST_AT), rows)))
        own.update(map(hash, map(itemgetter(_CALL_KEY_AT), rows)))
        if len(own) > REMEMBER_KEYS:
            self._own_keys = None  # memory stays bounded; the look-ups take over

    @staticmethod
    def _replace(
        conn: sqlite3.Connection, replaced: list[tuple[int, list[object]]], projects: set[str]
    ) -> None:
        """Rewrite stored rows in place with a bigger copy; rows the rollups already include
        are taken out of them first and put back after, in this same transaction."""
        folded = folded_through(conn)
        ids = [event_id for event_id, _ in replaced if event_id <= folded]
        if ids:
            take_out(conn, ids)
        for event_id, values in replaced:
            conn.execute(_UPDATE, [*values[1:], event_id])
            projects.add(str(values[_PROJECT_AT]))
        if ids:
            put_back(conn, ids)


def stored_totals(conn: sqlite3.Connection) -> tuple[int, int]:
    """The database's total cost (nano-dollars) and input + output tokens: the rollups plus
    the events not folded into them yet. Summed as floats (``total()``), which cannot fail
    even on a file an older version filled past the int64 range; exact enough for a bound."""
    folded = folded_through(conn)
    cost, tokens = conn.execute(
        "SELECT total(cost_nanos), total(input_tokens) + total(output_tokens) "
        "FROM rollup_day WHERE dim = 'total'"
    ).fetchone()
    new_cost, new_tokens = conn.execute(
        "SELECT total(cost_nanos), total(input_tokens) + total(output_tokens) "
        "FROM events WHERE id > ?",
        (folded,),
    ).fetchone()
    return int(cost + new_cost), int(tokens + new_tokens)


def _within_limit(totals: tuple[int, int], plan: _Plan) -> tuple[int, int]:
    """The totals once ``plan`` is stored, or ``TotalsFull`` when they would pass
    ``SUM_LIMIT``. A bigger duplicate counts whole (its smaller copy is not taken off):
    a slight overestimate, re-read exactly at the next start."""
    rows = plan.inserts + [values for _, values in plan.replaced]
    cost = sum(filter(None, map(itemgetter(_COST_AT), rows)))  # type: ignore[arg-type]
    tokens = sum(map(itemgetter(_INPUT_AT), rows)) + sum(  # type: ignore[arg-type]
        map(itemgetter(_OUTPUT_AT), rows)  # type: ignore[arg-type]
    )
    new = (totals[0] + cost, totals[1] + tokens)
    if new[0] > SUM_LIMIT or new[1] > SUM_LIMIT:
        raise TotalsFull(
            f"storing these {len(rows)} events would take the database's total past "
            f"{SUM_LIMIT:,} nano-dollars or tokens, the most its sums can hold"
        )
    return new


def _next_fold_chunk(chunk: int, covered: int, seconds: float) -> int:
    """The next fold's chunk: halfway from ``chunk`` to the size the last fold's rate says
    would take ``FOLD_TXN_SECONDS`` (halfway, so one slow moment does not swing it)."""
    fitted = covered * FOLD_TXN_SECONDS / max(seconds, 1e-6)
    return int(max(FOLD_CHUNK_MIN, min(FOLD_CHUNK, (chunk + fitted) / 2)))


def _drain(jobs: queue.Queue[_Job | object]) -> list[object]:
    """What is queued now (at most ``DRAIN_ITEMS``), without waiting."""
    items: list[object] = []
    while len(items) < DRAIN_ITEMS:
        try:
            items.append(jobs.get_nowait())
        except queue.Empty:
            break
    return items


def _groups(jobs: list[_Job]) -> list[list[_Job]]:
    """``jobs`` in order, cut into groups of at most ``TXN_ROWS`` rows (a bigger job alone)."""
    groups: list[list[_Job]] = []
    rows = TXN_ROWS
    for job in jobs:
        if rows + job.n_rows > TXN_ROWS:
            groups.append([])
            rows = 0
        groups[-1].append(job)
        rows += job.n_rows
    return groups


def _attempt_wait(deadline: float) -> float:
    """How long one attempt waits for the write lock: until ``deadline``, but no more than
    ``LOCK_SLICE`` — so jobs queued meanwhile (whose deadlines may be sooner) are seen."""
    return min(LOCK_SLICE, max(0.0, deadline - time.monotonic()))


def _begin(conn: sqlite3.Connection, lock_wait: float, busy_ms: int | None = None) -> int:
    """BEGIN IMMEDIATE, waiting at most ``lock_wait`` seconds for a write lock another
    connection holds; ``StoreBusy`` when it stays held. ``busy_ms``: the connection's
    busy_timeout now, if known (not set again when it is the one needed); returns the one set."""
    wait_ms = max(0, int(lock_wait * 1000))
    if wait_ms != busy_ms:
        conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise StoreBusy("the database is locked by another process") from None
        raise
    return wait_ms


def _data_version(conn: sqlite3.Connection) -> int:
    """SQLite's count of commits other connections made to the file, as ``conn`` sees it."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


# What a column of a group of INSERT_ROWS rows is in the statement (``_insert_many``): NULL
# in every row (written into the SQL), one value in every row (bound once), or bound per row.
_NULL, _SHARED, _EACH = 0, 1, 2
# The columns that often hold one value in every row of a group: one request's receive time,
# its source, the machine, the flags, and the cache-write counts most calls leave at zero.
_SHARED_CANDIDATES = tuple(
    COLUMN_INDEX[name]
    for name in (
        "received_at",
        "source",
        "machine",
        "batch",
        "priced",
        "cache_write_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
    )
)


@lru_cache(maxsize=128)
def _insert_many(kinds: tuple[int, ...], width: int = INSERT_ROWS) -> str:
    """The ``width``-row INSERT for columns of these kinds: ``_NULL`` written in,
    ``_SHARED`` one numbered parameter for every row (those come first), ``_EACH`` the next
    parameter in row order."""
    shared = kinds.count(_SHARED)
    each = kinds.count(_EACH)
    rows = []
    for r in range(width):
        shared_at, each_at = 0, shared + r * each
        values = []
        for kind in kinds:
            if kind == _NULL:
                values.append("NULL")
            elif kind == _SHARED:
                shared_at += 1
                values.append(f"?{shared_at}")
            else:
                each_at += 1
                values.append(f"?{each_at}")
        rows.append(f"({', '.join(values)})")
    return _INSERT_HEAD + ", ".join(rows)


def _insert(conn: sqlite3.Connection, rows: list[list[object]]) -> None:
    """Insert ``rows``, ``INSERT_ROWS`` per statement where they fill one, then
    ``INSERT_ROWS_LEFT`` per statement where the rows left fill one.

    Measured on a 1,000-event batch this is about a third faster than ``executemany`` of the
    one-row INSERT: the sqlite3 module's per-statement work (reset, step, the GIL let go and
    taken back) is paid once per group, and a column that is NULL in a whole group is written
    into the SQL instead of being bound in each row (binding None goes through the adapter
    registry, and an event has a dozen NULL columns). A column with one value in a whole group
    (among ``_SHARED_CANDIDATES``) is bound once: binding was the largest part of the
    statement's own CPU time, and this is a third of the bound values of a typical batch
    (0.3 µs a row). Groups of 200 rather than 50: 5 % fewer instructions per event of the
    writer's 1,000-event transaction (100 rows -3 %, 500 as 200), and a quarter of the times
    the writer thread lets the GIL go and must take it back while another thread prepares a
    batch. The rows left over after that go one per statement, so the statement cache holds
    a few statements rather than one per remainder size — except a small commit's
    (``FEW_ROWS_MIN`` to ``FEW_ROWS`` rows, the server's group commit of single events): its
    rows go in one statement of their own width with NULL columns written in, a sixth less
    CPU than ``executemany`` for seven rows.
    """
    n = len(rows)
    widths = (n,) if FEW_ROWS_MIN <= n <= FEW_ROWS else (INSERT_ROWS, INSERT_ROWS_LEFT)
    whole = 0
    for width in widths:
        begin, whole = whole, n - (n - whole) % width
        for start in range(begin, whole, width):
            _insert_group(conn, rows[start : start + width], width)
    if whole < n:
        conn.executemany(_INSERT, rows[whole:])


def _insert_group(conn: sqlite3.Connection, group: list[list[object]], width: int) -> None:
    """One INSERT of ``width`` rows (``_insert``)."""
    columns = list(zip(*group, strict=True))
    # A column's first value decides most of them: counting the Nones of a column of
    # text compares each value with None, which was a fifth of the statement's own CPU.
    kinds = [
        _NULL if column[0] is None and column.count(None) == width else _EACH for column in columns
    ]
    for at in _SHARED_CANDIDATES:
        column = columns[at]
        if kinds[at] == _EACH and column.count(column[0]) == width:
            kinds[at] = _SHARED
    params = [column[0] for column, kind in zip(columns, kinds, strict=True) if kind == _SHARED]
    each = [column for column, kind in zip(columns, kinds, strict=True) if kind == _EACH]
    params.extend(chain.from_iterable(zip(*each, strict=True)))
    conn.execute(_insert_many(tuple(kinds), width), params)
