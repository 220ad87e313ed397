"""Reading an agent's SQLite store read-only, for the sources that keep usage in a database
(Hermes, Kilo CLI, ZCode, Antigravity). Runs on the importer's thread.

The framework hands such a source the database as a document (re-read when the file or its
``-wal`` changed); these helpers open it with ``mode=ro`` — the agent may be writing it
meanwhile, which only changes what the next pass sees — and select the columns a source wants,
``NULL`` for the ones an older schema lacks. A WAL database with no ``-wal`` beside it (the
agent is not running: the main file holds everything) is opened with ``immutable=1``, so the
read takes no lock and leaves no ``-wal``/``-shm`` behind in the agent's folder. A file that is
not a database, or a table that cannot be read, is one bad record naming the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import ParseStats


def database_of(path: str) -> str:
    """The database a watched file belongs to (its ``-wal`` names the same database)."""
    return path.removesuffix("-wal")


def select(
    path: str,
    table: str,
    columns: tuple[str, ...],
    stats: ParseStats,
    where: str = "",
    required: tuple[str, ...] = (),
    params: tuple[Any, ...] = (),
) -> list[dict[str, Any]] | None:
    """Every row of ``table`` as a dict of ``columns`` (missing ones None); None, with the
    problem counted in ``stats``, when the database cannot be read. A database without the
    table (or without a ``required`` column) holds nothing yet: an empty list.

    An agent holding its database locked (or a read-only folder where SQLite cannot make the
    ``-shm`` file a WAL reader needs) is read again with ``immutable=1``: no locks taken, what
    the main file holds; the next pass sees the rest."""
    db = database_of(path)
    uri = Path(db).absolute().as_uri() + "?mode=ro"
    if _wal_without_log(db):
        uri += "&immutable=1"
    try:
        return _rows(uri, table, columns, where, required, params)
    except sqlite3.OperationalError as exc:
        if not str(exc).startswith(HELD):
            stats.bad(db, 0, f"cannot read the {table} table ({exc})")
            return None
    except sqlite3.Error as exc:
        stats.bad(db, 0, f"cannot read the {table} table ({exc})")
        return None
    try:
        return _rows(uri + "&immutable=1", table, columns, where, required, params)
    except sqlite3.Error as exc:
        stats.bad(db, 0, f"cannot read the {table} table ({exc})")
        return None


# How SQLite says another process holds the database (or the -shm cannot be made).
HELD = ("database is locked", "unable to open database file", "attempt to write a readonly")


def _wal_without_log(db: str) -> bool:
    """A WAL-mode database (header bytes 18-19 are 2) with no ``-wal`` file beside it."""
    try:
        with open(db, "rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return header[18:20] == b"\x02\x02" and not Path(db + "-wal").exists()


def _rows(
    uri: str,
    table: str,
    columns: tuple[str, ...],
    where: str,
    required: tuple[str, ...],
    params: tuple[Any, ...],
) -> list[dict[str, Any]]:
    conn = sqlite3.connect(uri, uri=True, timeout=1)
    try:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not have or not set(required) <= have:
            return []
        wanted = [c if c in have else f"NULL AS {c}" for c in columns]
        sql = f"SELECT {', '.join(wanted)} FROM {table} {where}"
        rows = conn.execute(sql, params).fetchall()
    finally:
        conn.close()
    return [dict(zip(columns, row, strict=True)) for row in rows]
