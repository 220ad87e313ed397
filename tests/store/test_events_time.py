"""Every read of events by time (``store.timed``: the folded events through ``events_time``, the
rest by their id range) equals the same question asked the slow obvious way over every stored
row: with the events folded, not folded and half folded, after bigger duplicates rewrote rows
(moving their time) before and after the fold, and across migration 0021 from a file the
previous schema made (with folded and unfolded events). ``events_time`` always holds exactly
the folded events' (ts, id)."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

import spendtray.budgets  # noqa: F401  (before store.running, which it imports: no cycle)
from spendtray.store import history, limits, reprice, telemetry
from spendtray.store import migrations as shipped
from spendtray.store.db import open_for_reading, open_for_writing
from spendtray.store.fold import fold, folded_through
from spendtray.store.reader import Filters, Reader, decode_cursor
from spendtray.store.rows import EVENT_COLUMNS, EventRow
from spendtray.store.running import RunningSpend
from spendtray.store.writer import Writer

_AT = {name: n for n, name in enumerate(EVENT_COLUMNS)}
NOW = int(time.time() * 1000)
DAY = 86_400_000
PROJECTS = ("p0", "p1", "p2", "p3")
SESSIONS = tuple(f"s{i}" for i in range(6))


def _row(rng: random.Random, request_id: str, ts: int, output_tokens: int) -> EventRow:
    priced = rng.random() < 0.85
    values: list[object] = [None] * len(EVENT_COLUMNS)
    for name, value in {
        "ts": ts,
        "received_at": NOW,
        "project": rng.choice(PROJECTS),
        "model": rng.choice(("gpt-4o", "claude-sonnet-4-5", "mystery")),
        "provider": "openai",
        "agent": "",
        "source": rng.choice(("api", "claude_code")),
        "machine": "laptop",
        "session": rng.choice(SESSIONS),
        "batch": rng.choice((0, 0, 1)),
        "service_tier": rng.choice((None, "flex")),
        "input_tokens": rng.randint(100, 5_000),
        "output_tokens": output_tokens,
        "cache_read_tokens": rng.randint(0, 50),
        "cache_write_tokens": rng.randint(0, 50),
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "reasoning_tokens": 0,
        "cost_nanos": rng.randint(1, 10**7) if priced else None,
        "priced": int(priced),
        "unpriced_reason": None if priced else rng.choice(("no price", "unknown model")),
        "request_id": request_id,
        "price_id": ("gpt-4o", "openai", '{"input_mtok":"2.5"}', "test", None) if priced else None,
    }.items():
        values[_AT[name]] = value
    return EventRow(*values)


def _ts(rng: random.Random) -> int:
    """Over 90 days, a quarter of them in the last two days, some in the last minutes."""
    pick = rng.random()
    if pick < 0.1:
        return NOW - rng.randrange(0, 600_000)
    if pick < 0.3:
        return NOW - rng.randrange(0, 2 * DAY)
    return NOW - rng.randrange(0, 90 * DAY)


class Store:
    """A writer that never folds by itself, and its events."""

    def __init__(self, path: Path, seed: int) -> None:
        self.path = path
        self.rng = random.Random(seed)
        with sqlite3.connect(path) as conn:  # the file's calls, when it has some
            has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
            query = "SELECT request_id FROM events ORDER BY id"
            self.sent: list[str] = [r[0] for r in conn.execute(query)] if has else []
        conn.close()
        self.writer = Writer(path)
        self.writer.start(folds=False)

    def add(self, n: int) -> None:
        rows = []
        for _ in range(n):
            request_id = f"r{len(self.sent)}-{self.rng.random()}"
            self.sent.append(request_id)
            rows.append(_row(self.rng, request_id, _ts(self.rng), self.rng.randint(10, 500)))
        self.writer.write(rows)

    def rewrite(self, n: int) -> None:
        """Bigger copies of ``n`` stored calls, at another time: the writer keeps them."""
        picked = self.rng.sample(self.sent, n)
        self.writer.write([_row(self.rng, rid, _ts(self.rng), 10_000) for rid in picked])

    def fold(self, limit: int | None = None) -> None:
        self.writer.call(lambda db: fold(db.conn, limit))


def _events(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM events NOT INDEXED")]
    finally:
        conn.row_factory = None


def _ms(stamp: dt.datetime) -> int:
    return int(stamp.timestamp() * 1000)


def _in(e: dict[str, Any], f: Filters) -> bool:
    return (
        (f.project is None or e["project"] == f.project)
        and (f.source is None or e["source"] == f.source)
        and (f.since is None or e["ts"] >= _ms(f.since))
        and (f.until is None or e["ts"] < _ms(f.until))
    )


def _at(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


FILTERS = [
    Filters(),
    Filters(since=_at(NOW - 2 * DAY + 7_013), until=_at(NOW - 3_600_000 - 611)),
    Filters(project="p1", since=_at(NOW - 40 * DAY - 17)),
    Filters(source="claude_code", until=_at(NOW - 30 * DAY + 123)),
    Filters(since=_at(NOW - 5 * DAY - 5), until=_at(NOW - 4 * DAY + 901)),  # < 1/8 of them
    # Ends inside the last minutes' quarter-hours, dense with events: summaries read those
    # part quarter-hours from the events themselves.
    Filters(since=_at(NOW - 500_003), until=_at(NOW - 99_997)),
]


def _check(path: Path) -> None:
    """Every reader by time against the raw events, and ``events_time`` against the folded."""
    conn = open_for_reading(path)
    reader = Reader(path, ZoneInfo("Asia/Kolkata"))
    try:
        conn.execute("BEGIN")
        folded = folded_through(conn)
        events = _events(conn)
        index = conn.execute("SELECT ts, id FROM events_time").fetchall()
        assert index == sorted((e["ts"], e["id"]) for e in events if e["id"] <= folded)
        for f in FILTERS:
            _check_filters(conn, reader, events, f)
        for project in PROJECTS:
            start, end = (NOW - 3 * DAY) // 1000, NOW // 1000 + 900
            want: dict[int, int] = defaultdict(int)
            for e in events:
                if e["project"] == project and start * 1000 <= e["ts"] < end * 1000:
                    want[e["ts"] // 1000 // 900 * 900] += e["cost_nanos"] or 0
            assert reader.cost_per_bucket(project, start, end) == want
            since, until = _at(NOW - 600_000), _at(NOW // 1000 * 1000 + 1000)
            running = RunningSpend(reader, dt.timedelta(minutes=10))
            assert running.recent(project, since, until) == sum(
                e["cost_nanos"] or 0
                for e in events
                if e["project"] == project and _ms(since) <= e["ts"] < _ms(until)
            )
        since_ms = NOW - 2 * DAY
        sessions = {e["session"] for e in events if e["ts"] >= since_ms}
        assert telemetry.sessions_with_calls(conn, SESSIONS, since_ms) == sessions
        latest: dict[str, str] = {}
        for e in sorted(events, key=lambda e: (e["ts"], e["id"])):
            if e["ts"] >= since_ms and e["project"] != "p0":
                latest[e["session"]] = e["project"]
        assert telemetry.projects_of_sessions(conn, SESSIONS, since_ms, "p0") == latest
        for since, until in ((NOW - 5 * 3_600_000, None), (NOW - 9 * DAY, NOW - 8 * DAY)):
            want_rows = [
                (
                    e["ts"],
                    e["input_tokens"] - e["cache_read_tokens"] - e["cache_write_tokens"],
                    e["output_tokens"],
                    e["cache_write_tokens"],
                    e["cache_read_tokens"],
                    e["cost_nanos"] or 0,
                    e["model"],
                )
                for e in sorted(events, key=lambda e: (e["ts"], e["id"]))
                if e["source"] == "api" and since <= e["ts"] < (until or NOW + DAY)
            ]
            assert limits.block_usage_rows(conn, "api", since, until) == want_rows
        conn.execute("COMMIT")
    finally:
        reader.close()
        conn.close()


_TOKEN_SUMS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
assert history.TOTAL_COLUMNS[1:5] == tuple(f"sum({c})" for c in _TOKEN_SUMS)


def _check_filters(
    conn: sqlite3.Connection, reader: Reader, events: list[dict[str, Any]], f: Filters
) -> None:
    chosen = [e for e in events if _in(e, f)]
    # The listing, page by page through its cursor: newest first.
    ids: list[int] = []
    cursor = None
    while True:
        page, cursor = reader.events(f, limit=97, cursor=cursor)
        ids.extend(e["id"] for e in page)
        if cursor is None:
            break
        assert decode_cursor(cursor)[1] == ids[-1]
    assert ids == [e["id"] for e in sorted(chosen, key=lambda e: (-e["ts"], -e["id"]))]
    # Unpriced models.
    unpriced: dict[tuple[str, str], list[Any]] = {}
    for e in chosen:
        if not e["priced"]:
            got = unpriced.setdefault((e["model"], e["provider"]), [0, None])
            got[0] += 1
            got[1] = max(filter(None, (got[1], e["unpriced_reason"])))
    assert sorted(
        ((u["model"], u["provider"]), [u["calls"], u["reason"]]) for u in reader.unpriced_models(f)
    ) == sorted(unpriced.items())
    # Summaries, the range edges cutting quarter-hours.
    by_project: dict[str, list[int]] = {}
    for e in chosen:
        sums = by_project.setdefault(e["project"], [0, 0])
        sums[0] += 1
        sums[1] += e["cost_nanos"] or 0
    summary = reader.summary("project", f)
    assert {r.key: [r.calls, r.cost_nanos] for r in summary.rows} == by_project
    # The what-if's selection (through the time index when small, else a scan).
    selection = history.Selection(conn, f)
    stamps = [e["ts"] for e in chosen]
    assert selection.span() == ((min(stamps), max(stamps)) if stamps else None)
    assert selection.totals() == [
        len(chosen),
        *(sum(e[c] for e in chosen) for c in _TOKEN_SUMS),
        sum(e["cost_nanos"] or 0 for e in chosen),
        sum(1 - e["priced"] for e in chosen),
    ]
    assert sorted(selection.contexts(), key=repr) == sorted(
        {(e["batch"], e["service_tier"]) for e in chosen}, key=repr
    )
    assert sum(group[-1] for group in selection.grouped_usage()) == len(chosen)
    # Reprice's selection: oldest first.
    assert [c.id for c in reprice.selection(conn, f)] == [
        e["id"] for e in sorted(chosen, key=lambda e: (e["ts"], e["id"]))
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "spendtray.db", seed=19)
    try:
        yield s
    finally:
        s.writer.stop()


def test_reads_by_time_equal_the_raw_events_folded_or_not_and_rewritten(store: Store) -> None:
    store.add(1_200)
    _check(store.path)  # nothing folded
    store.fold(600)
    _check(store.path)  # half folded
    store.rewrite(150)  # bigger copies, moved in time, of folded and unfolded rows
    _check(store.path)
    store.fold()
    _check(store.path)  # all folded
    store.rewrite(150)
    store.add(300)
    _check(store.path)


def _previous_schema(path: Path) -> None:
    """Turn a file back into what migrations before 0021 made: no ``events_time``, the
    ``events_ts`` index (the same SQL 0001 created it with)."""
    db = Database(sqlite3.connect(path))
    db.execute("DROP TABLE events_time")
    db.execute("CREATE INDEX events_ts ON events (ts)")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = '0021_events_time'")
    db.conn.commit()
    db.conn.close()


def _schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    conn.close()
    return rows


def test_migration_0021_indexes_the_folded_events_of_a_previous_file(tmp_path: Path) -> None:
    before = Migrations("spendtray")
    for migration in shipped.migrations._migrations:
        if migration.name < "0021":
            before(name=migration.name)(migration.fn)
    made_before = tmp_path / "made-before.db"
    before.apply(Database(sqlite3.connect(made_before)))

    store = Store(tmp_path / "spendtray.db", seed=21)
    try:
        store.add(900)
        store.fold(500)
        store.rewrite(100)
    finally:
        store.writer.stop()
    _previous_schema(store.path)
    assert _schema(store.path) == _schema(made_before)  # what the previous code made
    with sqlite3.connect(store.path) as conn:
        stored = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        assert 0 < folded_through(conn) < stored
    conn.close()

    open_for_writing(store.path).conn.close()  # migrates
    names = [name for name, _ in _schema(store.path)]
    assert "events_time" in names and "events_ts" not in names
    _check(store.path)
    store = Store(store.path, seed=22)  # the same file on: rewrites, folds, new events
    try:
        store.rewrite(100)
        _check(store.path)
        store.fold()
        store.add(200)
        _check(store.path)
    finally:
        store.writer.stop()
