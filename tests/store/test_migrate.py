"""``store.migrate`` applies the migrations through sqlite-utils' ``Migrations`` only when one
is pending: a file made here is what sqlite-utils makes, a file it began (older versions)
goes on here, a migration that fails leaves nothing of it and stays pending, two openers of a
new file apply each migration once, and opening an up-to-date file never imports
sqlite-utils."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database as UtilsDatabase
from sqlite_utils.migrations import Migrations as UtilsMigrations

from spendtray.store import migrations as shipped
from spendtray.store.db import Database, ensure_schema, open_for_writing
from spendtray.store.migrate import Migrations


def _schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(
            conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        )
    finally:
        conn.close()


def _utils_set(before: str | None = None) -> UtilsMigrations:
    """The shipped migrations (those named below ``before``) as sqlite-utils registers them."""
    theirs = UtilsMigrations("spendtray")
    for migration in shipped.migrations._migrations:
        if before is None or migration.name < before:
            theirs(name=migration.name)(migration.fn)
    return theirs


def _applied(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [
            name
            for (name,) in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = 'spendtray' "
                "ORDER BY rowid"
            )
        ]
    finally:
        conn.close()


def test_a_file_made_here_is_what_sqlite_utils_makes_and_reads(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    ensure_schema(ours)
    _utils_set().apply(UtilsDatabase(theirs))
    names = [m.name for m in shipped.migrations._migrations]
    assert len(names) >= 20
    assert _applied(ours) == _applied(theirs) == names
    assert _schema(ours) == _schema(theirs)
    assert _utils_set().pending(UtilsDatabase(ours)) == []


def test_a_file_sqlite_utils_began_goes_on_here(tmp_path: Path) -> None:
    path = tmp_path / "spendtray.db"
    _utils_set(before="0012").apply(UtilsDatabase(path))
    done = _applied(path)
    assert done and all(name < "0012" for name in done)
    assert shipped.migrations.pending(Database(sqlite3.connect(path)))[0].name >= "0012"
    open_for_writing(path).conn.close()
    fresh = tmp_path / "fresh.db"
    ensure_schema(fresh)
    assert _applied(path) == _applied(fresh)
    assert _schema(path) == _schema(fresh)
    again = open_for_writing(path)  # nothing left to apply
    assert shipped.migrations.pending(again) == []
    again.conn.close()


def test_a_failing_migration_leaves_nothing_and_stays_pending(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db = Database(conn)
    steps = Migrations("test")
    fail = [True]

    @steps(name="0001_a")
    def first(db: Database) -> None:
        db.execute("CREATE TABLE a (x)")

    @steps(name="0002_b")
    def second(db: Database) -> None:
        db.execute("CREATE TABLE b (x)")
        db.execute("INSERT INTO a VALUES (1)")
        if fail[0]:
            raise RuntimeError("half done")

    with pytest.raises(RuntimeError, match="half done"):
        steps.apply(db)
    assert steps.applied(db) == ["0001_a"]
    assert [m.name for m in steps.pending(db)] == ["0002_b"]
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "a" in tables and "b" not in tables
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (0,)
    fail[0] = False
    steps.apply(db)
    assert steps.applied(db) == ["0001_a", "0002_b"]
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (1,)
    with pytest.raises(ValueError, match="already registered"):
        steps(name="0001_a")(first)
    with pytest.raises(ValueError, match="already applied"):
        steps.apply(db, stop_before="0001_a")


def test_stop_before_leaves_the_rest_pending(tmp_path: Path) -> None:
    db = Database(sqlite3.connect(tmp_path / "t.db", isolation_level=None))
    shipped.migrations.apply(db, stop_before="0006_prices_used")
    done = shipped.migrations.applied(db)
    assert done[-1] < "0006_prices_used" and "0005_rollup_fold_mark" in done
    db.conn.close()


def test_two_openers_of_a_new_file_apply_each_migration_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app and an import opening a new file at once: the second finds what the first
    applied after it looked (here: its first look says nothing is applied), skips it and
    fails on nothing; and threads opening fresh files together all succeed."""
    path = tmp_path / "spendtray.db"
    open_for_writing(path).conn.close()
    stale = [True]
    applied = Migrations.applied

    def first_look_stale(self: Migrations, db: Database) -> list[str]:
        if stale[0]:
            stale[0] = False
            return []
        return applied(self, db)

    monkeypatch.setattr(Migrations, "applied", first_look_stale)
    open_for_writing(path).conn.close()
    monkeypatch.undo()
    names = [m.name for m in shipped.migrations._migrations]
    assert _applied(path) == names
    for n in range(12):  # each round raced for the switch to WAL: 1 in 6 failed before
        fresh = tmp_path / f"fresh-{n}.db"
        start = threading.Barrier(4)
        errors: list[BaseException] = []

        def opener(
            fresh: Path = fresh,
            start: threading.Barrier = start,
            errors: list[BaseException] = errors,
        ) -> None:
            start.wait()
            try:
                open_for_writing(fresh).conn.close()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=opener) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert _applied(fresh) == names


# Opens a file in a fresh interpreter; prints whether sqlite-utils got imported.
OPEN_PROBE = """
import sys
from pathlib import Path
from spendtray.store.db import open_for_writing
open_for_writing(Path(sys.argv[1])).conn.close()
print("sqlite_utils" if "sqlite_utils" in sys.modules else "-")
"""


def _probe_open(path: Path) -> str:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", OPEN_PROBE, str(path)],
        env={"PYTHONPATH": str(root / "app"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_sqlite_utils_is_loaded_only_for_a_pending_migration(tmp_path: Path) -> None:
    path = tmp_path / "spendtray.db"
    assert _probe_open(path) == "sqlite_utils"  # a new file: every migration
    assert _probe_open(path) == "-"  # up to date: one look at the records
