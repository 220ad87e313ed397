"""What the log importers read from and write to the database: request ids already stored (to
join copies of one call) and the ``import_state`` table (how far each log file was read).

Reads run on the importer's thread through its own read connection; ``save_import_state`` runs
on the writer thread (through ``Writer.call``), after the events read up to those offsets have
committed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

# One import_state row: path, kind, inode, size, mtime_ns, offset, head_hash, context (JSON),
# malformed (lines), problem (text or None).
ImportStateRow = tuple[str, str, int, int, int, int, str, str, int, str | None]

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
_IN_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


def last_request_id_between(conn: sqlite3.Connection, low: str, high: str) -> str | None:
    """The greatest stored request id with ``low <= id < high`` (a range scan of the unique
    index), or None."""
    row = conn.execute(
        "SELECT request_id FROM events WHERE request_id >= ? AND request_id < ? "
        "ORDER BY request_id DESC LIMIT 1",
        (low, high),
    ).fetchone()
    return None if row is None else str(row[0])


def stored_request_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored."""
    found: set[str] = set()
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        cursor = conn.execute(
            f"SELECT request_id FROM events WHERE request_id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        found.update(str(key) for (key,) in cursor)
    return found


def load_import_state(conn: sqlite3.Connection, kind: str) -> list[ImportStateRow]:
    return list(
        conn.execute(
            "SELECT path, kind, inode, size, mtime_ns, offset, head_hash, context, malformed, "
            "problem FROM import_state WHERE kind = ?",
            (kind,),
        )
    )


def save_import_state(
    db: Database, rows: Iterable[tuple[object, ...]], forget: Iterable[str] = ()
) -> None:
    """Upsert ``rows`` (path … context, ``updated_at`` ms, malformed, problem) and drop the rows of
    ``forget`` (files that no longer exist), in the caller's transaction (writer thread)."""
    conn = db.conn
    conn.executemany(_UPSERT, list(rows))
    conn.executemany("DELETE FROM import_state WHERE path = ?", [(path,) for path in forget])
