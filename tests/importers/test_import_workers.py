"""A big import read by forked worker processes (importers/workers.py) stores exactly what one
process stores: the same event rows in the same order, the same file cursors, the same counts,
on the real Claude Code and Codex corpora (read in place, with small batches so that copies of
one call meet across batches). A worker that dies or fails stops the pass with an error that
names it, leaves only whole batches stored, and the next pass completes the import.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from logfactory import cc_assistant, cc_usage, write_lines
from loggen import generate_claude
from logscenarios import write_claude

from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.importers import Importer
from spendtray.importers import workers as workers_module
from spendtray.importers.claude_code import ClaudeCodeParser
from spendtray.importers.runner import ImportReport
from spendtray.importers.source import DOCUMENT
from spendtray.importers.workers import ImportWorkerError, plan_shares

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
CORPUS = {"claude-code": CORPORA / "claude_code", "codex": CORPORA / "codex"}
BATCH = 40  # small: many batches, so copies of a call are merged across them too

pytestmark = [
    pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora is not here"),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork"),
]


@pytest.fixture
def other_core(tmp_path: Path) -> Iterator[Core]:
    """A second store (its own SQLite file and writer) for the worker-read copy."""
    core = Core(load_settings(home=tmp_path / "other-home", port=0))
    core.start_store()
    try:
        yield core
    finally:
        core.stop()


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the workers started."""
    pids: list[int] = []
    start = workers_module._start_worker

    def counted(*args: Any) -> tuple[int, int]:
        pid, fd = start(*args)
        pids.append(pid)
        return pid, fd

    monkeypatch.setattr(workers_module, "_start_worker", counted)
    return pids


def _importer(
    core: Core, kind: str, workers: int, path: Path | None = None, **kwargs: Any
) -> Importer:
    return Importer(
        core.ingest.ingest_events,
        core.writer,
        core.settings.db_path,
        kind,
        [path or CORPUS[kind]],
        batch_events=BATCH,
        workers=workers,
        worker_min_bytes=0,
        **kwargs,
    )


def _run(
    core: Core, kind: str, workers: int, path: Path | None = None, **kwargs: Any
) -> ImportReport:
    importer = _importer(core, kind, workers, path, **kwargs)
    try:
        return importer.run()
    finally:
        importer.close()


def _rows(core: Core, table: str, leave_out: tuple[str, ...]) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(core.settings.db_path)
    try:
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY 1")
        names = [d[0] for d in cursor.description]
        keep = [i for i, name in enumerate(names) if name not in leave_out]
        return sorted((tuple(row[i] for i in keep) for row in cursor), key=repr)
    finally:
        conn.close()


def _events(core: Core) -> list[tuple[Any, ...]]:
    """Every column but the receive time, in row id order (the order of storing)."""
    return sorted(_rows(core, "events", ("received_at",)), key=lambda row: row[0])


def _calls(core: Core) -> set[tuple[Any, ...]]:
    """The events without their row ids (for stores filled in different passes)."""
    return {row[1:] for row in _events(core)}


def _count_priced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """[calls received priced from workers], kept up to date."""
    received = [0]
    decode = workers_module.decode_priced

    def counted(items: list[tuple[Any, ...]]) -> list[workers_module.Priced]:
        received[0] += len(items)
        return decode(items)

    monkeypatch.setattr(workers_module, "decode_priced", counted)
    return received


def _report(report: ImportReport) -> dict[str, Any]:
    fields = dataclasses.asdict(report)
    del fields["seconds"]
    del fields["stats"]["last_problem"]
    return fields


@pytest.mark.parametrize("corpus", ["claude-code", "codex", "generated"])
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_store_what_one_process_stores(
    core: Core,
    other_core: Core,
    corpus: str,
    workers: int,
    forks: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real corpora, and generated Claude Code logs (streaming snapshots, side-chain
    replays in sub-agent files, lines without a request id) with the hand-written scenarios
    (bad lines, a call repeated in another project)."""
    kind, path = corpus, None
    if corpus == "generated":
        kind, path = "claude-code", tmp_path / "generated"
        generate_claude(path, 3_000_000)
        write_claude(path)
    alone = _run(core, kind, 0, path)
    assert forks == []
    # With 2 workers they also price what they read (the command's way, Importer.for_core);
    # with 3 they send records and this process prices them.
    pricing = {"ingest": other_core.ingest} if workers == 2 else {}
    received = _count_priced(monkeypatch)
    shared = _run(other_core, kind, workers, path, **pricing)
    assert len(forks) == workers
    assert (received[0] > 0) == bool(pricing)
    assert alone.stored > 50 and alone.duplicates > 0
    assert _report(shared) == _report(alone)
    assert _events(other_core) == _events(core)
    assert _rows(other_core, "import_state", ("updated_at",)) == _rows(
        core, "import_state", ("updated_at",)
    )
    if kind == "codex":
        assert _rows(other_core, "limit_observations", ()) == _rows(core, "limit_observations", ())
    # The offsets the workers reached are the importer's: the next pass reads nothing.
    again = _run(other_core, kind, workers, path, **pricing)
    assert (again.files_read, again.bytes_read, again.stored) == (0, 0, 0)
    assert len(forks) == workers
    if path is not None:
        # Appended calls, a copy of a stored one and a half-written line: both read from the
        # stored offsets, and agree again.
        files = sorted(path.rglob("*.jsonl"))
        for n, log in enumerate(files[::3]):
            usage = cc_usage(10 + n, 20 + n, cache_read=30)
            lines = [
                cc_assistant(f"2026-02-0{1 + n % 9}T10:00:00Z", f"late-{n}", f"msg-late-{n}",
                             f"req-late-{n}", usage),
                cc_assistant(f"2026-02-0{1 + n % 9}T10:00:01Z", f"late-{n}", f"msg-late-{n}",
                             None, usage),
            ]  # fmt: skip
            write_lines(log, lines, mode="a")
            with log.open("a") as handle:
                handle.write('{"type": "assistant", "message": {"usage": {"input_')
        later = _run(core, kind, 0, path)
        later_shared = _run(other_core, kind, workers, path, **pricing)
        assert len(forks) == 2 * workers and later.files_read == len(files[::3])
        assert later.stored > 0 and later.duplicates > 0
        assert _report(later_shared) == _report(later)
        assert _events(other_core) == _events(core)
        assert _rows(other_core, "import_state", ("updated_at",)) == _rows(
            core, "import_state", ("updated_at",)
        )
        # A bigger copy without a request id of a call stored by the pass before: the merge
        # gives it the stored call's key (a worker's priced row too), so it replaces it.
        for n, log in enumerate(files[::3]):
            with log.open("a") as handle:
                handle.write("\n")  # ends the half-written line
            usage = cc_usage(10 + n, 90 + n, cache_read=30)
            line = cc_assistant(f"2026-02-0{1 + n % 9}T10:00:02Z", f"late-{n}", f"msg-late-{n}",
                                None, usage)  # fmt: skip
            write_lines(log, [line], mode="a")
        last = _run(core, kind, 0, path)
        last_shared = _run(other_core, kind, workers, path, **pricing)
        assert last.stored == 0 and last.duplicates == len(files[::3])
        assert _report(last_shared) == _report(last)
        assert _events(other_core) == _events(core)


def _fail_in_worker(monkeypatch: pytest.MonkeyPatch, victim: str, how: str) -> None:
    """Makes the worker that reads ``victim`` die (SIGKILL) or raise on its first block."""
    parent = os.getpid()
    feed = ClaudeCodeParser.feed_block

    def failing(self: ClaudeCodeParser, block: bytes, offset: int) -> None:
        if os.getpid() != parent and self.path == victim:
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("boom")
        feed(self, block, offset)

    monkeypatch.setattr(ClaudeCodeParser, "feed_block", failing)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("killed", r"import worker process \d+ was killed \(SIGKILL\) before it sent (.+?);"),
        ("raises", r"import worker failed reading {}: RuntimeError: boom"),
    ],
)
def test_a_failing_worker_stops_the_pass_with_whole_batches_stored(
    core: Core,
    other_core: Core,
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
    how: str,
    message: str,
) -> None:
    complete = _run(core, "claude-code", 0)
    # A message per record: the merge gets the worker's frames as soon as they are read, so
    # some batches are stored before the worker fails.
    monkeypatch.setattr(workers_module, "MESSAGE_RECORDS", 1)
    importer = _importer(other_core, "claude-code", 2)
    files = importer.scan(ImportReport("claude-code")).changed
    victim = files[len(files) // 2].path
    _fail_in_worker(monkeypatch, victim, how)
    with pytest.raises(ImportWorkerError, match=message.format(re.escape(victim))) as failed:
        importer.run()
    # A killed worker's last frames die with it: the file named is the victim or one it read
    # just before.
    named = re.search(message.format(re.escape(victim)), str(failed.value))
    assert named is not None
    if how == "killed":
        assert named.group(1) in [f.path for f in files[: len(files) // 2 + 1]]
    importer.close()
    # Every worker is gone and reaped (no zombie: signal 0 finds no such process).
    for pid in forks:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    stored = _calls(other_core)
    assert 0 < len(stored) < complete.stored
    assert stored <= _calls(core)  # whole calls of earlier batches, nothing half-merged
    monkeypatch.undo()
    rest = _run(other_core, "claude-code", 2)
    assert rest.stored == complete.stored - len(stored)
    assert _calls(other_core) == _calls(core)


def test_a_slow_store_holds_the_workers_back(
    core: Core, other_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message of one record queued per worker and a store that takes its time: the
    workers wait on their pipes (memory stays bounded) and the pass still ends with every
    call."""
    monkeypatch.setattr(workers_module, "QUEUED_MESSAGES", 1)
    monkeypatch.setattr(workers_module, "MESSAGE_RECORDS", 1)
    alone = _run(core, "claude-code", 0)
    ingest = other_core.ingest.ingest_events

    def slow(events: Any) -> Any:
        time.sleep(0.01)
        return ingest(events)

    importer = Importer(
        slow,
        other_core.writer,
        other_core.settings.db_path,
        "claude-code",
        [CORPUS["claude-code"]],
        batch_events=BATCH,
        workers=2,
        worker_min_bytes=0,
    )
    try:
        report = importer.run()
    finally:
        importer.close()
    assert _report(report) == _report(alone)
    assert _events(other_core) == _events(core)


@pytest.mark.parametrize("priced", [True, False])
def test_a_worker_sends_about_message_records_calls_a_message(
    core: Core, other_core: Core, priced: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every message but a worker's last carries MESSAGE_RECORDS calls or more (or
    MESSAGE_FRAMES frames), whether the worker priced them (its rows marshalled into bytes)
    or not: not one message per file read."""
    monkeypatch.setattr(workers_module, "MESSAGE_RECORDS", 100)
    messages: dict[int, list[tuple[int, int]]] = {}
    take = workers_module.WorkerReads._message

    def counted(self: Any, worker: int, reading: str) -> list[tuple[Any, ...]]:
        frames = take(self, worker, reading)
        calls = 0
        for frame in frames:
            if frame[0] == "priced":
                calls += len(workers_module.marshal.loads(frame[2]))
            elif frame[0] == "step":
                calls += len(frame[2])
        messages.setdefault(worker, []).append((calls, len(frames)))
        return frames

    monkeypatch.setattr(workers_module.WorkerReads, "_message", counted)
    pricing = {"ingest": other_core.ingest} if priced else {}
    report = _run(other_core, "claude-code", 2, **pricing)
    assert report.stored > 300 and set(messages) == {0, 1}
    for sent in messages.values():
        for calls, frames in sent[:-1]:
            assert calls >= 100 or frames >= workers_module.MESSAGE_FRAMES, sent
    assert sum(calls for sent in messages.values() for calls, _ in sent) == report.stored + (
        report.duplicates - report.stats.repeated_copies - report.stats.folded_copies
    )


def test_small_passes_documents_and_one_cpu_are_read_in_process(
    core: Core, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    importer = _importer(core, "claude-code", 2)
    changed = importer.scan(ImportReport("claude-code")).changed
    owners = plan_shares(importer, changed)
    assert owners is not None and set(owners) == {0, 1}
    # A top folder (a project) is read by one worker: its parsers' caches see its files.
    by_folder: dict[str, set[int]] = {}
    folder_bytes: dict[str, int] = {}
    for item, owner in zip(changed, owners, strict=True):
        top = Path(item.path).relative_to(item.root.path).parts[0]
        by_folder.setdefault(top, set()).add(owner)
        folder_bytes[top] = folder_bytes.get(top, 0) + item.st.st_size
    assert all(len(owner) == 1 for owner in by_folder.values())
    load = [
        sum(c.st.st_size for c, o in zip(changed, owners, strict=True) if o == w) for w in (0, 1)
    ]
    assert max(load) - min(load) <= max(folder_bytes.values())  # dealt to the lighter one
    importer.worker_min_bytes = sum(c.st.st_size for c in changed) + 1
    assert plan_shares(importer, changed) is None
    importer.worker_min_bytes = 0
    lines_source = importer.source
    importer.source = dataclasses.replace(lines_source, mode=DOCUMENT)
    assert plan_shares(importer, changed) is None  # whole documents: read in-process
    importer.source = lines_source
    importer.close()
    monkeypatch.setenv(workers_module.WORKERS_ENV, "0")
    auto = _importer(core, "claude-code", None)  # type: ignore[arg-type]
    assert plan_shares(auto, changed) is None
    auto.close()
    monkeypatch.setenv(workers_module.WORKERS_ENV, "1")
    assert workers_module.worker_count() == 1


@pytest.mark.parametrize(
    ("cpus", "busy", "configured", "expected"),
    [
        (2, 1, "", 2),  # only this thread running: one worker per CPU
        (2, 2, "", 0),  # another thread wants the second core: in-process
        (8, 7, "", 8),
        (8, 8, "", 0),
        (1, 1, "", 0),  # one CPU
        (2, 6, "2", 2),  # configured: whatever the load
        (4, 1, "1", 1),
        (4, 1, "0", 0),
    ],
)
def test_workers_run_with_a_core_to_spare(
    monkeypatch: pytest.MonkeyPatch, cpus: int, busy: float, configured: str, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)))
    monkeypatch.setattr(workers_module, "busy_cpus", lambda: busy)
    monkeypatch.setenv(workers_module.WORKERS_ENV, configured)
    assert workers_module.worker_count() == expected


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="Linux's /proc/loadavg")
def test_busy_cpus_counts_the_threads_running_now() -> None:
    """This thread runs while it asks: at least 1; a spinning child adds one (on a machine
    where nothing else runs, exactly; elsewhere the lowest of the looks is at least that)."""
    assert workers_module.busy_cpus() >= 1
    pid = os.fork()
    if pid == 0:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            pass
        os._exit(0)
    try:
        time.sleep(0.05)
        assert workers_module.busy_cpus() >= 2
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_a_refused_fork_reads_in_this_process(
    core: Core, other_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second fork fails (no process or memory left): the first worker is stopped and
    the pass reads every file here, with the same result."""
    alone = _run(core, "claude-code", 0)
    fork = os.fork
    calls: list[int] = []

    def refusing() -> int:
        calls.append(1)
        if len(calls) == 2:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return fork()

    monkeypatch.setattr(os, "fork", refusing)
    shared = _run(other_core, "claude-code", 2)
    assert len(calls) == 2
    assert _report(shared) == _report(alone)
    assert _events(other_core) == _events(core)
