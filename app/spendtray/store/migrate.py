"""The numbered schema migrations (``store.migrations``): registered here, applied by
sqlite-utils' ``Migrations``. Runs on the thread that opens the write connection
(``store.db.open_for_writing``).

Whether any migration is pending is read with one plain query of ``_sqlite_migrations`` (the
table sqlite-utils keeps its records in), so a file that is up to date, which is every open
but the first after an install or upgrade, is opened without importing sqlite-utils: that
import took 33-42 ms of every command that opens the store, before a first import's workers
could start. Only a file with pending migrations loads it. Each pending migration is applied
in its own transaction, taken with the write lock (BEGIN IMMEDIATE) and its record looked up
again inside it, so two processes opening a new file at once (the app and an import) apply
it once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

TABLE = "_sqlite_migrations"


class Connected(Protocol):
    """What a migration is given (sqlite-utils' ``Database``), and what ``apply`` is given
    (``store.db.Database``): the connection and ``execute``."""

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
        """Apply every pending migration in order (up to ``stop_before``, for tests that
        build an older file) through sqlite-utils, each with its record in one transaction:
        one that fails leaves nothing of it and stays pending. Nothing pending: sqlite-utils
        is not imported."""
        stops = {stop_before} if isinstance(stop_before, str) else set(stop_before or ())
        done = set(self.applied(db))
        if stops & done:
            raise ValueError(f"cannot stop before {sorted(stops & done)}: already applied")
        todo = [m.name for m in self._migrations if m.name not in done]
        if not todo or todo[0] in stops:
            return
        conn = db.conn
        theirs, their_db = self._sqlite_utils_set(conn)
        names = [m.name for m in self._migrations]
        for name in todo:
            if name in stops:
                return
            following = names[names.index(name) + 1 :]
            with _transaction(conn):
                if name in self.applied(db):
                    continue  # by another process since ``done`` was read
                # Applies this one: every one before it is applied, and none after it can be
                # (they are applied in order, and this transaction holds the write lock).
                theirs.apply(their_db, stop_before=following[:1] or None)

    def _sqlite_utils_set(self, conn: sqlite3.Connection) -> tuple[Any, Any]:
        """This set as sqlite-utils' ``Migrations``, and ``conn`` as its ``Database``."""
        utils_db, utils_migrations = _sqlite_utils()
        theirs = utils_migrations.Migrations(self.name)
        for migration in self._migrations:
            theirs(name=migration.name)(migration.fn)
        # No plugins: none may hook our connection, and looking for them scans every
        # installed distribution's entry points.
        return theirs, utils_db.Database(conn, execute_plugins=False)


def _sqlite_utils() -> tuple[Any, Any]:
    """``sqlite_utils.db`` and ``sqlite_utils.migrations``, imported on first need."""
    import sqlite_utils.db
    import sqlite_utils.migrations

    return sqlite_utils.db, sqlite_utils.migrations


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
