"""The writer's multi-row INSERT stores every column exactly as submitted.

Rows go in groups of ``INSERT_ROWS`` per statement, then of ``INSERT_ROWS_LEFT``, with the
columns that are NULL in a whole group written into the SQL (and some that hold one value in a
whole group bound once), and the rows left over one per statement, but a small commit's rows
(the server's group commit) all in one statement; whichever way a row went, reading it back
must give the values it was submitted with.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from spendtray.store.rows import EVENT_COLUMNS, EventRow
from spendtray.store.writer import FEW_ROWS, FEW_ROWS_MIN, INSERT_ROWS, INSERT_ROWS_LEFT, Writer


def _row(i: int) -> EventRow:
    values: list[object] = [None] * len(EVENT_COLUMNS)
    at = {name: n for n, name in enumerate(EVENT_COLUMNS)}
    required = {
        "ts": 1_700_000_000_000 + i,
        "received_at": 1_700_000_000_500 + i,
        "project": f"p{i % 3}",
        "model": "gpt-4o",
        "provider": "openai",
        "agent": "",
        "source": "api",
        "machine": "laptop",
        "batch": 0,
        "input_tokens": 100 + i,
        "output_tokens": 10 + i,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "reasoning_tokens": 0,
        "priced": 1,
    }
    for name, value in required.items():
        values[at[name]] = value
    # First group: "user" NULL in every row. Second group: "user" in some rows only, and
    # "latency_ms" in exactly one. The group of rows left and the rows left over after it:
    # both set on alternate rows.
    if (i >= INSERT_ROWS and i % 7 == 0) or (i >= 2 * INSERT_ROWS and i % 2):
        values[at["user"]] = f"user-{i}"
    if i == INSERT_ROWS + 3 or (i >= 2 * INSERT_ROWS and i % 2 == 0):
        values[at["latency_ms"]] = 12.5 + i
    values[at["cost_nanos"]] = None if i % 5 == 0 else 1_000 * i
    # Columns bound once for a group when one value fills it: in the first group one request's
    # receive time and a shared cache-write count; in the second, a machine and a batch flag
    # that differ in one row only.
    if i < INSERT_ROWS:
        values[at["received_at"]] = 1_700_000_000_500
        values[at["cache_write_5m_tokens"]] = 3
    if i == INSERT_ROWS + 11:
        values[at["machine"]] = "desktop"
        values[at["batch"]] = 1
    values[at["tags"]] = '{"k":"v"}' if i % 11 == 0 else None
    return EventRow(*values)


def _traced_writer(tmp_path: Path) -> tuple[Writer, list[str]]:
    """A started writer, and the list its INSERT statements into events are added to."""
    writer = Writer(tmp_path / "spendtray.db")
    writer.start(folds=False)
    inserts: list[str] = []
    assert writer._conn is not None
    writer._conn.set_trace_callback(
        lambda sql: inserts.append(sql) if sql.startswith("INSERT INTO events") else None
    )
    return writer, inserts


def test_rows_read_back_as_submitted_in_full_groups_and_leftovers(tmp_path: Path) -> None:
    n = 2 * INSERT_ROWS + INSERT_ROWS_LEFT + 7
    rows = [_row(i) for i in range(n)]
    writer, inserts = _traced_writer(tmp_path)
    try:
        outcomes = writer.write(rows)
    finally:
        writer.stop()
    assert [o.id for o in outcomes] == list(range(1, n + 1))
    # Two whole groups, one group of the rows left, and the last 7 one by one.
    assert len(inserts) == 2 + 1 + 7
    conn = sqlite3.connect(tmp_path / "spendtray.db")
    stored = conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY id").fetchall()
    assert len(stored) == n
    for i, (row, got) in enumerate(zip(rows, stored, strict=True)):
        assert list(got[1:]) == list(row)[1:], f"row {i} differs"
    users = [got[EVENT_COLUMNS.index("user")] for got in stored]
    assert users[:INSERT_ROWS] == [None] * INSERT_ROWS
    some = next(i for i in range(INSERT_ROWS, 2 * INSERT_ROWS) if i % 7 == 0)
    assert users[some] == f"user-{some}"
    assert users[some + 1] is None


def test_a_small_commits_rows_go_in_one_statement_and_read_back_as_submitted(
    tmp_path: Path,
) -> None:
    writer, inserts = _traced_writer(tmp_path)
    sizes = list(range(1, FEW_ROWS + 2))
    # Rows with columns NULL in every row (user), in some (cost, tags), one value in all (machine).
    groups = []
    first = 1  # the rows are numbered as the ids they get
    try:
        for size in sizes:
            rows = [_row(i) for i in range(first, first + size)]
            first += size
            inserts.clear()
            assert [o.id for o in writer.write(rows)] == list(range(first - size, first))
            groups.append((rows, len(inserts)))
    finally:
        writer.stop()
    statements = {size: count for size, (_, count) in zip(sizes, groups, strict=True)}
    assert statements[7] == 1  # a group commit of 8 connections' single events
    assert statements == {size: 1 if FEW_ROWS_MIN <= size <= FEW_ROWS else size for size in sizes}
    conn = sqlite3.connect(tmp_path / "spendtray.db")
    stored = conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY id").fetchall()
    submitted = [row for rows, _ in groups for row in rows]
    assert len(stored) == len(submitted)
    for i, (row, got) in enumerate(zip(submitted, stored, strict=True)):
        assert list(got[1:]) == list(row)[1:], f"row {i} differs"
