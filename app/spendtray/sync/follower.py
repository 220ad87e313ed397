"""The other machines' events, read from their files in the sync folder the way the importers
follow agent logs: from where the last pass stopped, only complete lines whose check holds.
The sync thread.

A line is taken only when its newline has arrived and its check holds. A failing line with no
good line after it is a tail still being synced: reading stops before it and tries again next
pass. A failing line with good lines after it will never heal (a torn write the sync tool kept):
it is skipped and counted. A file that shrank, or whose line before the resume point is no
longer the one read there, was replaced by the sync tool: it is read again from the start, and
the keys make that store nothing twice. Rows are committed before the offsets that cover them,
so a crash re-reads, never skips.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from spendtray.store.reader import Reader
from spendtray.store.rows import EventRow
from spendtray.store.sync_state import file_states, save_file_state, save_machine
from spendtray.store.writer import Writer
from spendtray.sync.layout import EventsFile, events_files, other_machines, read_manifest
from spendtray.sync.records import BadRecord, checksum, decode, split_line

log = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024
COMMIT_ROWS = 20_000


@dataclass
class FollowReport:
    records: int = 0
    bad_lines: int = 0
    machines: dict[str, int] = field(default_factory=dict)  # machine id -> records read


@dataclass
class _Pending:
    """Rows read but not committed yet, and the file offsets they take us to."""

    rows: list[EventRow] = field(default_factory=list)
    states: dict[str, tuple[str, int, str, int]] = field(default_factory=dict)


def _resume_at(path: Path, offset: int, crc: str, size: int) -> int:
    """``offset`` if the file still holds, just before it, the line read there; else 0."""
    if offset <= 0 or offset > size:
        return 0
    with open(path, "rb") as handle:
        start = max(0, offset - 64 * 1024)
        handle.seek(start)
        before = handle.read(offset - start)
    if not before.endswith(b"\n"):
        return 0
    line = before[:-1].rsplit(b"\n", 1)[-1]
    data = split_line(line)
    return offset if data is not None and checksum(data) == crc else 0


class Follower:
    """Reads every other machine's files into this machine's database."""

    def __init__(self, root: Path, machine_id: str, reader: Reader, writer: Writer) -> None:
        self.root = root
        self.machine_id = machine_id
        self.reader = reader
        self.writer = writer

    def run(self) -> FollowReport:
        report = FollowReport()
        states = file_states(self.reader.conn())
        pending = _Pending()
        for machine in other_machines(self.root, self.machine_id):
            name, exported_at = read_manifest(self.root, machine)
            before = report.records
            for events_file in events_files(self.root, machine):
                self._read(events_file, states, pending, report)
            read = report.records - before
            report.machines[machine] = read
            now = int(time.time() * 1000)
            self._flush(pending)
            self.writer.call(
                partial(
                    save_machine,
                    machine_id=machine,
                    name=name,
                    exported_at=exported_at,
                    received_at=now if read else None,
                    records=read,
                )
            )
        self._flush(pending)
        return report

    def _read(
        self,
        events_file: EventsFile,
        states: dict[str, tuple[int, str]],
        pending: _Pending,
        report: FollowReport,
    ) -> None:
        rel = events_file.relative(self.root)
        try:
            size = os.stat(events_file.path).st_size
        except FileNotFoundError:
            return
        offset, crc = states.get(rel, (0, ""))
        if offset == size and offset > 0:
            return  # unchanged since the last pass: nothing read
        offset = _resume_at(events_file.path, offset, crc, size)
        with open(events_file.path, "rb") as handle:
            handle.seek(offset)
            carry = b""
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                data = carry + chunk
                lines = data.split(b"\n")
                carry = lines.pop()  # no newline yet: not a line
                consumed, last_crc, bad = self._lines(lines, pending, report)
                if consumed:
                    offset += consumed
                    crc = last_crc or crc
                    report.bad_lines += bad
                    earlier = pending.states.get(rel)
                    bad += earlier[3] if earlier is not None else 0
                    pending.states[rel] = (events_file.machine_id, offset, crc, bad)
                    states[rel] = (offset, crc)
                if consumed < len(data) - len(carry):
                    break  # a failing tail: read again next pass
                if len(pending.rows) >= COMMIT_ROWS:
                    self._flush(pending)

    def _lines(
        self, lines: list[bytes], pending: _Pending, report: FollowReport
    ) -> tuple[int, str, int]:
        """Decode complete lines; returns the bytes consumed (up to the last good line and the
        bad ones before it), the check of the last good line, and the bad lines skipped."""
        checked = [split_line(line) for line in lines]
        last_good = max((i for i, data in enumerate(checked) if data is not None), default=-1)
        consumed = 0
        crc = ""
        bad = 0
        for i in range(last_good + 1):
            line, data = lines[i], checked[i]
            consumed += len(line) + 1
            if data is None:
                bad += 1
                continue
            crc = checksum(data)
            try:
                origin, _, row = decode(data)
            except BadRecord as exc:
                bad += 1
                log.warning("sync: a record was skipped: %s", exc)
                continue
            if origin == self.machine_id:
                continue  # this machine's own record in another folder: ours already
            pending.rows.append(row)
            report.records += 1
        return consumed, crc, bad

    def _flush(self, pending: _Pending) -> None:
        if pending.rows:
            self.writer.write(pending.rows, timeout=None)
        for rel, (machine, offset, crc, bad) in pending.states.items():
            now = int(time.time() * 1000)
            self.writer.call(
                partial(
                    save_file_state,
                    path=rel,
                    machine_id=machine,
                    offset=offset,
                    crc=crc,
                    bad=bad,
                    now_ms=now,
                )
            )
        pending.rows = []
        pending.states = {}
