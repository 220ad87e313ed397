"""A big import read in parallel: forked worker processes read and parse shares of the files,
the importer's own process merges and stores their records exactly as if it had read them.

``Importer`` asks ``plan_shares`` whether a pass is worth it (enough bytes to read, at least
two CPUs, ``os.fork``, only append-only line files) and which worker reads which file. Each
worker runs the same ``Importer.steps`` as the in-process path over its share, in the files'
order, and sends every step down a pipe: the records as plain tuples (a fifth of the cost of
pickling the dataclasses), the file's cursor and the step's parse counts. The importer takes
the steps back in the files' order, so batches, merges, counts and offsets are the same as a
pass in one process. Small passes (the watcher's polls), one CPU, platforms without fork and
documents or databases are read in-process.

Threads and processes: ``plan_shares`` and the iteration run on the importer's thread; one
reader thread per worker ("spendtray-import-pipe") moves frames from its pipe into a bounded
queue (so a worker runs ahead of the merge by at most ``QUEUED_MESSAGES`` messages of about
``MESSAGE_RECORDS`` records: memory stays bounded); workers are children forked from the
importer's thread that only read log files, parse and write to their pipe, and leave with
``os._exit`` (no ``atexit``, no inherited thread or connection is touched).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import logging
import marshal
import operator
import os
import pickle
import queue
import signal
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spendtray.importers.parsing import ParseStats, Record, refusal
from spendtray.importers.tail import FileCursor, head_hash
from spendtray.ingest.event import EventError, UsageEvent
from spendtray.prices.calc import TokenCounts
from spendtray.store.rows import EventRow

if TYPE_CHECKING:
    from spendtray.importers.runner import Changed, Importer
    from spendtray.ingest.service import IngestService

log = logging.getLogger(__name__)

# Below this many bytes to read, forking costs more than it saves (a worker parses ~300 MB/s).
WORKER_MIN_BYTES = 16 * 1024 * 1024
# A worker sends its frames (a block's records, a file's end) in messages of ~1,000 records
# (~400 KB pickled); up to QUEUED_MESSAGES of them wait per worker: ~1.5 import batches
# read ahead of the merge, a few MB.
MESSAGE_RECORDS = 1_000
MESSAGE_FRAMES = 500
QUEUED_MESSAGES = 8
WORKERS_ENV = "SPENDTRAY_IMPORT_WORKERS"  # 0: always read in-process; N: at most N workers
_HEADER = 4


class ImportWorkerError(RuntimeError):
    """A worker process died or failed; the pass stops before storing anything it sent for the
    batch in progress (earlier batches are whole: their events and offsets are committed)."""


@dataclass(slots=True)
class Step:
    """What one read of a file gives: its records, Codex rate-limit readings, the bytes read,
    the file's cursor after it, and (from a worker) the parse counts of this step."""

    records: list[Record]
    limits: list[Any]
    size: int
    state: FileCursor
    stats: ParseStats | None = None
    priced: list[Priced] | None = None  # instead of records, from a worker that priced them


@dataclass(slots=True)
class Priced:
    """A call a worker read and priced (``IngestService.prepare_events``): its event row, or
    None with ``refused`` saying why the ingest bounds refused it; and what a merge reads and
    sets (``dedup.CallCopy``), the request id going into the row once merged (``final``)."""

    row: EventRow | None
    message_id: str | None
    has_request_id: bool
    sidechain: bool
    request_id: str | None
    total_tokens: int
    refused: str | None = None

    def final(self) -> EventRow:
        row = self.row
        assert row is not None, "a refused call has no row"
        if row.request_id != self.request_id:
            return row._replace(request_id=self.request_id)
        return row


def worker_count() -> int:
    """How many workers a big pass uses: one per CPU this process may run on while one of
    them is free (``busy_cpus`` at most the CPUs minus one: this thread); else 0, read
    in-process, as with one CPU or without ``os.fork``. Workers spend more CPU in all than
    one process (what crosses the pipes: ~0.4 s more for 313 MB), which pays only with a
    core to spare: at a load of 5-7 on 2 CPUs the import was no faster with them.
    ``$SPENDTRAY_IMPORT_WORKERS`` replaces the choice: 0 in-process, N at most N workers."""
    if not hasattr(os, "fork"):
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cpus = os.cpu_count() or 1
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured.isdigit():
        return min(cpus, int(configured))
    if cpus < 2:
        return 0
    return cpus if busy_cpus() <= cpus - 1 else 0


def busy_cpus() -> float:
    """Threads running or ready to run now, this one included: on Linux the first number of
    /proc/loadavg's fourth field, the lowest of three looks 2 ms apart (a passing spike does
    not count, nor do this process's own earlier passes as in the load average); elsewhere
    the 1-minute load average."""
    try:
        looks = []
        for look in range(3):
            if look:
                time.sleep(0.002)
            with open("/proc/loadavg", "rb") as handle:
                looks.append(int(handle.read().split()[3].split(b"/")[0]))
        return min(looks)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def plan_shares(importer: Importer, changed: list[Changed]) -> list[int] | None:
    """Which worker reads each file (an index per file), or None: read them in-process.

    Files of one top folder (a Claude Code project) go to the same worker: a parser's shared
    cache (project names learnt from earlier files) then sees the same files before each one
    as in one process. Folders are dealt, in the files' order, to the worker with the fewest
    bytes so far, so the workers advance through the files' order together and the merge
    rarely waits or buffers."""
    workers = importer.workers if importer.workers is not None else worker_count()
    if workers < 1 or not hasattr(os, "fork") or not changed:
        return None
    source = importer.source
    total = 0
    for item in changed:
        if source.is_document(item.path) or source.is_database(item.path):
            return None
        total += item.st.st_size - item.start
    if total < importer.worker_min_bytes:
        return None
    workers = min(workers, len(changed))
    load = [0] * workers
    owner_of: dict[tuple[str, str], int] = {}
    owners: list[int] = []
    for item in changed:
        group = (str(item.root.path), _top_folder(str(item.root.path), item.path))
        owner = owner_of.get(group)
        if owner is None:
            owner = owner_of[group] = load.index(min(load))
        load[owner] += item.st.st_size - item.start
        owners.append(owner)
    return owners


def _top_folder(root: str, path: str) -> str:
    if path.startswith(root + os.sep):
        return path[len(root) + 1 :].split(os.sep, 1)[0]
    return ""


# -- records as plain tuples ------------------------------------------------------------------

_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(UsageEvent))
_COUNTS_AT = _EVENT_FIELDS.index("counts")
_event_values = operator.attrgetter(*_EVENT_FIELDS)
_count_values = operator.attrgetter(*TokenCounts._fields)


def encode_records(records: list[Record]) -> list[tuple[Any, ...]]:
    """Records as tuples of plain values (strings, numbers, dicts, datetimes), every field of
    ``UsageEvent`` and ``TokenCounts`` included, in their declared order."""
    out = []
    for record in records:
        values = list(_event_values(record.event))
        values[_COUNTS_AT] = _count_values(values[_COUNTS_AT])
        out.append((values, record.message_id, record.has_request_id, record.sidechain))
    return out


def decode_records(items: list[tuple[Any, ...]]) -> list[Record]:
    out = []
    for values, message_id, has_request_id, sidechain in items:
        values[_COUNTS_AT] = TokenCounts(*values[_COUNTS_AT])
        out.append(Record(UsageEvent(*values), message_id, has_request_id, sidechain))
    return out


def price_records(ingest: IngestService, records: list[Record]) -> list[tuple[Any, ...]]:
    """Records priced into event rows, as tuples of plain values: a row is numbers and
    strings (its raw usage and tags already JSON), cheaper to send and to take back than the
    event it is made from, and the importer's process no longer prices it."""
    refused: list[tuple[int, EventError]] = []
    rows = iter(ingest.prepare_events([r.event for r in records], refused))
    problems = {index: refusal(records[index].event, str(error)) for index, error in refused}
    out = []
    for index, r in enumerate(records):
        problem = problems.get(index) if problems else None
        row = tuple(next(rows)) if problem is None else None
        event = r.event
        out.append((row, r.message_id, r.has_request_id, r.sidechain, event.request_id,
                    event.total_tokens, problem))  # fmt: skip
    return out


def decode_priced(items: list[tuple[Any, ...]]) -> list[Priced]:
    """The worker's tuples as ``Priced`` calls. Each row tuple is made an ``EventRow`` by
    ``tuple.__new__`` (what ``EventRow._make`` does, less its length check: a worker of the
    same code made it from an ``EventRow``), its other fields unpacked by name rather than
    into a list: 1.2-1.4 vs 1.7-2.1 us a call of the importer thread's CPU (38k calls
    captured from the 313 MB first import, 3 alternating runs, load ~3.5)."""
    new, row_type, priced = tuple.__new__, EventRow, Priced
    return [
        priced(None if row is None else new(row_type, row), mid, has_rid, side, rid, total, why)
        for row, mid, has_rid, side, rid, total, why in items
    ]


# -- the worker side --------------------------------------------------------------------------


def _stats_since(stats: ParseStats, before: ParseStats) -> ParseStats:
    """The counts added to ``stats`` since ``before`` (a copy taken earlier)."""
    step = ParseStats()
    for f in dataclasses.fields(ParseStats):
        value = getattr(stats, f.name)
        if isinstance(value, int):
            setattr(step, f.name, value - getattr(before, f.name))
    step.malformed_examples = stats.malformed_examples[len(before.malformed_examples) :]
    step.last_problem = stats.last_problem
    return step


class _Outbox:
    """A worker's frames, sent down its pipe in messages of about ``MESSAGE_RECORDS`` records
    (a small file is a frame of its own: one message each would cost a pickle and a queue slot
    per file, and let the worker run only a few files ahead of the merge)."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.frames: list[tuple[Any, ...]] = []
        self.records = 0

    def add(self, frame: tuple[Any, ...], records: int = 0) -> None:
        self.frames.append(frame)
        self.records += records
        if self.records >= MESSAGE_RECORDS or len(self.frames) >= MESSAGE_FRAMES:
            self.send()

    def send(self) -> None:
        if not self.frames:
            return
        data = pickle.dumps(self.frames, protocol=pickle.HIGHEST_PROTOCOL)
        self.frames, self.records = [], 0
        self.out.write(len(data).to_bytes(_HEADER, "little"))
        self.out.write(data)
        self.out.flush()


def _work(importer: Importer, share: list[tuple[int, Changed]], now: dt.datetime, fd: int) -> int:
    """A worker's life: read its share, send every step, then its parsers' shared caches."""
    # Only short-lived acyclic objects (parsed lines, records): reference counting frees them.
    gc.disable()
    ingest = importer.ingest
    if ingest is not None:
        ingest.prices.forked()
    with os.fdopen(fd, "wb") as out:
        outbox = _Outbox(out)
        try:
            for index, changed in share:
                stats = ParseStats()
                before = ParseStats()
                for step in importer.steps(changed, now, stats):
                    # The first bytes of the file (the importer's process would open every
                    # file again for them when it saves the offsets), if not taken as read.
                    if not step.state.head_hash:
                        with contextlib.suppress(OSError):
                            step.state.head_hash = head_hash(changed.path, step.state.offset)
                    counts = _stats_since(stats, before)
                    before = dataclasses.replace(
                        stats, malformed_examples=[*stats.malformed_examples]
                    )
                    records: Any
                    if ingest is None:
                        kind, records = "step", encode_records(step.records)
                        calls = len(records)
                    else:
                        # Plain tuples of numbers, strings and None: marshal writes them in
                        # 0.6x pickle's time (the 313 MB first import's rows: 40 vs 65 ms of
                        # the workers' CPU) and the importer reads them back as fast.
                        kind, rows = "priced", price_records(ingest, step.records)
                        records, calls = marshal.dumps(rows), len(rows)
                    # Counted in calls, not in the bytes marshal made of them: a message of
                    # ~MESSAGE_RECORDS calls, not one per step.
                    outbox.add((kind, index, records, step.limits, step.size, step.state,
                                counts), calls)  # fmt: skip
                outbox.add(("end", index))
            outbox.add(("done", importer.shared_caches()))
            outbox.send()
        except BaseException as exc:  # reported to the importer, then the worker exits
            try:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                outbox.add(
                    ("error", f"{type(exc).__name__}: {exc} ({where.filename}:{where.lineno})")
                )
                outbox.send()
            except BaseException:  # the pipe is gone: the exit status tells
                pass
            return 1
    return 0


def _start_worker(
    importer: Importer, share: list[tuple[int, Changed]], now: dt.datetime
) -> tuple[int, int]:
    """(pid, read end of its pipe)."""
    read_end, write_end = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a process with threads (the store's writer) may
            # deadlock the child on a lock another thread held. The child takes none of
            # theirs: it reads files, parses, writes its pipe and leaves with os._exit.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C: the importer cleans up
            code = _work(importer, share, now, write_end)
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


# -- the importer side ------------------------------------------------------------------------


def _pump(fd: int, frames: queue.Queue[bytes | None]) -> None:
    """Reader thread: frames from a worker's pipe into its queue; None at the end."""
    with os.fdopen(fd, "rb") as pipe:
        while True:
            head = pipe.read(_HEADER)
            if len(head) < _HEADER:
                break
            size = int.from_bytes(head, "little")
            body = pipe.read(size)
            if len(body) < size:
                break
            frames.put(body)
    frames.put(None)


class WorkerReads:
    """``with WorkerReads(importer, changed, owners, now, stats) as steps: for step in steps:``
    — the steps of every file in ``changed``, in order, read by forked workers (or by this
    process, counting into ``stats``, when the system refuses a fork). Leaving the ``with``
    block early (an error, a worker's death) kills and reaps every worker."""

    def __init__(
        self,
        importer: Importer,
        changed: list[Changed],
        owners: list[int],
        now: dt.datetime,
        stats: ParseStats,
    ) -> None:
        self.importer = importer
        self.changed = changed
        self.owners = owners
        self.now = now
        self.stats = stats
        self._pids: list[int] = []
        self._queues: list[queue.Queue[bytes | None]] = []
        self._threads: list[threading.Thread] = []
        self._ended: set[int] = set()  # workers reaped
        self._inbox: list[deque[tuple[Any, ...]]] = []  # per worker: frames not taken yet

    def __enter__(self) -> Iterator[Step]:
        workers = max(self.owners) + 1
        shares: list[list[tuple[int, Changed]]] = [[] for _ in range(workers)]
        for index, (owner, changed) in enumerate(zip(self.owners, self.changed, strict=True)):
            shares[owner].append((index, changed))
        fds: list[int] = []
        try:
            for share in shares:
                pid, fd = _start_worker(self.importer, share, self.now)
                self._pids.append(pid)
                fds.append(fd)
        except BaseException as exc:
            for fd in fds:
                os.close(fd)
            self._stop_all()
            if not isinstance(exc, OSError):
                raise
            # No process or memory left for a fork (EAGAIN, ENOMEM): read them here instead.
            log.warning("import workers could not start (%s); reading in this process", exc)
            self._pids.clear()
            self._ended.clear()
            importer, now, stats = self.importer, self.now, self.stats
            return (step for item in self.changed for step in importer.steps(item, now, stats))
        # Threads only once every worker is forked: a child inherits no running reader.
        for fd in fds:
            frames: queue.Queue[bytes | None] = queue.Queue(QUEUED_MESSAGES)
            thread = threading.Thread(
                target=_pump, args=(fd, frames), name="spendtray-import-pipe", daemon=True
            )
            thread.start()
            self._queues.append(frames)
            self._inbox.append(deque())
            self._threads.append(thread)
        return self._steps()

    def __exit__(self, *exc: object) -> None:
        self._stop_all()

    def _steps(self) -> Iterator[Step]:
        for index, changed in enumerate(self.changed):
            worker = self.owners[index]
            while True:
                frame = self._next(worker, changed.path)
                if frame[0] == "end":
                    break
                kind, at, records, limits, size, state, stats = frame
                assert at == index, "a worker's steps come in its files' order"
                if kind == "priced":
                    calls = decode_priced(marshal.loads(records))
                    yield Step([], limits, size, state, stats, calls)
                else:
                    yield Step(decode_records(records), limits, size, state, stats)
        for worker in range(len(self._pids)):
            frame = self._next(worker, "the end of its files")
            self.importer.absorb_caches(frame[1])
            self._reap(worker)

    def _next(self, worker: int, reading: str) -> tuple[Any, ...]:
        inbox = self._inbox[worker]
        if not inbox:
            inbox.extend(self._message(worker, reading))
        frame = inbox.popleft()
        if frame[0] == "error":
            self._reap(worker)
            raise ImportWorkerError(f"import worker failed reading {reading}: {frame[1]}")
        return frame

    def _message(self, worker: int, reading: str) -> list[tuple[Any, ...]]:
        body = self._queues[worker].get()
        if body is None:
            status = self._reap(worker)
            raise ImportWorkerError(
                f"import worker process {self._pids[worker]} {_ended_how(status)} before it sent "
                f"{reading}; the calls read before it are stored whole, run the import again"
            )
        frames: list[tuple[Any, ...]] = pickle.loads(body)
        return frames

    def _reap(self, worker: int) -> int:
        if worker in self._ended:
            return 0
        self._ended.add(worker)
        _, status = os.waitpid(self._pids[worker], 0)
        return status

    def _stop_all(self) -> None:
        for worker, pid in enumerate(self._pids):
            if worker not in self._ended:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._reap(worker)
        for frames, thread in zip(self._queues, self._threads, strict=True):
            while thread.is_alive():  # a reader blocked on a full queue: make room
                with contextlib.suppress(queue.Empty):
                    frames.get(timeout=0.05)
            thread.join()


def _ended_how(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"was killed ({name})"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)}"
    return "ended"
