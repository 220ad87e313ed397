"""Opening the database: WAL, pragmas, migrations. Called by whichever thread will own the
connection (the writer thread for the write connection, each reader for its own)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from spendtray.private_files import private_dir, private_file

BUCKET_SECONDS = 15 * 60
WRITER_CACHE_KIB = 64 * 1024
T = TypeVar("T")


class Database:
    """The write connection as ``Writer.call`` functions take it: the connection and
    ``execute``, all they use. (Migrations are given sqlite-utils' ``Database``, which is
    imported only when one is pending: ``store.migrate``.)"""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, parameters)


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return conn


def open_for_writing(
    path: Path, durability: str = "normal", machine: str | None = None
) -> Database:
    """The one write connection: creates the file, applies migrations, sets WAL. ``machine``
    (this machine's name) is what events stored before migration 0007 are given."""
    from spendtray.store.migrations import migrations

    private_dir(path.parent)
    private_file(path)  # SQLite gives the WAL and shared-memory files the database's mode
    conn = _connect(path, readonly=False)
    _use_wal(conn)
    # NORMAL: a committed transaction survives the process being killed (the WAL is in the OS);
    # FULL also survives power loss, at the price of an fsync per commit.
    conn.execute(f"PRAGMA synchronous = {'FULL' if durability == 'full' else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Checkpoints run on the writer thread after each rollup fold, not inside an ingest COMMIT.
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("PRAGMA temp_store = MEMORY")  # the rollup fold's staging table
    # Inserts and rollup folds with timestamps spread over months touch pages all over the
    # indexes and rollup tables; SQLite's default 2 MB cache re-read them from the OS for each
    # batch. 64 MB (allocated only as used) halved a 1,000-event insert + fold at 150k events.
    conn.execute(f"PRAGMA cache_size = {-WRITER_CACHE_KIB}")
    db = Database(conn)
    if machine is not None and _has_table(conn, "meta"):
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('machine', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [machine],
        )
    migrations.apply(db)
    return db


# How long openers of a new file wait for each other to set WAL (as busy_timeout, 30 s).
WAL_SWITCH_SECONDS = 30.0


def _use_wal(conn: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds a lock. A new
    file is switched to WAL by its first opener; the switch takes an exclusive lock and
    SQLite answers "database is locked" at once instead of calling the busy handler, so two
    processes (the app and an import) opening a new file at the same moment failed: 10 of 60
    rounds of four threads did here. Once the file is in WAL, the pragma changes nothing and
    takes no such lock."""
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    pause = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


def open_for_checkpoints(path: Path) -> sqlite3.Connection:
    """The writer thread's second connection: WAL checkpoints only, so copying the WAL into
    the database does not hold the write connection."""
    return _connect(path, readonly=False)


def open_for_reading(path: Path) -> sqlite3.Connection:
    """A read-only connection for one reader thread."""
    return _connect(path, readonly=True)


def ensure_schema(path: Path, machine: str | None = None) -> None:
    """Create/migrate the database file without keeping a connection (CLI, tests)."""
    db = open_for_writing(path, machine=machine)
    db.conn.close()


def write_once(
    path: Path,
    durability: str,
    fn: Callable[[sqlite3.Connection], T],
    machine: str | None = None,
) -> T:
    """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction on a short-lived write connection
    (commands that run without the app, whose writer thread may not be running)."""
    db = open_for_writing(path, durability, machine)
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result
    finally:
        conn.close()
