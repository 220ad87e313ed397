"""Applying the numbered schema migrations (``store.migrations``) in order, each in its own
transaction together with the record that it ran. Runs on the thread that opens the write
connection (``store.db.open_for_writing``).

The records live in the ``_sqlite_migrations`` table exactly as sqlite-utils' ``Migrations``
kept them (it applied them until importing sqlite-utils, 33-42 ms, was found to be the
largest part of a first import's start-up): files made by earlier versions go on from the
migrations recorded there, and a file made here reads the same to sqlite-utils.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

TABLE = "_sqlite_migrations"
# The table and index as sqlite-utils creates them (``Migrations.ensure_migrations_table``;
# SQLite keeps the statements without IF NOT EXISTS).
_CREATE_TABLE = (
    f'CREATE TABLE IF NOT EXISTS "{TABLE}" (\n   "id" INTEGER PRIMARY KEY,\n'
    '   "migration_set" TEXT,\n   "name" TEXT,\n   "applied_at" TEXT\n)'
)
_CREATE_INDEX = (
    f'CREATE UNIQUE INDEX IF NOT EXISTS "idx_{TABLE}_migration_set_name"\n'
    f'    ON "{TABLE}" ("migration_set", "name")'
)


class Connected(Protocol):
    """What a migration is given: ``store.db.Database`` (or sqlite-utils' in older tests)."""

    @property
    def conn(self) -> sqlite3.Connection: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> sqlite3.Cursor: ...


F = TypeVar("F", bound=Callable[[Any], None])


@dataclass(frozen=True)
class Migration:
    name: str
    fn: Callable[[Any], None]


class Migrations:
    """A named, ordered set of migrations: ``@migrations(name="0001_...")`` registers one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._migrations: list[Migration] = []

    def __call__(self, *, name: str) -> Callable[[F], F]:
        def register(fn: F) -> F:
            if any(m.name == name for m in self._migrations):
                raise ValueError(f"migration {name!r} is already registered in {self.name!r}")
            self._migrations.append(Migration(name, fn))
            return fn

        return register

    def applied(self, db: Connected) -> list[str]:
        """The names of the migrations recorded as applied, in the order they ran."""
        if not _has_table(db.conn):
            return []
        cursor = db.conn.execute(
            f'SELECT name FROM "{TABLE}" WHERE migration_set = ? ORDER BY rowid', (self.name,)
        )
        return [str(name) for (name,) in cursor]

    def pending(self, db: Connected) -> list[Migration]:
        done = set(self.applied(db))
        return [m for m in self._migrations if m.name not in done]

    def apply(self, db: Connected, *, stop_before: str | Sequence[str] | None = None) -> None:
        """Run every pending migration in order (up to ``stop_before``, for tests that build
        an older file), each with its record in one transaction: one that fails leaves
        nothing of it and stays pending. Each is looked up again with the write lock held,
        so two processes opening a new file at once (the app and an import) apply it once."""
        stops = {stop_before} if isinstance(stop_before, str) else set(stop_before or ())
        done = set(self.applied(db))
        if stops & done:
            raise ValueError(f"cannot stop before {sorted(stops & done)}: already applied")
        conn = db.conn
        if not _has_table(conn):
            with _transaction(conn):
                conn.execute(_CREATE_TABLE)
                conn.execute(_CREATE_INDEX)
        for migration in self._migrations:
            if migration.name in done:
                continue
            if migration.name in stops:
                return
            with _transaction(conn):
                if migration.name in self.applied(db):
                    continue  # by another process since ``done`` was read
                migration.fn(db)
                conn.execute(
                    f'INSERT INTO "{TABLE}" (migration_set, name, applied_at) VALUES (?, ?, ?)',
                    (self.name, migration.name, str(dt.datetime.now(dt.UTC))),
                )


def _has_table(conn: sqlite3.Connection) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).fetchone()
    return found is not None


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on an error); a savepoint inside a transaction
    already open (a connection in sqlite3's legacy mode opens one before its first write)."""
    nested = conn.in_transaction
    conn.execute("SAVEPOINT migration" if nested else "BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # (an error may have ended the transaction already)
            if nested:
                conn.execute("ROLLBACK TO SAVEPOINT migration")
                conn.execute("RELEASE SAVEPOINT migration")
            else:
                conn.execute("ROLLBACK")
        raise
    conn.execute("RELEASE SAVEPOINT migration" if nested else "COMMIT")
