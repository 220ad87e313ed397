"""The ``import_state`` table: how far each log file was imported. Loaded on the importer's
thread through a read-only connection; saved on the writer thread through ``Writer.call``,
always after the events read up to that offset have committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from sqlite_utils import Database

from spendtray.importers.tail import FileCursor
from spendtray.store.writer import Writer

_UPSERT = """
INSERT INTO import_state (path, kind, inode, size, mtime_ns, offset, head_hash, context,
    updated_at, malformed, problem)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (path) DO UPDATE SET
    kind = excluded.kind, inode = excluded.inode, size = excluded.size,
    mtime_ns = excluded.mtime_ns, offset = excluded.offset, head_hash = excluded.head_hash,
    context = excluded.context, updated_at = excluded.updated_at,
    malformed = excluded.malformed, problem = excluded.problem
"""


def load_cursors(conn: sqlite3.Connection, kind: str) -> dict[str, FileCursor]:
    rows = conn.execute(
        "SELECT path, kind, inode, size, mtime_ns, offset, head_hash, context, malformed, "
        "problem FROM import_state WHERE kind = ?",
        (kind,),
    )
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
    writer: Writer, cursors: Iterable[FileCursor], now_ms: int, forget: Iterable[str] = ()
) -> None:
    """Upsert ``cursors`` and drop the rows of files that no longer exist, in one transaction."""
    rows = [
        (
            c.path,
            c.kind,
            c.inode,
            c.size,
            c.mtime_ns,
            c.offset,
            c.head_hash,
            json.dumps(c.context, separators=(",", ":")),
            now_ms,
            c.malformed,
            c.problem,
        )
        for c in cursors
    ]
    gone = [(path,) for path in forget]
    if not rows and not gone:
        return

    def apply(db: Database) -> None:
        if rows:
            db.conn.executemany(_UPSERT, rows)
        if gone:
            db.conn.executemany("DELETE FROM import_state WHERE path = ?", gone)

    writer.call(apply)
