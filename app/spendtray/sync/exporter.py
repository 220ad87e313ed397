"""This machine's committed events, appended to its own files in the sync folder. The sync
thread.

Only events stored here first are written (``origin`` NULL): what came from another machine is
that machine's to write. Each pass appends every event above the exported id in one write,
flushes it to disk, and only then records the new exported id — so a kill between the two
writes some records twice (readers store them once, by key) and never skips one. A kill in the
middle of a write leaves a last line without its newline: the next start cuts it off before
appending, since only this machine writes here.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from spendtray.store.reader import Reader
from spendtray.store.sync_state import exported_through, local_events_after, set_exported_through
from spendtray.store.writer import Writer
from spendtray.sync.layout import PRICES, ROTATE_BYTES, events_files, own_file, write_manifest
from spendtray.sync.records import encode, encode_price, price_fields, split_line

BATCH = 5_000


def _append(path: Path, data: bytes) -> None:
    """One write of ``data`` at the end of ``path``, on disk before this returns."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _cut_partial_tail(path: Path) -> None:
    """Drop a last line that a killed write left without its newline."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "rb+") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        block = 64 * 1024
        end = size
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            chunk = handle.read(end - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                handle.truncate(start + cut + 1)
                return
            end = start
        handle.truncate(0)


class Exporter:
    """Appends this machine's new events to ``<root>/<machine id>/events-NNNNNN.jsonl``."""

    def __init__(
        self, root: Path, machine_id: str, machine_name: str, reader: Reader, writer: Writer
    ) -> None:
        self.root = root
        self.machine_id = machine_id
        self.machine_name = machine_name
        self.reader = reader
        self.writer = writer
        self._current: Path | None = None
        self._prices: set[str] | None = None  # price keys in our prices.jsonl

    def _known_prices(self) -> set[str]:
        if self._prices is None:
            path = self.root / self.machine_id / PRICES
            path.parent.mkdir(parents=True, exist_ok=True)
            _cut_partial_tail(path)
            known: set[str] = set()
            if path.exists():
                for line in path.read_bytes().split(b"\n"):
                    data = split_line(line)
                    if data is not None:
                        import orjson

                        known.add(str(orjson.loads(data).get("k")))
            self._prices = known
        return self._prices

    def _file(self) -> Path:
        if self._current is None:
            own = [f for f in events_files(self.root, self.machine_id) if not f.conflict_copy]
            number = own[-1].number if own else 1
            self._current = own_file(self.root, self.machine_id, number)
            self._current.parent.mkdir(parents=True, exist_ok=True)
            _cut_partial_tail(self._current)
        return self._current

    def _rotate_if_full(self, path: Path) -> Path:
        try:
            full = path.stat().st_size >= ROTATE_BYTES
        except FileNotFoundError:
            full = False
        if not full:
            return path
        number = int(path.stem.split("-")[1]) + 1
        self._current = own_file(self.root, self.machine_id, number)
        return self._current

    def run(self) -> int:
        """Export every new local event; returns how many. Writes the manifest each pass, so
        the other machines see when this one last synced."""
        conn = self.reader.conn()
        cursor = exported_through(conn)
        exported = 0
        path = self._file()
        while True:
            rows = local_events_after(conn, cursor, BATCH)
            if not rows:
                break
            known = self._known_prices()
            new_prices: list[bytes] = []
            lines: list[bytes] = []
            for row in rows:
                fields = price_fields(row)
                key = None
                if fields is not None:
                    key, line = encode_price(fields)
                    if key not in known:
                        known.add(key)
                        new_prices.append(line)
                lines.append(encode(row, key))
            if new_prices:  # before the events that name them
                _append(self.root / self.machine_id / PRICES, b"".join(new_prices))
            path = self._rotate_if_full(path)
            _append(path, b"".join(lines))
            cursor = int(rows[-1]["id"])
            self.writer.call(partial(set_exported_through, event_id=cursor))
            exported += len(rows)
        write_manifest(self.root, self.machine_id, self.machine_name)
        return exported
