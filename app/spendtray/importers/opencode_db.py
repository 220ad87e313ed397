"""OpenCode's SQLite store (``~/.local/share/opencode/opencode.db``, and ``opencode-<channel>.db``
for builds of other release channels) -> usage records. Runs on the importer's thread.

OpenCode 1.2 moved its sessions from ``storage/message/*.json`` files into this database (and
migrated the files it found into it, leaving them in place). Its ``message`` table keeps one row
per message: ``id``, ``session_id``, ``time_created`` and ``time_updated`` (epoch ms; every
upsert of the row sets ``time_updated``) and ``data``, the message document as JSON without its
``id`` and ``sessionID`` (those are the columns). The document is the one the JSON files hold,
so ``opencode.message_event`` reads it, and the key is the same ``opencode:<message id>``: a
message found in both places is one call.

Incremental: the parser remembers the highest ``time_updated`` it read and selects only rows
updated since then, less ``LAG`` (a writer stamps the time before it gets the write lock, so a
row can commit a little after a later-stamped one); rows re-read in that window whose
``time_updated`` is unchanged are skipped. The database is never written: it is opened with
``mode=ro`` while OpenCode runs (its ``-wal`` exists) and ``immutable=1`` when it does not
(``sqlite_rows``). OpenCode's ``-wal`` is watched too, so calls show up as OpenCode writes them,
not only when it checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from spendtray.importers.opencode_message import OPENCODE, PRIMARY_MODES, message_event
from spendtray.importers.parsing import Record
from spendtray.importers.source import FileJob
from spendtray.importers.sqlite_rows import database_of, select
from spendtray.ingest.event import EventError

LAG_MS = 60_000
COLUMNS = ("id", "session_id", "time_updated", "data")
# opencode.db, or opencode-<channel>.db for other release channels (e.g. opencode-dev.db)
DB_NAME = re.compile(r"^opencode(-[\w.-]+)?\.db$")


def is_database(path: str) -> bool:
    """OpenCode's database file or its ``-wal``."""
    return DB_NAME.match(Path(path.removesuffix("-wal")).name) is not None


def databases(folder: Path) -> list[Path]:
    """The databases in an OpenCode data folder (``opencode.db`` named even when absent), each
    followed by its ``-wal``."""
    found = {folder / "opencode.db"}
    with contextlib.suppress(OSError):  # no such folder: only the default name
        found.update(folder / n for n in os.listdir(folder) if DB_NAME.match(n) is not None)
    return [p for db in sorted(found) for p in (db, db.with_name(db.name + "-wal"))]


class MessageRows:
    """The ``message`` table of a store in OpenCode's schema, read from the last row read on
    (OpenCode's ``opencode.db``; Kilo CLI, a fork, keeps the same table in ``kilo.db``)."""

    def __init__(
        self,
        job: FileJob,
        source: str = OPENCODE,
        primary_modes: tuple[str, ...] = PRIMARY_MODES,
        total_fallback: bool = False,
    ) -> None:
        self.job = job
        self.records: list[Record] = []
        self.source = source
        self.primary_modes = primary_modes
        self.total_fallback = total_fallback

    def document(self, data: bytes) -> None:
        job = self.job
        db = database_of(job.path)
        # The database and its -wal are two files read in one pass: they share what was read.
        marks: dict[str, Any] = job.shared.setdefault(f"{self.source}.message_rows", {})
        mark, seen = _merge(job.context, marks.get(db))
        rows = select(
            job.path,
            "message",
            COLUMNS,
            job.stats,
            where="WHERE time_updated >= ? ORDER BY time_updated",
            required=("data",),
            params=(mark - LAG_MS if mark else 0,),
        )
        if rows is None:
            return  # counted as one bad record; nothing moves, the next change retries
        top = mark
        for row in rows:
            updated = row["time_updated"] if isinstance(row["time_updated"], int) else 0
            top = max(top, updated)
            if seen.get(row["id"]) == updated:
                continue  # read before, unchanged since
            seen[row["id"]] = updated
            self._row(db, row)
        window = top - LAG_MS
        state = {"updated": top, "seen": {k: v for k, v in seen.items() if v >= window}}
        job.context.clear()
        job.context.update(state)
        marks[db] = state

    def _row(self, db: str, row: dict[str, Any]) -> None:
        stats = self.job.stats
        stats.lines += 1
        try:
            message = json.loads(row["data"])
            if not isinstance(message, dict):
                raise ValueError("not a JSON object")
        except (TypeError, ValueError) as exc:
            stats.bad(db, 0, f"message {row['id']}: data is not a JSON object ({exc})")
            return
        try:
            event = message_event(
                message,
                self.job,
                source=self.source,
                primary_modes=self.primary_modes,
                message_id=row["id"],
                session=row["session_id"],
                total_fallback=self.total_fallback,
            )
        except EventError as exc:
            stats.bad(db, 0, f"message {row['id']}: {exc}")
            return
        if event is not None:
            self.records.append(Record(event))


def _merge(context: dict[str, Any], other: dict[str, Any] | None) -> tuple[int, dict[str, int]]:
    """The later of two high-water marks, and the rows seen by either."""
    mark, seen = _state(context)
    if other is not None:
        their_mark, their_seen = _state(other)
        mark = max(mark, their_mark)
        for key, updated in their_seen.items():
            seen[key] = max(updated, seen.get(key, updated))
    return mark, seen


def _state(context: dict[str, Any]) -> tuple[int, dict[str, int]]:
    mark = context.get("updated")
    seen = context.get("seen")
    return (
        mark if isinstance(mark, int) else 0,
        {k: v for k, v in seen.items() if isinstance(v, int)} if isinstance(seen, dict) else {},
    )
