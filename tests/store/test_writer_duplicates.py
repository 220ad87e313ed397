"""The writer stores each call once: a request id (or a call key from another source) already
stored, or repeated within what one transaction commits, is a duplicate, and the copy with
more tokens is the one kept — whether the repeat is in the same batch, in another batch of the
same transaction, in a later transaction, or in a batch sent at the same time from another
thread. A batch with none of these is inserted without the row-by-row checks; its rows must
come out the same. Each runs with a writer that looks every key up and with one that
remembers the keys it stored (``remember_keys``, ``spendtray import``'s), which must find the
same duplicates, and stop trusting its memory once another connection writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from spendtray.store.rows import EVENT_COLUMNS, EventRow
from spendtray.store.writer import CommitInfo, Writer

_AT = {name: n for n, name in enumerate(EVENT_COLUMNS)}


def row(
    request_id: str | None,
    output_tokens: int = 10,
    call_key: str | None = None,
    source: str = "api",
    project: str = "p",
    ts: int = 1_760_000_000_000,
) -> EventRow:
    values: list[object] = [None] * len(EVENT_COLUMNS)
    for name, value in {
        "ts": ts,
        "received_at": ts + 5,
        "project": project,
        "model": "gpt-4o",
        "provider": "openai",
        "agent": "",
        "source": source,
        "machine": "laptop",
        "batch": 0,
        "input_tokens": 100,
        "output_tokens": output_tokens,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "reasoning_tokens": 0,
        "cost_nanos": 1_000 * output_tokens,
        "priced": 1,
        "request_id": request_id,
        "call_key": call_key,
        "price_id": ("gpt-4o", "openai", '{"input_mtok":"2.5"}', "test", None),
    }.items():
        values[_AT[name]] = value
    return EventRow(*values)


@pytest.fixture(params=[False, True], ids=["look-ups", "remember-keys"])
def writer(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Writer]:
    w = Writer(tmp_path / "spendtray.db")
    w.start(remember_keys=request.param)
    try:
        yield w
    finally:
        w.stop()


def stored(writer: Writer, tmp_path: Path) -> list[tuple[int, str | None, int]]:
    """(id, request_id, output_tokens) of every stored event, by id."""
    with sqlite3.connect(tmp_path / "spendtray.db") as conn:
        return conn.execute(
            "SELECT id, request_id, output_tokens FROM events ORDER BY id"
        ).fetchall()


def test_a_batch_of_new_ids_is_stored_whole_in_order(writer: Writer, tmp_path: Path) -> None:
    writer.write([row("a-0")])
    rows = [row(f"b-{i}", output_tokens=i + 1, project=f"p{i % 3}") for i in range(120)]
    rows.append(row(None, output_tokens=7))  # no id: new as well
    outcomes = writer.write(rows)
    assert [o.id for o in outcomes] == list(range(2, 123))
    assert not any(o.duplicate for o in outcomes)
    assert stored(writer, tmp_path)[1:] == [
        (i + 2, r.request_id, r.output_tokens) for i, r in enumerate(rows)
    ]
    with sqlite3.connect(tmp_path / "spendtray.db") as conn:
        (price_ids,) = conn.execute("SELECT count(DISTINCT price_id) FROM events").fetchone()
    assert price_ids == 1


@pytest.mark.parametrize("sizes", [(10, 500), (500, 10)])
def test_a_repeat_within_a_batch_keeps_the_bigger_copy(
    writer: Writer, tmp_path: Path, sizes: tuple[int, int]
) -> None:
    first, second = sizes
    outcomes = writer.write([row("x", first), row("y"), row("x", second)])
    assert [(o.id, o.duplicate) for o in outcomes] == [(1, False), (2, False), (1, True)]
    assert stored(writer, tmp_path) == [(1, "x", 500), (2, "y", 10)]


def test_the_commit_names_the_project_and_time_of_the_copy_it_stored(tmp_path: Path) -> None:
    # A bigger copy later in the batch replaces the first one before it is inserted: the
    # commit's listeners (budgets, the running sums) hear of the row as stored.
    writer = Writer(tmp_path / "spendtray.db")
    infos: list[CommitInfo] = []
    writer.add_listener(infos.append)
    writer.start()
    try:
        writer.write(
            [
                row("x", 10, project="first", ts=1_760_000_000_000),
                row("y", project="other", ts=1_750_000_000_000),
                row("x", 500, project="second", ts=1_760_000_500_000),
            ]
        )
    finally:
        writer.stop()
    (info,) = infos
    assert info.projects == {"second", "other"}
    assert info.newest_ts == 1_760_000_500_000
    assert (info.stored, info.duplicates) == (2, 1)
    assert [values[_AT["project"]] for values in info.inserted] == ["second", "other"]


def test_a_repeat_across_batches_of_one_transaction_keeps_the_bigger_copy(
    writer: Writer, tmp_path: Path
) -> None:
    done = writer.submit_batches([[row("x", 10), row("y")], [row("x", 300), row("z")]])
    first, second = done.result(10)
    assert [(o.id, o.duplicate) for o in first] == [(1, False), (2, False)]
    assert [(o.id, o.duplicate) for o in second] == [(1, True), (3, False)]
    assert stored(writer, tmp_path) == [(1, "x", 300), (2, "y", 10), (3, "z", 10)]


def test_a_stored_id_sent_again_is_a_duplicate_and_only_a_bigger_copy_replaces_it(
    writer: Writer, tmp_path: Path
) -> None:
    writer.write([row("x", 50), row("y", 50)])
    again = writer.write([row("x", 20), row("new"), row("y", 90)])
    assert [(o.id, o.duplicate) for o in again] == [(1, True), (3, False), (2, True)]
    assert stored(writer, tmp_path) == [(1, "x", 50), (2, "y", 90), (3, "new", 10)]


@pytest.mark.parametrize("at", [(10, 55), (52, 57)])
def test_stored_ids_among_a_large_batch_of_new_ones_are_duplicates_and_ids_stay_unbroken(
    tmp_path: Path, at: tuple[int, int]
) -> None:
    # The rows of a batch go in before their request ids are looked up (nearly all are new);
    # one already stored, in a whole 50-row statement or among the rows left over, must come
    # out as though it had been looked up first: a duplicate, the bigger copy kept, the new
    # rows numbered without a gap, and the commit's listeners told what was stored.
    writer = Writer(tmp_path / "spendtray.db")
    infos: list[CommitInfo] = []
    writer.add_listener(infos.append)
    writer.start()
    try:
        writer.write([row("x", 50), row("y", 50, project="old")])
        rows = [row(f"n-{i}", project=f"p{i % 3}") for i in range(60)]
        # In the first 50-row statement or among the 12 rows left over (after a whole
        # statement went in); the smaller copy is not kept, the bigger one is.
        rows.insert(at[0], row("x", 20))
        rows.insert(at[1], row("y", 90, project="bigger"))
        outcomes = writer.write(rows)
        after = writer.write([row("later")])
    finally:
        writer.stop()
    new_ids = [o.id for o in outcomes if not o.duplicate]
    assert new_ids == list(range(3, 63))
    assert [(o.id, o.duplicate) for o in (outcomes[at[0]], outcomes[at[1]])] == [
        (1, True),
        (2, True),
    ]
    assert [(o.id, o.duplicate) for o in after] == [(63, False)]
    got = stored(writer, tmp_path)
    assert got[:2] == [(1, "x", 50), (2, "y", 90)]
    assert [rid for _, rid, _ in got[2:62]] == [f"n-{i}" for i in range(60)]
    info = infos[1]
    assert (info.stored, info.duplicates) == (60, 2)
    assert [values[0] for values in info.inserted] == list(range(3, 63))
    assert info.projects == {"p0", "p1", "p2", "bigger"}


def test_call_keys_match_across_sources_only(writer: Writer, tmp_path: Path) -> None:
    writer.write([row(None, 10, call_key="k1", source="otlp")])
    # The same key from the same source is a second call.
    same = writer.write([row(None, 10, call_key="k1", source="otlp")])
    assert [(o.id, o.duplicate) for o in same] == [(2, False)]
    writer.write([row(None, 10, call_key="k2", source="otlp")])
    # The same call from the log file (another source): a duplicate, the bigger copy kept,
    # whether stored before or in the same batch.
    log = writer.write(
        [
            row("r3", 40, call_key="k2", source="claude-code"),
            row(None, 5, call_key="k4", source="otlp"),
            row("r4", 50, call_key="k4", source="claude-code"),
        ]
    )
    assert [(o.id, o.duplicate) for o in log] == [(3, True), (4, False), (4, True)]
    assert stored(writer, tmp_path) == [
        (1, None, 10),
        (2, None, 10),
        (3, "r3", 40),
        (4, "r4", 50),
    ]


def test_concurrent_batches_with_the_same_ids_store_each_id_once_bigger_copy_kept(
    writer: Writer, tmp_path: Path
) -> None:
    ids = [f"req-{i}" for i in range(300)]
    senders = 4
    start = threading.Barrier(senders)
    errors: list[BaseException] = []

    def send(sender: int) -> None:
        try:
            start.wait()
            for chunk in range(0, len(ids), 50):
                writer.write(
                    [row(rid, output_tokens=10 + sender) for rid in ids[chunk : chunk + 50]]
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(s,)) for s in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = stored(writer, tmp_path)
    assert sorted(rid for _, rid, _ in got) == sorted(ids)
    assert {tokens for _, _, tokens in got} == {10 + senders - 1}


def _lookups(writer: Writer) -> list[str]:
    """The look-ups of stored request ids and call keys the writer's connection makes."""
    seen: list[str] = []
    conn = writer._conn
    assert conn is not None
    conn.set_trace_callback(
        lambda sql: seen.append(sql) if " FROM events WHERE " in sql and " IN (" in sql else None
    )
    return seen


def test_a_writer_remembering_its_keys_looks_up_only_keys_it_stored(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "spendtray.db")
    writer.start(remember_keys=True)
    try:
        lookups = _lookups(writer)
        writer.write([row(f"a-{i}", call_key=f"k-{i}") for i in range(50)])
        writer.write([row(f"b-{i}", call_key=f"j-{i}") for i in range(50)])
        assert lookups == []  # nothing stored had these keys
        # Its own rows come back (from another source, by call key; and by request id).
        again = writer.write(
            [row("a-3", 5), row("c", 90, call_key="k-7", source="claude-code"), row("a-9", 99)]
        )
        assert [(o.id, o.duplicate) for o in again] == [(4, True), (8, True), (10, True)]
        assert len(lookups) == 2
    finally:
        writer.stop()
    got = stored(writer, tmp_path)
    assert len(got) == 100
    assert got[7] == (8, "c", 90) and got[9] == (10, "a-9", 99) and got[3] == (4, "a-3", 10)


def test_a_writer_started_on_stored_events_looks_every_key_up(tmp_path: Path) -> None:
    first = Writer(tmp_path / "spendtray.db")
    first.start()
    first.write([row("old")])
    first.stop()
    writer = Writer(tmp_path / "spendtray.db")
    writer.start(remember_keys=True)
    try:
        lookups = _lookups(writer)
        outcomes = writer.write([row("old", 70), row("new")])
        assert [(o.id, o.duplicate) for o in outcomes] == [(1, True), (2, False)]
        assert lookups
    finally:
        writer.stop()
    assert stored(writer, tmp_path) == [(1, "old", 70), (2, "new", 10)]


@pytest.mark.parametrize("how", ["insert", "update"])
def test_a_writer_remembering_its_keys_sees_rows_another_connection_wrote(
    tmp_path: Path, how: str
) -> None:
    # Another process (the tray app, a second import) stores a call meanwhile: a new row, or
    # a bigger copy of this writer's row in place, under a request id and a call key this
    # writer never stored. Its next copies are duplicates.
    db = tmp_path / "spendtray.db"
    writer = Writer(db)
    writer.start(remember_keys=True)
    try:
        writer.write([row("mine", 10)])
        with sqlite3.connect(db) as other:
            if how == "insert":
                values = row("theirs", 80, call_key="k-theirs", source="otlp")._replace(
                    id=2, price_id=None
                )
                other.execute(
                    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(values))})",
                    values,
                )
            else:
                other.execute(
                    "UPDATE events SET request_id = 'theirs', output_tokens = 80, "
                    "call_key = 'k-theirs', source = 'otlp' WHERE request_id = 'mine'"
                )
        outcomes = writer.write(
            [row("theirs", 40), row("log", 60, call_key="k-theirs", source="claude-code")]
        )
    finally:
        writer.stop()
    theirs = 2 if how == "insert" else 1
    assert [(o.id, o.duplicate) for o in outcomes] == [(theirs, True), (theirs, True)]
    assert stored(writer, tmp_path)[-1] == (theirs, "theirs", 80)


def test_a_writer_forgets_its_keys_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("spendtray.store.writer.REMEMBER_KEYS", 20)
    writer = Writer(tmp_path / "spendtray.db")
    writer.start(remember_keys=True)
    try:
        writer.write([row(f"a-{i}", call_key=f"k-{i}") for i in range(5)])
        assert writer._own_keys is not None
        writer.write([row(f"b-{i}", call_key=f"j-{i}") for i in range(10)])
        assert writer._own_keys is None  # memory bounded: every key is looked up from now on
        lookups = _lookups(writer)
        again = writer.write([row("a-1", 99), row("b-2", 1)])
        assert lookups
    finally:
        writer.stop()
    assert [(o.id, o.duplicate) for o in again] == [(2, True), (8, True)]
    assert stored(writer, tmp_path)[1] == (2, "a-1", 99)


def _store_elsewhere(db: Path, request_id: str, tokens: int) -> None:
    """A call stored by another connection (another process)."""
    values = row(request_id, tokens, call_key=f"k-{request_id}", source="otlp")._replace(
        price_id=None
    )
    with sqlite3.connect(db) as other:
        other.execute(
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(values))})",
            values,
        )


def test_a_call_another_connection_stores_as_the_writer_starts_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stored between the writer's look at the highest id and its look at the commit count:
    # both are taken from one snapshot, so the count it keeps is from before that row.
    import spendtray.store.writer as writer_module

    db = tmp_path / "spendtray.db"
    first = Writer(db)
    first.start()
    first.stop()
    real = writer_module._data_version
    raced: list[bool] = []

    def racing(conn: sqlite3.Connection) -> int:
        if not raced:
            raced.append(True)
            _store_elsewhere(db, "theirs", 80)
        return real(conn)

    monkeypatch.setattr(writer_module, "_data_version", racing)
    writer = Writer(db)
    writer.start(remember_keys=True)
    try:
        outcomes = writer.write([row("theirs", 40), row("mine")])
    finally:
        writer.stop()
    assert raced
    assert [(o.id, o.duplicate) for o in outcomes] == [(1, True), (2, False)]
    assert stored(writer, tmp_path) == [(1, "theirs", 80), (2, "mine", 10)]
