"""What the import_state table says per source: files imported, the last import, bad lines.
Read through any read connection; the caller's thread (``spendtray sources``, the dashboard).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class ImportStatus:
    files: int
    last_import_ms: int | None
    malformed: int
    problem: str | None  # the latest bad line's problem, with its file


def import_status(conn: sqlite3.Connection) -> dict[str, ImportStatus]:
    """Per source name (import_state.kind)."""
    out: dict[str, ImportStatus] = {}
    rows = conn.execute(
        "SELECT kind, COUNT(*), MAX(updated_at), SUM(malformed) FROM import_state GROUP BY kind"
    )
    for kind, files, last, malformed in rows.fetchall():
        latest = conn.execute(
            "SELECT path, problem FROM import_state WHERE kind = ? AND problem IS NOT NULL "
            "ORDER BY updated_at DESC LIMIT 1",
            (kind,),
        ).fetchone()
        problem = f"{latest[0]} @ {latest[1]}" if latest else None
        out[str(kind)] = ImportStatus(int(files), last, int(malformed or 0), problem)
    return out
