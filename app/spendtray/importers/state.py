"""File cursors (how far each log file was imported) to and from the ``import_state`` table
(``store.imports``). Loaded on the importer's thread through a read-only connection; saved on
the writer thread through ``Writer.call``, always after the events read up to that offset have
committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from spendtray.importers.tail import FileCursor
from spendtray.store.imports import load_import_state, save_import_state

if TYPE_CHECKING:
    from concurrent.futures import Future

    from spendtray.store.db import Database
    from spendtray.store.writer import Writer


# json.dumps(..., separators=...) builds an encoder per call: per file of a first import.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def load_cursors(conn: sqlite3.Connection, kind: str) -> dict[str, FileCursor]:
    rows = load_import_state(conn, kind)
    out: dict[str, FileCursor] = {}
    for path, k, inode, size, mtime_ns, offset, head, context, malformed, problem in rows:
        try:
            ctx = json.loads(context)
        except ValueError:
            ctx = {}
        out[path] = FileCursor(
            path,
            k,
            inode,
            size,
            mtime_ns,
            offset,
            head,
            ctx if isinstance(ctx, dict) else {},
            malformed,
            problem,
        )
    return out


def save_cursors(
    writer: Writer,
    cursors: Iterable[FileCursor],
    now_ms: int,
    forget: Iterable[str] = (),
    after: Sequence[Future[Any]] = (),
) -> Future[object] | None:
    """Upsert ``cursors`` and drop the rows of files that no longer exist, in one transaction;
    with jobs ``after``, only once they all committed (None returned: saved already)."""
    rows = [
        (
            c.path,
            c.kind,
            c.inode,
            c.size,
            c.mtime_ns,
            c.offset,
            c.head_hash,
            _COMPACT.encode(c.context) if c.context else "{}",
            now_ms,
            c.malformed,
            c.problem,
        )
        for c in cursors
    ]
    gone = list(forget)
    if not rows and not gone:
        return None
    if not after:
        writer.call(lambda db: save_import_state(db, rows, gone))
        return None

    def save(db: Database) -> None:
        # The events these offsets cover must have committed first (the writer runs its
        # queue in order, but a job retried after a held lock goes behind this call).
        if not all(job.done() and job.exception() is None for job in after):
            raise RuntimeError("the events before these offsets were not stored")
        save_import_state(db, rows, gone)

    return writer.submit_call(save)
