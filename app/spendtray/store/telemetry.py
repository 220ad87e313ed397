"""Read look-ups the OTLP log and metric receivers need about sessions already stored. Any
thread, on that thread's own read connection (``Reader.conn``).

Both look only at events since a given time (the ``events_ts`` index), so their cost follows
the recent traffic, not the size of the history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

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
        rows = conn.execute(
            "SELECT DISTINCT session FROM events WHERE ts >= ? "
            f"AND session IN ({', '.join('?' * len(chunk))}) "
            "AND (request_id IS NULL OR request_id NOT LIKE ?)",
            [since_ms, *chunk, COUNTER_KEY_PATTERN],
        )
        found.update(str(row[0]) for row in rows)
    return found


def projects_of_sessions(
    conn: sqlite3.Connection, sessions: Collection[str], since_ms: int, default: str
) -> dict[str, str]:
    """The project each of ``sessions`` was stored under since ``since_ms`` (the latest one
    other than ``default``), for telemetry that names the session but not the project."""
    projects: dict[str, str] = {}
    for chunk in _chunks(sessions):
        rows = conn.execute(
            "SELECT session, project FROM events WHERE ts >= ? "
            f"AND session IN ({', '.join('?' * len(chunk))}) AND project != ? "
            "ORDER BY ts",
            [since_ms, *chunk, default],
        )
        for session, project in rows:
            projects[str(session)] = str(project)
    return projects
