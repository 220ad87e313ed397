"""One import pass over an agent's logs: find files, read what is new, store it, remember where
each file was read to. Runs on the calling thread (the CLI's main thread or the watcher's
thread); storing goes through the core's writer thread.

Order of durability: events are committed first, then the file offsets that cover them, so a
crash in between re-reads some lines (harmless: every event has a stable idempotency key) and
never skips any.
"""

from __future__ import annotations

import concurrent.futures
import copy
import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spendtray.clock import utc_now
from spendtray.gc_tuning import collector_paused
from spendtray.importers.parsing import ParseStats, Record
from spendtray.importers.registry import KINDS, source
from spendtray.importers.source import FileJob, LogRoot
from spendtray.importers.sources import LogLister
from spendtray.importers.state import load_cursors, save_cursors
from spendtray.importers.tail import (
    HEAD_BYTES,
    FileCursor,
    hash_of_head,
    head_hash,
    read_blocks,
    read_document,
    start_offset,
)
from spendtray.importers.workers import WORKER_MIN_BYTES, Priced, Step, WorkerReads, plan_shares
from spendtray.limits.codex_rate_limits import collapse
from spendtray.store.limits import record_observations
from spendtray.words import plural

if TYPE_CHECKING:
    from spendtray.core import Core
    from spendtray.ingest.event import UsageEvent
    from spendtray.ingest.service import IngestResult, IngestService
    from spendtray.limits.model import Observation
    from spendtray.store.rows import EventRow
    from spendtray.store.writer import WriteOutcome, Writer

__all__ = ["KINDS", "ImportReport", "Importer"]

BATCH_EVENTS = 5_000
QUIET = dt.timedelta(minutes=10)
# A SQLite -wal holds a transaction's bytes before its writer publishes it (in the -shm): one
# written this recently is read again on the next pass, so a commit seen half-way is not lost.
WAL_SETTLE_NS = 2_000_000_000


@dataclass
class ImportReport:
    """What one pass did."""

    kind: str
    roots: list[str] = field(default_factory=list)
    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    calls: int = 0  # distinct calls found in the new lines
    stored: int = 0  # of those, new to the database
    duplicates: int = 0  # copies merged or already stored
    unpriced: int = 0
    seconds: float = 0.0
    stats: ParseStats = field(default_factory=ParseStats)

    def summary(self) -> str:
        if not self.roots:
            return f"{self.kind}: no logs found"
        mb = self.bytes_read / 1e6
        text = (
            f"{self.kind}: {plural(self.files_seen, 'file')}, {self.files_read:,} read "
            f"({mb:,.1f} MB) in {self.seconds:.2f} s: {plural(self.stored, 'new call')} stored, "
            f"{plural(self.duplicates, 'duplicate copy', 'duplicate copies')} skipped"
        )
        if self.unpriced:
            text += f", {self.unpriced:,} unpriced (unknown model)"
        if self.stats.malformed:
            text += f"; {plural(self.stats.malformed, 'malformed line')} skipped"
        return text


@dataclass(slots=True)
class Changed:
    """A file to read in this pass, and where to start."""

    root: LogRoot
    path: str
    cursor: FileCursor | None
    st: os.stat_result
    start: int


@dataclass
class Scan:
    """What a pass has to do: files to read, cursors of files that are gone."""

    changed: list[Changed] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not self.changed and not self.gone


class Importer:
    """Imports one kind of agent log; keep one instance per thread and reuse it across passes
    (it caches folder listings and project names)."""

    def __init__(
        self,
        store: Callable[[Sequence[UsageEvent]], IngestResult] | None,
        writer: Writer | None,
        db_path: Path,
        kind: str,
        paths: list[Path] | None = None,
        batch_events: int = BATCH_EVENTS,
        clock: Callable[[], dt.datetime] = utc_now,
        record_limits: Callable[[list[Observation]], object] | None = None,
        submit: Callable[[Sequence[UsageEvent]], Future[IngestResult]] | None = None,
        workers: int | None = None,
        worker_min_bytes: int = WORKER_MIN_BYTES,
        ingest: IngestService | None = None,
    ) -> None:
        """``workers``: how many processes read a pass of at least ``worker_min_bytes``
        (``workers.py``); None: one per CPU where that helps, 0: always this process.
        ``ingest``: the service ``store`` and ``submit`` belong to, when storing in this
        process: workers then also price what they read (``IngestService.prepare_events``)
        and this process stores their rows (``submit_rows``)."""
        self.source = source(kind)  # ValueError naming the known sources
        # IngestService.ingest_events, or a running server's (remote.py); None with writer
        # None: an importer that only scans (``unchanged``).
        self.store = store
        self.writer = writer  # for import_state
        self.db_path = db_path
        self.kind = kind
        self._paths = list(paths) if paths else None
        if self._paths:
            self.roots()  # a wrong --path fails here, before anything runs
        self.batch_events = batch_events
        self.clock = clock
        # Codex's subscription windows: the app's LimitsService (which also notifies), else
        # straight into the store through the writer thread.
        self.record_limits = record_limits or self._store_limits
        self._limits: list[Observation] = []
        self._lister = LogLister()
        self._shared: dict[str, object] = {}  # the source parsers' per-importer caches
        self._conn: sqlite3.Connection | None = None
        # Loaded once, then kept in step with what this importer saves. Another process
        # importing the same files meanwhile only makes this one re-read lines, which the
        # idempotency keys make harmless.
        self._cursors: dict[str, FileCursor] | None = None
        self.workers = workers
        # ingest_events without waiting (IngestService.submit_events), when storing in this
        # process: a batch commits while the next one is read.
        self.submit = submit
        # The chunks of the last batch committing (a future each, with the events it counts
        # refusals by), and the offsets saved after them.
        self._inflight: list[tuple[Future[IngestResult], Sequence[UsageEvent]]] = []
        # The same for rows the workers priced, straight to the writer (``_store_priced``).
        self._rows_inflight: list[tuple[Future[list[WriteOutcome]], list[EventRow]]] = []
        self._cursor_save: tuple[Future[object], dict[str, FileCursor]] | None = None
        self.worker_min_bytes = worker_min_bytes
        self.ingest = ingest

    @classmethod
    def for_core(
        cls,
        core: Core,
        kind: str,
        paths: list[Path] | None = None,
        store: Callable[[Sequence[UsageEvent]], IngestResult] | None = None,
    ) -> Importer:
        return cls(
            store or core.ingest.ingest_events,
            core.writer,
            core.settings.db_path,
            kind,
            paths,
            clock=core.clock,
            record_limits=core.limits.record,
            submit=core.ingest.submit_events if store is None else None,
            ingest=core.ingest if store is None else None,
        )

    def shared_caches(self) -> dict[str, object]:
        """The source parsers' caches (sent back by a worker process)."""
        return self._shared

    def absorb_caches(self, caches: dict[str, object]) -> None:
        """Takes in what a worker's parsers learnt: a cache with ``absorb`` merges it (the
        workers read disjoint folders), a new one is kept as it is."""
        for key, value in caches.items():
            mine = self._shared.setdefault(key, value)
            absorb = getattr(mine, "absorb", None)
            if mine is not value and absorb is not None:
                absorb(value)

    def roots(self) -> list[LogRoot]:
        """From ``paths``, else the default places; looked up each pass, so logs folders
        created after the watcher started are found."""
        if self._paths is None:
            return self.source.roots()
        return [root for path in self._paths for root in self.source.roots_for_path(path)]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _read_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            from spendtray.store.db import open_for_reading

            self._conn = open_for_reading(self.db_path)
        return self._conn

    # -- a pass ---------------------------------------------------------------------------

    def scan(self, report: ImportReport, quick: bool = False) -> Scan:
        """Which files changed since they were last read (a ``stat`` each, the first bytes of
        those that grew), and the cursors of files that are gone. Reads no log line and needs
        no store: ``cli/importer.py`` answers an import over unchanged logs from this alone."""
        roots = self.roots()
        report.roots = [str(r.path) for r in roots]
        if self._cursors is None:
            self._cursors = load_cursors(self._read_conn(), self.kind)
        cursors = self._cursors
        quiet_before = int((self.clock() - QUIET).timestamp() * 1e9) if quick else 0
        scan = Scan()
        listed: set[str] = set()
        for root in roots:
            for name in self._lister.files(root, self.source.wants):
                if name in listed:
                    continue
                listed.add(name)
                report.files_seen += 1
                cursor = cursors.get(name)
                if cursor is not None and cursor.mtime_ns < quiet_before:
                    continue
                try:
                    st = os.stat(name)
                    start = start_offset(cursor, st)
                except OSError:
                    continue  # vanished or unreadable since the listing; next pass retries
                if start is not None:
                    scan.changed.append(Changed(root, name, cursor, st, start))
        scan.gone = [p for p in cursors if p not in listed and _under(p, roots) and not _exists(p)]
        return scan

    def run(self, quick: bool = False) -> ImportReport:
        """One pass. ``quick`` skips even the ``stat`` of files unchanged for ``QUIET``
        (the watcher's in-between polls: only live sessions grow)."""
        started = time.perf_counter()
        report = ImportReport(self.kind)
        scan = self.scan(report, quick)
        if scan.idle:
            report.seconds = time.perf_counter() - started
            return report
        with collector_paused():
            try:
                self._pass(scan, report)
            finally:
                self._settle(None)  # a pass that failed: its last batch done, either way
        report.seconds = time.perf_counter() - started
        return report

    def _pass(self, scan: Scan, report: ImportReport) -> None:
        cursors = self._cursors
        assert cursors is not None  # loaded by scan
        now = self.clock()
        pending: list[Record] = []
        priced: list[Priced] = []  # from workers that price (``ingest``), instead of pending
        touched: dict[str, FileCursor] = {}
        report.files_read += len(scan.changed)
        owners = plan_shares(self, scan.changed)
        reads: AbstractContextManager[Iterator[Step]]
        if owners is None:
            reads = nullcontext(
                step for changed in scan.changed for step in self.steps(changed, now, report.stats)
            )
        else:
            reads = WorkerReads(self, scan.changed, owners, now, report.stats)
        with reads as steps:
            # The same batches either way: a flush whenever a step leaves a batch's worth.
            for step in steps:
                report.bytes_read += step.size
                pending.extend(step.records)
                if step.priced:
                    priced.extend(step.priced)
                if step.limits:
                    self._limits.extend(step.limits)
                if step.stats is not None:  # counted in a worker process
                    report.stats.add(step.stats)
                touched[step.state.path] = step.state
                if len(pending) + len(priced) >= self.batch_events:
                    self._flush(pending, touched, report, priced)
        self._flush(pending, touched, report, priced)
        self._settle(report)
        if scan.gone:
            save_cursors(self._writer(), [], self._now_ms(), scan.gone)
            for gone in scan.gone:
                cursors.pop(gone, None)
        report.duplicates += report.stats.repeated_copies + report.stats.folded_copies

    def steps(self, changed: Changed, now: dt.datetime, stats: ParseStats) -> Iterator[Step]:
        """Reads one file: a step per block read (its records and the file's cursor after
        it), or one step for a whole document, or only the cursor when nothing new was read.
        Runs in this process or in a worker (``workers.py``)."""
        name, cursor, st, start = changed.path, changed.cursor, changed.st, changed.start
        document = self.source.is_document(name)
        database = self.source.is_database(name)
        if document:
            start = 0  # rewritten as a whole: read it whole; stored calls are recognised
        # A database's context says which rows were read, whatever happened to its bytes.
        keep = cursor is not None and (start or database)
        context = copy.deepcopy(cursor.context) if cursor is not None and keep else {}
        state = FileCursor(name, self.kind, st.st_ino, st.st_size, st.st_mtime_ns, start, "", {})
        if cursor is not None and start:
            state.malformed, state.problem = cursor.malformed, cursor.problem
        bad_before = stats.malformed
        stats.last_problem = None
        job = FileJob(name, changed.root.path, context, stats, now, self._shared)
        parser = self.source.parser(job)
        position = start
        if document:
            try:
                data = b"" if database else read_document(name)
            except OSError:
                return  # unreadable or too big: nothing recorded, the next pass retries
            parser.document(data)  # type: ignore[union-attr]
            size = st.st_size if database else len(data)
            if database:
                state.context = copy.deepcopy(context)
                if name.endswith("-wal") and st.st_mtime_ns > time.time_ns() - WAL_SETTLE_NS:
                    state.mtime_ns = st.st_mtime_ns - 1  # looks changed: read again
            state.offset = size
            _count_bad(state, stats, bad_before)
            yield Step(_taken(parser.records), [], size, state)
            return
        # A parser with ``feed_block`` picks its lines out of each block itself.
        feed_block = getattr(parser, "feed_block", None)
        stepped = False
        try:
            # The file's first bytes, read from its start: hashed as they come, no second open
            # for them when the offset is saved.
            head = b"" if start == 0 else None
            for block, end in read_blocks(name, start):
                if head is not None and len(head) < HEAD_BYTES:
                    # A block ends before its last line's newline, if that line has one.
                    head += (block[:HEAD_BYTES] + b"\n")[: min(end - position, HEAD_BYTES)]
                    state.head_hash = hash_of_head(head)
                if feed_block is not None:
                    feed_block(block, position)
                else:
                    parser.feed(block.split(b"\n"), position)  # type: ignore[union-attr]
                size, position = end - position, end
                limits = getattr(parser, "limits", None)  # Codex: rate-limit readings
                state.offset = end
                state.context = copy.deepcopy(context)
                _count_bad(state, stats, bad_before)
                bad_before = stats.malformed
                stepped = True
                yield Step(
                    _taken(parser.records), _taken(limits) if limits else [], size, copy.copy(state)
                )
        except OSError:
            pass  # keep what was read; the offset says where to go on next pass
        if not stepped:
            # Nothing new but the size or mtime moved (or a partial last line): remember that.
            state.context = context
            yield Step([], [], 0, state)

    def _flush(
        self,
        pending: list[Record],
        touched: dict[str, FileCursor],
        report: ImportReport,
        priced: list[Priced] | None = None,
    ) -> None:
        if self._limits:
            self.record_limits(collapse(self._limits))
            self._limits.clear()
        self._settle(report)  # the previous batch committed: merge sees its calls
        if pending:
            events: list[UsageEvent]
            if self.source.merge is not None:
                kept, merged = self.source.merge(pending, self._read_conn())
                events = [record.event for record in kept]
            else:
                events, merged = [r.event for r in pending], 0
            report.calls += len(events)
            report.duplicates += merged
            for start in range(0, len(events), self.batch_events):
                chunk = events[start : start + self.batch_events]
                if self.store is None:
                    raise RuntimeError("this importer only scans: it has no store")
                if self.submit is not None:
                    # Committing while the next batch is read and decoded.
                    self._inflight.append((self.submit(chunk), chunk))
                    continue
                self._count(self.store(chunk), chunk, report)
            pending.clear()
        if priced:
            self._store_priced(priced, report)
            priced.clear()
        if touched:
            for state in touched.values():
                if state.head_hash:
                    continue  # taken by the worker that read the file (workers.py)
                try:
                    state.head_hash = head_hash(state.path, state.offset)
                except OSError:
                    state.head_hash = ""
            jobs = [job for job, _ in self._inflight] + [job for job, _ in self._rows_inflight]
            saving = save_cursors(
                self._writer(), list(touched.values()), self._now_ms(), after=jobs
            )
            if saving is not None:  # saved after the jobs in flight; remembered once it was
                self._cursor_save = (saving, dict(touched))
            elif self._cursors is not None:
                self._cursors.update(touched)
            touched.clear()

    def _store_priced(self, priced: list[Priced], report: ImportReport) -> None:
        """``_flush`` of calls the workers priced: merged as records are, then their rows
        stored, committing while the next batch is read. Straight to the writer, counted from
        its outcomes (``_count_rows``): the ingest service's reply (a dict per event, with its
        cost in dollars) is for HTTP clients: ~0.5 us a row on the writer thread, 0.02 s of
        the 313 MB first import."""
        assert self.ingest is not None, "only workers given the ingest service price"
        writer = self._writer()
        kept = priced
        if self.source.merge is not None:
            kept, merged = self.source.merge(priced, self._read_conn())
            report.duplicates += merged
        rows = []
        for call in kept:
            if call.refused is not None:
                report.stats.refused_as(call.refused)
            else:
                rows.append(call.final())
        report.calls += len(rows)
        # In chunks of about batch_events rows, none much smaller: a flush comes once a step
        # takes the batch past batch_events (5,016 rows, say), and its remainder was a
        # transaction of its own (16 rows) that the writer committed ahead of the rest.
        chunks = max(1, round(len(rows) / self.batch_events))
        size = -(-len(rows) // chunks)
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            self._rows_inflight.append((writer.submit(chunk), chunk))

    @staticmethod
    def _count(result: IngestResult, chunk: Sequence[UsageEvent], report: ImportReport) -> None:
        """What a stored chunk adds to the report."""
        for index, error in result.refused:
            report.stats.refused(chunk[index], str(error))
        report.calls -= len(result.refused)
        report.stored += result.accepted
        report.duplicates += result.duplicates
        report.unpriced += sum(1 for e in result.events if not e["priced"])

    @staticmethod
    def _count_rows(
        outcomes: list[WriteOutcome], rows: list[EventRow], report: ImportReport
    ) -> None:
        """What a stored chunk of priced rows adds to the report (as ``_count``)."""
        duplicates = sum(1 for outcome in outcomes if outcome.duplicate)
        report.stored += len(outcomes) - duplicates
        report.duplicates += duplicates
        report.unpriced += sum(1 for row in rows if row.cost_nanos is None)

    def _settle(self, report: ImportReport | None) -> None:
        """Wait for the chunks in flight and the offsets saved after them; count what they stored
        into ``report`` (None: a pass that failed, nothing counted or raised)."""
        inflight, self._inflight = self._inflight, []
        rows_inflight, self._rows_inflight = self._rows_inflight, []
        saving, self._cursor_save = self._cursor_save, None
        waiting: list[Future[Any]] = [future for future, _ in inflight]
        waiting += [future for future, _ in rows_inflight]
        if saving:
            waiting.append(saving[0])
        if report is None:
            concurrent.futures.wait(waiting, 60)
            return
        try:
            for future, chunk in inflight:
                self._count(future.result(60), chunk, report)
            for written, rows in rows_inflight:
                self._count_rows(written.result(60), rows, report)
        except BaseException:
            concurrent.futures.wait(waiting, 60)  # the batch's other chunks end first
            raise
        if saving is not None:
            saving[0].result(60)
            if self._cursors is not None:
                self._cursors.update(saving[1])

    def _store_limits(self, observations: list[Observation]) -> None:
        self._writer().call(lambda db: record_observations(db.conn, observations))

    def _writer(self) -> Writer:
        if self.writer is None:
            raise RuntimeError("this importer only scans: it has no writer")
        return self.writer

    def _now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)


def unchanged(db_path: Path, kind: str, paths: list[Path] | None = None) -> ImportReport | None:
    """The report of a pass over ``kind``'s logs when no file changed since it was imported,
    or None when some file must be read (or a database is not there yet). Opens no store and
    loads no prices, so a re-import over unchanged logs costs its ``stat`` calls and the
    interpreter's start; a pass that reads nothing writes nothing, so migrations wait for the
    next pass that does. ``ImportPathError`` for a wrong path, as ``Importer``."""
    if not db_path.exists():
        return None
    started = time.perf_counter()
    importer = Importer(None, None, db_path, kind, paths)
    report = ImportReport(kind)
    try:
        if not importer.scan(report).idle:
            return None
    except sqlite3.Error:
        return None  # no import_state yet (an older schema): the full pass migrates
    finally:
        importer.close()
    report.seconds = time.perf_counter() - started
    return report


def _taken(items: list[Any]) -> list[Any]:
    """The items a parser collected, leaving its list empty."""
    out = items[:]
    items.clear()
    return out


def _count_bad(state: FileCursor, stats: ParseStats, before: int) -> None:
    """Adds the bad lines parsed since ``before`` to the file's own count."""
    if stats.malformed > before:
        state.malformed += stats.malformed - before
        state.problem = stats.last_problem


def _under(path: str, roots: list[LogRoot]) -> bool:
    for root in roots:
        top = str(root.path)
        if path == top or path.startswith(top + os.sep):
            return True
    return False


def _exists(path: str) -> bool:
    try:
        os.stat(path)
    except OSError:
        return False
    return True
