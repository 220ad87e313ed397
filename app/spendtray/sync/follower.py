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
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from spendtray.store.db import Database
from spendtray.store.reader import Reader
from spendtray.store.rows import EventRow
from spendtray.store.sync_state import file_states, machines, save_file_state, save_machine
from spendtray.store.writer import WriteOutcome, Writer
from spendtray.sync.layout import (
    PRICES,
    EventsFile,
    events_files,
    other_machines,
    read_manifest,
)
from spendtray.sync.records import (
    BadRecord,
    UnknownPrice,
    checksum,
    decode,
    decode_price,
    split_line,
)

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
    """Rows read but not handed to the writer yet, batches handed but not committed yet, and
    the file offsets they take us to (saved once every batch before them has committed)."""

    rows: list[EventRow] = field(default_factory=list)
    states: dict[str, tuple[str, int, str, int]] = field(default_factory=dict)
    commits: list[Future[list[WriteOutcome]]] = field(default_factory=list)


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
        conn = self.reader.conn()
        states = file_states(conn)
        known = {m["machine_id"]: (m["name"], m["exported_at"]) for m in machines(conn)}
        pending = _Pending()
        for machine in other_machines(self.root, self.machine_id):
            name, exported_at = read_manifest(self.root, machine)
            before = report.records
            prices = self._prices(machine)
            for events_file in events_files(self.root, machine):
                self._read(events_file, states, pending, report, prices)
            read = report.records - before
            report.machines[machine] = read
            now = int(time.time() * 1000)
            self._flush(pending)
            if not read and known.get(machine) == (name, exported_at):
                continue  # an idle pass: nothing to write down
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

    def _prices(self, machine: str) -> dict[str, tuple[object, ...]]:
        """The prices a machine's events name, from every complete, checked line of its
        prices file (a few hundred lines at most: read whole each pass)."""
        found: dict[str, tuple[object, ...]] = {}
        try:
            data = (self.root / machine / PRICES).read_bytes()
        except FileNotFoundError:
            return found
        for line in data.split(b"\n")[:-1]:
            checked = split_line(line)
            if checked is None:
                continue
            try:
                key, fields = decode_price(checked)
            except BadRecord:
                continue
            found[key] = fields
        return found

    def _read(
        self,
        events_file: EventsFile,
        states: dict[str, tuple[int, str]],
        pending: _Pending,
        report: FollowReport,
        prices: dict[str, tuple[object, ...]],
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
                consumed, last_crc, bad = self._lines(
                    events_file.machine_id, lines, pending, report, prices
                )
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
                    self._hand_over(pending)

    def _lines(
        self,
        origin: str,
        lines: list[bytes],
        pending: _Pending,
        report: FollowReport,
        prices: dict[str, tuple[object, ...]],
    ) -> tuple[int, str, int]:
        """Decode complete lines; returns the bytes consumed (up to the last good line and the
        bad ones before it, or up to an event whose price has not arrived), the check of the
        last line taken, and the bad lines skipped."""
        checked = [split_line(line) for line in lines]
        last_good = max((i for i, data in enumerate(checked) if data is not None), default=-1)
        consumed = 0
        crc = ""
        bad = 0
        for i in range(last_good + 1):
            line, data = lines[i], checked[i]
            if data is None:
                consumed += len(line) + 1
                bad += 1
                continue
            try:
                _, row = decode(data, origin, prices)
            except UnknownPrice:
                break  # its price line is still on the way: this line again next pass
            except BadRecord as exc:
                consumed += len(line) + 1
                crc = checksum(data)
                bad += 1
                log.warning("sync: a record was skipped: %s", exc)
                continue
            consumed += len(line) + 1
            crc = checksum(data)
            pending.rows.append(row)
            report.records += 1
        return consumed, crc, bad

    def _hand_over(self, pending: _Pending) -> None:
        """Give the rows read so far to the writer and read on while it commits them (two
        batches in flight at most, so memory stays bounded)."""
        if pending.rows:
            pending.commits.append(self.writer.submit(pending.rows))
            pending.rows = []
        while len(pending.commits) > 2:
            pending.commits.pop(0).result()

    def _flush(self, pending: _Pending) -> None:
        """Commit everything read, then save the offsets it took us to."""
        self._hand_over(pending)
        for commit in pending.commits:
            commit.result()
        pending.commits = []
        if pending.states:
            now = int(time.time() * 1000)
            states = [
                (rel, machine, offset, crc, bad)
                for rel, (machine, offset, crc, bad) in pending.states.items()
            ]
            self.writer.call(partial(_save_states, states=states, now_ms=now))
        pending.states = {}


def _save_states(db: Database, states: list[tuple[str, str, int, str, int]], now_ms: int) -> None:
    for rel, machine, offset, crc, bad in states:
        save_file_state(db, rel, machine, offset, crc, bad, now_ms)
