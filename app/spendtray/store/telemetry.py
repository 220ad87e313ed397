"""Read look-ups the OTLP log and metric receivers need about sessions already stored. Any
thread, on that thread's own read connection (``Reader.conn``).

Both look only at events since a given time (``store.timed``: the time index of the folded
events plus the few not folded yet), so their cost follows the recent traffic, not the size of
the history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from spendtray.store.timed import between

# Request ids of usage windows built from counters (receivers.agent_metrics): not per-request.
COUNTER_KEY_PATTERN = "otlpm:%"
_CHUNK = 500


def _chunks(values: Collection[str]) -> list[list[str]]:
    ordered = sorted(values)
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


def sessions_with_calls(
    conn: sqlite3.Connection, sessions: Collection[str], since_ms: int
) -> set[str]:
    """Which of ``sessions`` have per-request events (anything but counter windows) since
    ``since_ms``."""
    found: set[str] = set()
    for chunk in _chunks(sessions):
        selected, params = between(
            "e.session",
            f"session IN ({', '.join('?' * len(chunk))}) "
            "AND (request_id IS NULL OR request_id NOT LIKE ?)",
            [*chunk, COUNTER_KEY_PATTERN],
            since_ms,
        )
        rows = conn.execute(f"SELECT DISTINCT session FROM ({selected})", params)
        found.update(str(row[0]) for row in rows)
    return found


def projects_of_sessions(
    conn: sqlite3.Connection, sessions: Collection[str], since_ms: int, default: str
) -> dict[str, str]:
    """The project each of ``sessions`` was stored under since ``since_ms`` (the latest one
    other than ``default``), for telemetry that names the session but not the project."""
    projects: dict[str, str] = {}
    for chunk in _chunks(sessions):
        selected, params = between(
            "{ts} AS ts, {id} AS id, e.session, e.project",
            f"session IN ({', '.join('?' * len(chunk))}) AND project != ?",
            [*chunk, default],
            since_ms,
            ordered=True,
        )
        rows = conn.execute(f"{selected} ORDER BY ts, id", params)
        for _, _, session, project in rows:
            projects[str(session)] = str(project)
    return projects
