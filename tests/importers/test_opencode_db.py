"""OpenCode 1.2+'s opencode.db: read without writing or locking it (OpenCode running or not),
incrementally from the last row read, a message also kept as a JSON file counted once, rows
streamed in (zero tokens, then the final usage) stored with their final usage, a bad row
counted and named, reasoning read by tokens.total, and `spendtray sources` listing the store."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from importkit import events, total_row
from sourcekit import AGENT_ENV, CASES, build_databases

from spendtray.cli.main import main
from spendtray.core import Core
from spendtray.importers import Importer, ImportWatcher

DATA = Path(".local/share/opencode")


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    shutil.copytree(CASES["opencode"].home, home)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def agent(user_home: Path) -> Iterator[sqlite3.Connection]:
    """OpenCode's own connection: WAL, kept open (so its -wal stays, not checkpointed)."""
    conn = sqlite3.connect(user_home / DATA / "opencode.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    yield conn
    conn.close()


def _message(mid: str, created: int, updated: int, tokens: dict[str, object]) -> tuple[object, ...]:
    return (mid, "ses_7c1d5e2f", created, updated, _data(created, tokens))


def _data(created: int, tokens: dict[str, object]) -> str:
    """An assistant message's data column (its id and session are columns)."""
    data = {
        "role": "assistant",
        "time": {"created": created},
        "modelID": "gpt-5",
        "providerID": "openai",
        "mode": "build",
        "path": {"cwd": "/home/dev/src/api", "root": "/home/dev/src/api"},
        "cost": 0,
        "tokens": tokens,
    }
    return json.dumps(data)


def _tokens(fresh: int, output: int) -> dict[str, object]:
    return {
        "total": fresh + output,
        "input": fresh,
        "output": output,
        "reasoning": 0,
        "cache": {"read": 0, "write": 0},
    }


def _upsert(conn: sqlite3.Connection, row: tuple[object, ...]) -> None:
    """As OpenCode's projector writes a message: insert, or replace its data (and the time)."""
    conn.execute(
        "INSERT INTO message VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
        "data = excluded.data, time_updated = excluded.time_updated",
        row,
    )


def test_files_and_database_together_count_each_message_once(
    user_home: Path, core: Core, make_importer: Callable[..., Importer]
) -> None:
    report = make_importer("opencode").run()
    assert report.stats.malformed == 0
    found = {e["request_id"]: e for e in events(core, "opencode")}
    # msg_02 and msg_03 are in storage/message/ and (migrated) in opencode.db; msg_b4 streams
    assert sorted(found) == [
        "opencode:msg_02",
        "opencode:msg_03",
        "opencode:msg_a1",
        "opencode:msg_b1",
        "opencode:msg_b2",
        "opencode:msg_b3",
        "opencode:msg_b5",
    ]
    assert report.stored == 7 and report.duplicates == 2
    sub_agent = found["opencode:msg_b3"]
    assert (sub_agent["agent"], sub_agent["project"], sub_agent["session"]) == (
        "opencode/general",
        "shop",
        "ses_7c1e0a9b",
    )
    # tokens.total = input + cache + output + reasoning: the reasoning is apart from output
    assert (sub_agent["output_tokens"], sub_agent["reasoning_tokens"]) == (880 + 512, 512)
    assert sub_agent["input_tokens"] == 4200 + 2048
    assert sub_agent["reported_cost_usd"] == 0.0141  # OpenCode's own cost, as it logged it
    # an older file without a total: the reasoning is inside the output
    old = found["opencode:msg_a1"]
    assert (old["output_tokens"], old["reasoning_tokens"]) == (650, 384)
    # OpenCode logged no cost (0): priced here, never a silent $0
    free = found["opencode:msg_b5"]
    assert free["reported_cost_usd"] is None and free["priced"] and free["cost_usd"] > 0


def test_reading_never_writes_or_locks_the_store(
    user_home: Path, core: Core, make_importer: Callable[..., Importer]
) -> None:
    folder = user_home / DATA
    db = folder / "opencode.db"
    before = (sorted(os.listdir(folder)), db.read_bytes(), db.stat().st_mtime_ns)
    assert make_importer("opencode").run().stored == 7
    # OpenCode not running (no -wal): read immutable, no -wal/-shm left in its folder
    assert (sorted(os.listdir(folder)), db.read_bytes(), db.stat().st_mtime_ns) == before

    # OpenCode running, mid-write: its transaction holds the write lock
    writer = sqlite3.connect(db, isolation_level=None, timeout=0)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("BEGIN IMMEDIATE")
    _upsert(writer, _message("msg_c1", 1762900000000, 1762900000000, _tokens(700, 7)))
    report = make_importer("opencode").run()
    assert (report.stored, report.stats.malformed) == (0, 0)  # only what is committed
    writer.execute("COMMIT")  # never blocked by the reader (timeout=0 would raise)
    writer.execute("BEGIN IMMEDIATE")  # and it can write again at once
    writer.execute("COMMIT")
    writer.close()
    assert make_importer("opencode").run().stored == 1


def test_new_rows_are_read_from_the_wal_and_only_they(
    user_home: Path, agent: sqlite3.Connection, core: Core, make_importer: Callable[..., Importer]
) -> None:
    importer = make_importer("opencode")
    first = importer.run()
    assert first.stored == 7
    _upsert(agent, _message("msg_c1", 1762900000000, 1762900000000, _tokens(1000, 10)))
    wal = user_home / DATA / "opencode.db-wal"
    assert wal.stat().st_size > 0  # not checkpointed: the row is only in the -wal
    report = importer.run()
    assert report.stored == 1 and report.stats.lines == 1  # one row read, not the table
    assert total_row(core, "opencode")["calls"] == 8
    # a new importer (a restart) knows where it was from the database alone
    agent.execute("UPDATE session SET title = 'renamed' WHERE id = 'ses_7c1d5e2f'")
    again = make_importer("opencode").run()
    assert (again.stored, again.stats.lines) == (0, 0)


def test_a_wal_written_just_now_is_read_again_until_it_settles(
    user_home: Path, agent: sqlite3.Connection, core: Core, make_importer: Callable[..., Importer]
) -> None:
    """OpenCode writes a transaction's bytes to its -wal before it publishes the commit (in the
    -shm): a pass can see the file's final size without the row. So a -wal written within the
    last two seconds is read again on the next pass (only rows past the mark: cheap)."""
    importer = make_importer("opencode")
    importer.run()
    _upsert(agent, _message("msg_s1", 1762900000000, 1762900000000, _tokens(600, 6)))
    assert importer.run().stored == 1
    again = importer.run()  # nothing changed, but the -wal is too fresh to trust
    assert again.files_read == 1 and again.stored == 0
    wal = user_home / DATA / "opencode.db-wal"
    settled = wal.stat().st_mtime_ns - 10 * 10**9
    os.utime(wal, ns=(settled, settled))
    importer.run()  # read once more (it changed), now settled
    assert importer.run().files_read == 0


def test_a_streamed_reply_is_stored_once_with_its_final_usage(
    user_home: Path, agent: sqlite3.Connection, core: Core, make_importer: Callable[..., Importer]
) -> None:
    importer = make_importer("opencode")
    importer.run()
    _upsert(agent, _message("msg_c2", 1762900000000, 1762900000100, _tokens(0, 0)))
    assert importer.run().stored == 0  # started, no tokens yet
    _upsert(agent, _message("msg_c2", 1762900000000, 1762900004000, _tokens(2000, 0)))
    _upsert(agent, _message("msg_c2", 1762900000000, 1762900009000, _tokens(2000, 300)))
    importer.run()
    (row,) = [e for e in events(core, "opencode") if e["request_id"] == "opencode:msg_c2"]
    assert (row["input_tokens"], row["output_tokens"]) == (2000, 300)


def test_a_row_committed_after_a_later_stamped_one_is_not_missed(
    user_home: Path, agent: sqlite3.Connection, core: Core, make_importer: Callable[..., Importer]
) -> None:
    """OpenCode stamps time_updated before it gets the write lock: a slower writer's row can
    commit after a row stamped later, below the mark already read."""
    importer = make_importer("opencode")
    importer.run()
    _upsert(agent, _message("msg_late_b", 1762900030000, 1762900030000, _tokens(500, 5)))
    importer.run()
    _upsert(agent, _message("msg_late_a", 1762900000000, 1762900000000, _tokens(400, 4)))
    report = importer.run()
    assert report.stored == 1
    assert {"opencode:msg_late_a", "opencode:msg_late_b"} <= {
        e["request_id"] for e in events(core, "opencode")
    }


def test_a_bad_row_is_counted_and_named_and_the_rest_read(
    user_home: Path, agent: sqlite3.Connection, core: Core, make_importer: Callable[..., Importer]
) -> None:
    importer = make_importer("opencode")
    importer.run()
    agent.execute(
        "INSERT INTO message VALUES ('msg_bad', 'ses_7c1d5e2f', 1762900000000, 1762900000000, "
        '\'{"role": "assistant", "tokens": \')'
    )
    _upsert(agent, _message("msg_c3", 1762900001000, 1762900001000, _tokens(900, 9)))
    report = importer.run()
    assert (report.stats.malformed, report.stored) == (1, 1)
    (example,) = report.stats.malformed_examples
    assert "opencode.db" in example and "message msg_bad: data is not a JSON object" in example
    # counted once: the next change reads on from the mark, the bad row is not read again
    _upsert(agent, _message("msg_c4", 1762900002000, 1762900002000, _tokens(800, 8)))
    again = importer.run()
    assert (again.stats.lines, again.stats.malformed, again.stored) == (1, 0, 1)


def test_channel_databases_env_override_and_path(
    user_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    folder = user_home / DATA
    shutil.rmtree(folder / "storage")
    os.replace(folder / "opencode.db", folder / "opencode-dev.db")  # a dev-channel build
    moved = tmp_path / "elsewhere"
    shutil.move(folder, moved)
    assert make_importer("opencode").roots() == []
    monkeypatch.setenv("OPENCODE_DATA_DIR", str(moved))
    assert [r.path.name for r in make_importer("opencode").roots()] == ["opencode-dev.db"]
    assert make_importer("opencode").run().stored == 6  # all but msg_a1.json (removed)
    monkeypatch.delenv("OPENCODE_DATA_DIR")
    report = make_importer("opencode", moved).run()  # --path: the data folder
    assert report.roots == [str(moved / "opencode-dev.db")]  # its store, not every file in it
    assert (report.files_seen, report.files_read) == (1, 0)  # the same file, read already


def test_sources_lists_the_store(
    no_server: None, user_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "--format", "json"]) == 0
    found = {s["name"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    opencode = found["opencode"]
    assert str(user_home / DATA / "opencode.db") in opencode["looked_in"]
    assert opencode["files"] == 4 + 1  # four message files and the database
    assert opencode["warnings"] == []
    assert main(["import", "opencode"]) == 0
    assert "7 new calls stored" in capsys.readouterr().out


def test_the_watcher_follows_calls_as_opencode_writes_them(
    user_home: Path, agent: sqlite3.Connection, core: Core
) -> None:
    watcher = ImportWatcher(core, ["opencode"], interval=0.05)
    passes = threading.Semaphore(0)
    watcher.add_listener(lambda reports: passes.release())
    assert watcher.poll_once()[0].stored == 7
    watcher.start()
    try:
        # OpenCode running: the row goes to its -wal, the main file does not change
        _upsert(agent, _message("msg_live", 1762900000000, 1762900000000, _tokens(1234, 5)))
        deadline = time.monotonic() + 20
        while total_row(core, "opencode")["calls"] != 8:
            assert time.monotonic() < deadline, "the watcher missed the call in the -wal"
            passes.acquire(timeout=1)
    finally:
        watcher.stop()
    assert watcher.last_error is None


def test_kilo_cli_store_is_read_the_same_way(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    """Kilo CLI keeps OpenCode's message table in kilo.db: only new rows are read there too."""
    home = tmp_path / "kilo-user"
    shutil.copytree(CASES["kilo"].home, home)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    importer = make_importer("kilo")
    assert importer.run().stored == 4
    kilo = sqlite3.connect(home / CASES["kilo"].log, isolation_level=None)
    kilo.execute(
        "INSERT INTO message VALUES ('msg_k9', 'ses_5k1a', ?, ?, ?)",
        (1764200000000, 1764200000000, _data(1764200000000, _tokens(3000, 30))),
    )
    kilo.close()
    report = importer.run()
    assert (report.stored, report.stats.lines) == (1, 1)
    assert "kilo:msg_k9" in {e["request_id"] for e in events(core, "kilo")}
