"""The SQL of the outbound parts — the sync folder (``spendtray.sync``) and the OTLP export
(``spendtray.otlp_export``): this machine's events to send and how far each export got, where
each other machine's file was read up to, and what is known of each machine.

Reads run on the sync thread's own read connection; writes are functions the sync thread
hands to the writer thread (``Writer.call``), so the one-writer rule holds.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from spendtray.store.db import Database
from spendtray.store.rows import PRICE_FIELDS

EXPORTED_KEY = "sync_exported_id"  # the sync folder's export
OTLP_EXPORTED_KEY = "otlp_exported_id"  # the OTLP export's (spendtray.otlp_export)


def exported_through(conn: sqlite3.Connection, key: str = EXPORTED_KEY) -> int:
    """The highest event id an export (``key``) has sent on."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row is not None else 0


def set_exported_through(db: Database, event_id: int, key: str = EXPORTED_KEY) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, str(event_id)],
    )


def local_events_after(conn: sqlite3.Connection, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Events stored here first (not taken from another machine), above ``after_id``, in id
    order, with the fields of the price each was costed with."""
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            f"SELECT e.*, {', '.join(f'p.{f}' for f in PRICE_FIELDS)} FROM events e "
            "LEFT JOIN prices_used p ON p.id = e.price_id "
            "WHERE e.id > ? AND e.origin IS NULL ORDER BY e.id LIMIT ?",
            (after_id, limit),
        ).fetchall()
    finally:
        conn.row_factory = None
    return [dict(row) for row in rows]


def latest_event_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])


def file_states(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """Relative path -> (offset read up to, check of the line that ends there)."""
    return {
        str(path): (int(offset), str(crc))
        for path, offset, crc in conn.execute("SELECT path, offset, last_line_crc FROM sync_files")
    }


def save_file_state(
    db: Database, path: str, machine_id: str, offset: int, crc: str, bad: int, now_ms: int
) -> None:
    db.execute(
        "INSERT INTO sync_files (path, machine_id, offset, last_line_crc, bad_lines, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET offset = excluded.offset, "
        "last_line_crc = excluded.last_line_crc, "
        "bad_lines = sync_files.bad_lines + excluded.bad_lines, updated_at = excluded.updated_at",
        [path, machine_id, offset, crc, bad, now_ms],
    )


def save_machine(
    db: Database,
    machine_id: str,
    name: str,
    exported_at: int | None,
    received_at: int | None,
    records: int,
) -> None:
    db.execute(
        "INSERT INTO sync_machines (machine_id, name, exported_at, received_at, records) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (machine_id) DO UPDATE SET name = excluded.name, "
        "exported_at = coalesce(excluded.exported_at, sync_machines.exported_at), "
        "received_at = coalesce(excluded.received_at, sync_machines.received_at), "
        "records = sync_machines.records + excluded.records",
        [machine_id, name, exported_at, received_at, records],
    )


def machines(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every other machine seen in the sync folder, and the events stored per machine name."""
    known = [
        {
            "machine_id": machine_id,
            "name": name,
            "exported_at": exported_at,
            "received_at": received_at,
            "records": records,
        }
        for machine_id, name, exported_at, received_at, records in conn.execute(
            "SELECT machine_id, name, exported_at, received_at, records FROM sync_machines "
            "ORDER BY name"
        )
    ]
    return known


def bad_lines(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(sum(bad_lines), 0) FROM sync_files").fetchone()[0])
