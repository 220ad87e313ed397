"""What the log importers read from and write to the database: request ids already stored (to
join copies of one call) and the ``import_state`` table (how far each log file was read).

Reads run on the importer's thread through its own read connection; ``save_import_state`` runs
on the writer thread (through ``Writer.call``), after the events read up to those offsets have
committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spendtray.store.db import Database

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
_RANGES_CHUNK = 5_000  # ranges per last_request_ids_between statement (one JSON text)


# For each (low, high) pair of the JSON array bound to it, in order: the greatest stored
# request id in [low, high). One statement for a batch's ranges: a query per range cost ~5 us
# of Python each (16k ranges in a 313 MB Claude Code import); SQLite walks them in one step.
# json_extract, not the ->> operator: that needs SQLite 3.38, and Python 3.11 on Ubuntu 22.04
# links the system's 3.37.
_LAST_IN_RANGES = (
    "SELECT (SELECT request_id FROM events WHERE request_id >= json_extract(r.value, '$[0]') "
    "AND request_id < json_extract(r.value, '$[1]') ORDER BY request_id DESC LIMIT 1) "
    "FROM json_each(?) AS r ORDER BY r.key"
)


def last_request_ids_between(
    conn: sqlite3.Connection, ranges: Sequence[tuple[str, str]]
) -> list[str | None]:
    """For each ``(low, high)`` of ``ranges``, in their order: the greatest stored request id
    with ``low <= id < high`` (a range scan of the unique index), or None."""
    found: list[str | None] = []
    for start in range(0, len(ranges), _RANGES_CHUNK):
        chunk = json.dumps(ranges[start : start + _RANGES_CHUNK])
        found.extend(
            None if key is None else str(key) for (key,) in conn.execute(_LAST_IN_RANGES, (chunk,))
        )
    return found


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
