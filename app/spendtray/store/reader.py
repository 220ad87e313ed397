"""Read queries for the API, the CLI and the dashboard. Any thread: each thread gets its own
read-only connection (WAL lets readers run beside the writer).

Summaries add whole UTC days and quarter-hours of the rollup tables (``store.fold``) and read
raw events only for the part quarter-hours at the ends of a range, so their cost grows with
the number of periods and keys, not with the number of events. The few events stored since
the last rollup fold are added from the events table, in the same read snapshot.

Events are selected by time through ``store.timed`` (the folded ones through ``events_time``,
which the fold keeps, the rest by their id range): no index on ``events.ts`` is written at
insert, where its entry cost each event a random page (migration 0021).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from spendtray.money import usd_float
from spendtray.store.db import BUCKET_SECONDS, open_for_reading
from spendtray.store.fold import (
    DAY_SECONDS,
    EVENT_SUMS,
    QUARTER_DIMS,
    QUARTER_SECONDS,
    QUARTER_SQL,
    folded_through,
    recent_from,
)
from spendtray.store.rows import PRICE_FIELDS, SUM_FIELDS
from spendtray.store.timebuckets import (
    TIME_GROUPS,
    key_of,
    next_start,
    period_start,
    steady_hours,
    steady_offset,
)
from spendtray.store.timed import FOLDED_EVENTS, FOLDED_ON, FOLDED_TS, between

DIMENSIONS = ("project", "model", "provider", "agent", "source", "machine")
GROUPS = (*DIMENSIONS, *TIME_GROUPS)
MAX_LIMIT = 1000


class QueryError(ValueError):
    """A query parameter is wrong; ``field`` names it."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True)
class Filters:
    project: str | None = None
    model: str | None = None
    provider: str | None = None
    agent: str | None = None
    source: str | None = None
    machine: str | None = None
    since: dt.datetime | None = None  # inclusive, tz-aware
    until: dt.datetime | None = None  # exclusive, tz-aware

    def dimension_sql(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        args: list[Any] = []
        for name in DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name} = ?")
                args.append("" if name == "agent" and value == "" else value)
        return (" AND ".join(parts) or "1"), args


@dataclass
class SummaryRow:
    key: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_nanos: int = 0
    unpriced_calls: int = 0

    def add(self, values: tuple[int, ...]) -> None:
        for name, value in zip(SUM_FIELDS, values, strict=True):
            setattr(self, name, getattr(self, name) + int(value or 0))

    def sums(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in SUM_FIELDS)

    @classmethod
    def summed(cls, key: str, rows: list[tuple[int, ...]]) -> SummaryRow:
        """One row with the column sums of ``rows`` (values in ``SUM_FIELDS`` order)."""
        if len(rows) == 1:
            return cls(key, *rows[0])
        return cls(key, *map(sum, zip(*rows, strict=True)))


@dataclass
class Summary:
    group_by: str
    rows: list[SummaryRow]
    total: SummaryRow = field(default_factory=lambda: SummaryRow(key="total"))


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _ms(stamp: dt.datetime) -> int:
    return int(stamp.timestamp() * 1000)


def encode_cursor(ts: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{ts}:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        ts, _, event_id = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return int(ts), int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise QueryError("cursor", "is not a cursor this server handed out") from None


QUARTER_MS = QUARTER_SECONDS * 1000
PROJECTS = "SELECT DISTINCT key FROM rollup_day WHERE dim = 'project'"
DAY_MS = DAY_SECONDS * 1000


def _ceil_ms(stamp: dt.datetime) -> int:
    """``stamp`` in epoch ms, rounded up: ``ts >= _ceil_ms(t)`` is exactly ``ts >= t``."""
    micros = (stamp - _EPOCH) // dt.timedelta(microseconds=1)
    return -(-micros // 1000)


def _decompose(
    index: int,
    a: int,
    b: int,
    days: list[list[int]],
    quarters: list[list[int]],
    raw: list[list[int]],
) -> None:
    """Spans [index, sign, start, end) whose signed sums make [a, b) (epoch ms): whole UTC days
    (seconds), whole quarter-hours added or taken off between the period's ends and the
    nearest midnights (seconds), and the part quarter-hours at its ends as events (ms)."""
    first, last = -(-a // QUARTER_MS) * QUARTER_MS, b // QUARTER_MS * QUARTER_MS
    if first >= last:
        raw.append([index, 1, a, b])
        return
    if a < first:
        raw.append([index, 1, a, first])
    if last < b:
        raw.append([index, 1, last, b])
    day_lo = (first + DAY_MS // 2) // DAY_MS * DAY_MS
    day_hi = (last + DAY_MS // 2) // DAY_MS * DAY_MS
    # Whole days and the quarter-hours to their nearest midnights only where that is less to
    # read than the quarter-hours themselves (not for an hour that happens to cross noon).
    if day_lo >= day_hi or abs(first - day_lo) + abs(last - day_hi) >= last - first:
        quarters.append([index, 1, first // 1000, last // 1000])
        return
    days.append([index, 1, day_lo // 1000, day_hi // 1000])
    for x, y in ((first, day_lo), (day_hi, last)):
        if x != y:
            sign = 1 if x < y else -1
            quarters.append([index, sign, min(x, y) // 1000, max(x, y) // 1000])


def _read_spans(
    conn: sqlite3.Connection,
    spans: list[list[int]],
    table: str,
    at: str,
    cond: str,
    columns: str,
    params: list[Any],
    unit: int | None,
) -> Iterator[tuple[tuple[int, int], Any, list[int]]]:
    """((period index, sign), key, sums) for each span [index, sign, a, b) of ``spans`` and key
    with rows in it: ``table`` rows with ``at`` in [a, b) that meet ``cond``, summed.

    Each distinct span is read once (a day's periods share the hours at their ends: one adds
    the hour before its first midnight, the one before takes it off). Where the spans cover
    most of the time between the first and the last, one range read sorted out here beats a
    seek per span: a summary by hour over months has thousands of them (``_read_range``)."""
    uses: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for index, sign, a, b in spans:
        uses.setdefault((a, b), []).append((index, sign))
    if unit is not None:
        # Summed in SQL by the longest step nearly every span starts and ends on: the hours of
        # a whole-hour zone are one row each rather than four quarter-hours. The rest (a
        # range's unaligned ends) are read span by span.
        for step in (3600, 1800, 900) if unit < 3600 else (unit,):
            dense = {span: t for span, t in uses.items() if span[0] % step == span[1] % step == 0}
            if 10 * len(dense) >= 9 * len(uses):
                break
        lo = min(a for a, _ in dense)
        hi = max(b for _, b in dense)
        if 2 * sum(b - a for a, b in dense) >= hi - lo:
            uses = {span: t for span, t in uses.items() if span not in dense}
            yield from _read_range(conn, dense, step, lo, hi, table, at, cond, columns, params)
            if not uses:
                return
    distinct = list(uses)
    sql = (
        "WITH p(u, a, b) AS (SELECT key, json_extract(value, '$[0]'), "
        "json_extract(value, '$[1]') FROM json_each(?)) "
        f"SELECT p.u, {columns} FROM p JOIN {table} ON {at} >= p.a AND {at} < p.b AND {cond} "
        "GROUP BY 1, 2"
    )
    for span, key, *values in conn.execute(sql, [json.dumps(distinct), *params]):
        for target in uses[distinct[span]]:
            yield target, key, list(values)


def _read_range(
    conn: sqlite3.Connection,
    uses: dict[tuple[int, int], list[tuple[int, int]]],
    step: int,
    lo: int,
    hi: int,
    table: str,
    at: str,
    cond: str,
    columns: str,
    params: list[Any],
) -> Iterator[tuple[tuple[int, int], Any, list[int]]]:
    """``_read_spans`` for spans that cover most of [lo, hi), all on multiples of ``step``:
    one range read summed by ``step``, each sum handed to the spans holding it."""
    owners: dict[int, list[tuple[int, int]]] = {}
    for (a, b), targets in uses.items():
        for start in range(a, b, step):
            owners.setdefault(start, []).extend(targets)
    sql = (
        f"SELECT {at} / {step} * {step}, {columns} FROM {table} "
        f"WHERE {at} >= ? AND {at} < ? AND {cond} GROUP BY 1, 2"
    )
    for start, key, *values in conn.execute(sql, [lo, hi, *params]):
        for target in owners.get(start, ()):
            yield target, key, list(values)


def _unfolded_sums(
    conn: sqlite3.Connection, at: str, key_col: str, where: str, params: list[Any]
) -> list[tuple[Any, ...]]:
    """(time ``at``, key, sums) of the events above the folded id in [lo, hi), grouped by
    ``at`` and ``key_col``; ``params`` are ``at``'s own, then the id, lo, hi and ``where``'s."""
    key_sql = key_col or "''"
    return conn.execute(
        f"SELECT {at}, {key_sql}, {EVENT_SUMS} FROM events NOT INDEXED "
        f"WHERE id > ? AND ts >= ? AND ts < ? AND {where} GROUP BY 1, 2",
        params,
    ).fetchall()


def _add_to(
    acc: dict[tuple[int, str], list[int]], key: tuple[int, str], sign: int, values: list[int]
) -> None:
    target = acc.get(key)
    if target is None:
        acc[key] = values if sign == 1 else [-value for value in values]
    else:
        acc[key] = [have + sign * value for have, value in zip(target, values, strict=True)]


class Reader:
    """Read-side queries over one database file."""

    def __init__(self, db_path: Path, zone: ZoneInfo, week_start: int = 0) -> None:
        self.db_path = db_path
        self.zone = zone
        self.week_start = week_start
        self._local = threading.local()
        # Every thread's connection, so ``close`` (on the stopping thread) closes them all;
        # a thread whose connection was closed opens a new one on its next read.
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_for_reading(self.db_path)
            with self._opened_lock:
                self._opened.append(conn)
            self._local.conn = conn
        return conn

    # -- summaries -----------------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: the rollups, the folded id and the events agree."""
        conn = self.conn()
        if conn.in_transaction:  # the caller holds a snapshot already
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @staticmethod
    def _unfolded(conn: sqlite3.Connection) -> int | None:
        """The folded id when events above it exist, else None (nothing to add)."""
        folded = folded_through(conn)
        newest = conn.execute("SELECT max(id) FROM events").fetchone()[0]
        return folded if newest is not None and newest > folded else None

    @staticmethod
    def _bounds(conn: sqlite3.Connection, folded: int | None) -> tuple[int, int] | None:
        """First and last stored quarter-hour start, epoch seconds."""
        lo, hi = conn.execute(
            "SELECT min(bucket), max(bucket) FROM rollup_quarter WHERE dim = 'total'"
        ).fetchone()
        if folded is not None:
            # NOT INDEXED: only the id range, whatever the planner thinks of the ts index.
            new_lo, new_hi = conn.execute(
                f"SELECT min({QUARTER_SQL}), max({QUARTER_SQL}) FROM events NOT INDEXED "
                "WHERE id > ?",
                (folded,),
            ).fetchone()
            if new_lo is not None:
                lo = new_lo if lo is None else min(lo, new_lo)
                hi = new_hi if hi is None else max(hi, new_hi)
        if lo is None:
            return None
        return int(lo), int(hi)

    def summary(self, group_by: str, filters: Filters, zone: ZoneInfo | None = None) -> Summary:
        if group_by not in GROUPS:
            raise QueryError("group_by", f"must be one of {', '.join(GROUPS)}")
        with self.snapshot() as conn:
            return self._summary(conn, group_by, filters, zone or self.zone)

    def _summary(
        self, conn: sqlite3.Connection, group_by: str, filters: Filters, zone: ZoneInfo
    ) -> Summary:
        folded = self._unfolded(conn)
        bounds = self._bounds(conn, folded)
        if bounds is None:
            return Summary(group_by, [])
        # No data lies outside the stored bounds: a range since 1900 costs what the data does.
        lo = bounds[0] * 1000
        hi = (bounds[1] + QUARTER_SECONDS) * 1000
        if filters.since is not None:
            lo = max(lo, _ceil_ms(filters.since))
        if filters.until is not None:
            hi = min(hi, _ceil_ms(filters.until))
        if lo >= hi:
            return Summary(group_by, [])
        where, args = filters.dimension_sql()
        key_col = "" if group_by in TIME_GROUPS else group_by
        unfolded: list[tuple[Any, ...]] = []
        if folded is not None:
            # Summed in SQL per quarter-hour (clipped to lo) for a time grouping, else over
            # the whole range: after a burst of imports hundreds of thousands of events can
            # wait to be folded, and one Python row each took seconds. Exact because every
            # period edge inside [lo, hi) is a whole quarter-hour: events are stored from 2015
            # on (ingest.event), and since then every zone's offset is whole quarter-hours
            # (tests/store/test_unfolded_summaries.py checks the tz database for it).
            at = f"max(ts / {QUARTER_MS} * {QUARTER_MS}, ?)" if key_col == "" else "?"
            unfolded = _unfolded_sums(conn, at, key_col, where, [lo, folded, lo, hi, *args])
        if group_by in TIME_GROUPS:
            periods = self._periods(conn, group_by, zone, lo, hi, unfolded)
        else:
            periods = [("", lo, hi)]
        acc = self._sum_periods(conn, periods, key_col, where, args, folded, unfolded)
        if group_by in TIME_GROUPS:
            rows = [SummaryRow(periods[i][0], *acc[i, ""]) for i, _ in sorted(acc)]
        else:
            rows = [SummaryRow(key, *sums) for (_, key), sums in acc.items()]
            rows.sort(key=lambda r: (-r.cost_nanos, -r.calls, r.key))
        rows = [row for row in rows if row.calls > 0]
        total = SummaryRow("total", *(sum(column) for column in zip(*acc.values(), strict=True)))
        return Summary(group_by, rows, total)

    def _sum_periods(
        self,
        conn: sqlite3.Connection,
        periods: list[tuple[str, int, int]],
        key_col: str,
        where: str,
        args: list[Any],
        folded: int | None,
        unfolded: list[tuple[Any, ...]],
    ) -> dict[tuple[int, str], list[int]]:
        """Sums per (period index, ``key_col`` value) over each period [a, b) (epoch ms).

        Each period is whole UTC days (``rollup_day`` when at most one dimension is involved,
        else ``rollup_key_day``) give or take the quarter-hours between its ends and the
        nearest midnights (``rollup_quarter`` for the total, else ``rollup_key_quarter``),
        plus the events in the part quarter-hours at its ends. Events not folded yet are added by
        their timestamps (the raw parts read folded events only)."""
        days: list[list[int]] = []
        quarters: list[list[int]] = []
        raw: list[list[int]] = []
        for index, (_, a, b) in enumerate(periods):
            _decompose(index, a, b, days, quarters, raw)
        dims = self._dims(key_col, where)
        dim_quarters = len(dims) == 0 or (len(dims) == 1 and next(iter(dims)) in QUARTER_DIMS)
        # (spans, table, its time column, a condition on its rows, key and sums, parameters,
        # seconds per row of the time column: None for the events)
        reads: list[tuple[list[list[int]], str, str, str, str, list[Any], int | None]] = []
        rollup_sums = ", ".join(f"sum(r.{name})" for name in SUM_FIELDS)
        dim = next(iter(dims)) if len(dims) == 1 else "total"
        match = " AND r.key = ?" if where != "1" else ""
        per_dim = (f"r.dim = ?{match}", f"{'r.key' if key_col else chr(39) * 2}, {rollup_sums}")
        keyed = (where, f"{key_col or chr(39) * 2}, {rollup_sums}")
        for spans, period, at, unit, own in (
            (days, "day", "r.day", DAY_SECONDS, len(dims) <= 1),
            (quarters, "quarter", "r.bucket", QUARTER_SECONDS, dim_quarters),
        ):
            if own:
                reads.append((spans, f"rollup_{period} r", at, *per_dim, [dim, *args], unit))
            elif period == "quarter" and "project" not in self._dims("", where):
                # Keyed by project first: every stored project's range of the quarter-hours.
                every = f"project IN ({PROJECTS}) AND {where}"
                reads.append((spans, "rollup_key_quarter r", at, every, keyed[1], args, unit))
            else:
                reads.append((spans, f"rollup_key_{period} r", at, *keyed, args, unit))
        # The folded events only, through their time index (store.timed); the others are in
        # ``unfolded``.
        columns = f"{key_col or chr(39) * 2}, {EVENT_SUMS}"
        on = f"{FOLDED_ON} AND {where}"
        reads.append((raw, FOLDED_EVENTS, FOLDED_TS, on, columns, list(args), None))
        acc: dict[tuple[int, str], list[int]] = {}
        for spans, table, at, cond, columns, params, seconds in reads:
            if spans:
                for (index, sign), key, values in _read_spans(
                    conn, spans, table, at, cond, columns, params, seconds
                ):
                    _add_to(acc, (index, key if key is not None else ""), sign, values)
        if unfolded:
            starts = [a for _, a, _ in periods]
            for ts, key, *values in unfolded:
                index = bisect.bisect_right(starts, ts) - 1
                if index >= 0 and ts < periods[index][2]:
                    _add_to(acc, (index, key if key is not None else ""), 1, values)
        return acc

    def _periods(
        self,
        conn: sqlite3.Connection,
        group_by: str,
        zone: ZoneInfo,
        lo: int,
        hi: int,
        unfolded: list[tuple[Any, ...]],
    ) -> list[tuple[str, int, int]]:
        """(key, start, end) in epoch ms, clipped to [lo, hi), of the periods that overlap a
        UTC day holding data, in time order: a range since 1900 costs what the data does."""
        lo_s, hi_s = lo // 1000, -(-hi // 1000)
        day_lo = lo_s // DAY_SECONDS * DAY_SECONDS
        days = {
            int(day)
            for (day,) in conn.execute(
                "SELECT day FROM rollup_day WHERE dim = 'total' AND day >= ? AND day < ?",
                (day_lo, hi_s),
            )
        }
        days.update(row[0] // 1000 // DAY_SECONDS * DAY_SECONDS for row in unfolded)
        found: dict[int, tuple[str, int, int]] = {}
        for day in sorted(days):
            first = max(day, lo_s)
            last = min(day + DAY_SECONDS, hi_s)
            if first >= last:
                continue
            offset = steady_offset(day, day + DAY_SECONDS, zone) if group_by == "hour" else None
            if offset is not None:
                for key, start in steady_hours(first, last, offset):
                    if start not in found:
                        found[start] = (key, max(start * 1000, lo), min((start + 3600) * 1000, hi))
                continue
            at = period_start(
                dt.datetime.fromtimestamp(first, dt.UTC).astimezone(zone), group_by, self.week_start
            )
            while True:
                start = int(at.timestamp())
                if start >= last:
                    break
                nxt = next_start(at, group_by)
                if start not in found:
                    end = int(nxt.timestamp())
                    found[start] = (
                        key_of(at, group_by),
                        max(start * 1000, lo),
                        min(end * 1000, hi),
                    )
                at = nxt
        return [found[start] for start in sorted(found)]

    @staticmethod
    def _dims(key_col: str, where: str) -> set[str]:
        """The dimensions a query groups or filters by."""
        filtered = {name for name in DIMENSIONS if f"{name} = ?" in where}
        return filtered | ({key_col} if key_col else set())

    def spend_nanos(self, filters: Filters) -> int:
        """Total cost in [since, until) for the filters (budgets)."""
        return self.summary("project", filters).total.cost_nanos

    # -- events --------------------------------------------------------------------------

    def events(
        self, filters: Filters, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        if limit < 1 or limit > MAX_LIMIT:
            raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
        where, args = filters.dimension_sql()
        if cursor:
            ts, event_id = decode_cursor(cursor)
            where += " AND ({ts} < ? OR ({ts} = ? AND {id} < ?))"
            args.extend([ts, ts, event_id])
        since = None if filters.since is None else _ms(filters.since)
        until = None if filters.until is None else _ms(filters.until)
        page, params = between("{ts} AS ts, {id} AS id", where, args, since, until, ordered=True)
        # The page's ids first (newest first through the time index), then each event and its
        # price (an id into prices_used) joined to them.
        sql = (
            f"SELECT e.*, {', '.join(f'p.{name}' for name in PRICE_FIELDS)} "
            f"FROM ({page} ORDER BY ts DESC, id DESC LIMIT ?) k JOIN events e ON e.id = k.id "
            "LEFT JOIN prices_used p ON p.id = e.price_id ORDER BY e.ts DESC, e.id DESC"
        )
        conn = self.conn()
        cur = conn.execute(sql, [*params, limit + 1])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(int(rows[-1]["ts"]), int(rows[-1]["id"]))
        return [event_json(r) for r in rows], next_cursor

    def unpriced_models(self, filters: Filters) -> list[dict[str, Any]]:
        where, args = filters.dimension_sql()
        since = None if filters.since is None else _ms(filters.since)
        until = None if filters.until is None else _ms(filters.until)
        selected, params = between(
            "e.model, e.provider, e.unpriced_reason", f"{where} AND priced = 0", args, since, until
        )
        cur = self.conn().execute(
            "SELECT model, provider, count(*), max(unpriced_reason) "
            f"FROM ({selected}) GROUP BY model, provider ORDER BY count(*) DESC",
            params,
        )
        return [
            {"model": m, "provider": p, "calls": n, "reason": reason}
            for m, p, n, reason in cur.fetchall()
        ]

    def stored_values(self, dimension: str) -> list[str]:
        """Every value of ``dimension`` (project, model, …) any stored call has, sorted."""
        if dimension not in DIMENSIONS:
            raise QueryError("dimension", f"must be one of {', '.join(DIMENSIONS)}")
        with self.snapshot() as conn:
            values = {
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT key FROM rollup_day WHERE dim = ?", (dimension,)
                )
            }
            folded = self._unfolded(conn)
            if folded is not None:
                values.update(
                    row[0]
                    for row in conn.execute(
                        f"SELECT DISTINCT {dimension} FROM events NOT INDEXED WHERE id > ?",
                        (folded,),
                    )
                )
        return sorted(v for v in values if v is not None)

    def count(self) -> int:
        """How many events are stored."""
        with self.snapshot() as conn:
            row = conn.execute(
                "SELECT coalesce(sum(calls), 0) FROM rollup_day WHERE dim = 'total'"
            ).fetchone()
            folded = self._unfolded(conn)
            extra = 0
            if folded is not None:
                extra = conn.execute(
                    "SELECT count(*) FROM events NOT INDEXED WHERE id > ?", (folded,)
                ).fetchone()[0]
        return int(row[0]) + int(extra)

    def cost_per_bucket(self, project: str, start: int, end: int) -> dict[int, int]:
        """Cost in nano-dollars per quarter-hour bucket in [start, end) (epoch seconds).

        ``rollup_recent`` keeps the last two days' (``store.fold.RECENT_SECONDS``), what the
        runaway alarm asks for; older quarter-hours come from the events."""
        per_bucket: dict[int, int] = {}
        quarter = f"ts / 1000 / {BUCKET_SECONDS} * {BUCKET_SECONDS}"
        with self.snapshot() as conn:
            kept = recent_from(conn)
            middle = start if kept is None else min(max(start, kept), end)
            parts: list[tuple[str, list[Any]]] = []
            if start < middle or kept is None:
                # All the events there, folded or not.
                selected, params = between(
                    "{ts} AS ts, e.cost_nanos",
                    "project = ?",
                    [project],
                    start * 1000,
                    (end if kept is None else middle) * 1000,
                )
                parts.append(
                    (
                        f"SELECT {quarter} AS b, sum(coalesce(cost_nanos, 0)) "
                        f"FROM ({selected}) GROUP BY b",
                        params,
                    )
                )
            if kept is not None and middle < end:
                parts.append(
                    (
                        "SELECT bucket, cost_nanos FROM rollup_recent "
                        "WHERE bucket >= ? AND bucket < ? AND project = ?",
                        [middle, end, project],
                    )
                )
                folded = self._unfolded(conn)
                if folded is not None:
                    parts.append(
                        (
                            f"SELECT {quarter} AS b, sum(coalesce(cost_nanos, 0)) FROM events "
                            "NOT INDEXED WHERE id > ? AND ts >= ? AND ts < ? AND project = ? "
                            "GROUP BY b",
                            [folded, middle * 1000, end * 1000, project],
                        )
                    )
            for sql, params in parts:
                for bucket, nanos in conn.execute(sql, params):
                    per_bucket[int(bucket)] = per_bucket.get(int(bucket), 0) + int(nanos)
        return per_bucket

    def close_this_thread(self) -> None:
        """Close the calling thread's connection only (a worker thread that ends while the rest
        of the app reads on: closing another thread's connection under a running query can
        crash the process)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._opened_lock:
            if conn in self._opened:
                self._opened.remove(conn)
        conn.close()

    def close(self) -> None:
        """Close the connection of every thread that read (the app is stopping: no reads run)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
            # a new generation of thread-locals: no thread keeps a closed connection
            self._local = threading.local()
        for conn in opened:
            conn.close()


def event_json(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row in the API's shape (canonical field names, dollars at the edge)."""
    ts = dt.datetime.fromtimestamp(row["ts"] / 1000, dt.UTC)
    return {
        "id": row["id"],
        "timestamp": ts.isoformat().replace("+00:00", "Z"),
        "model": row["model"],
        "provider": row["provider"],
        "project": row["project"],
        "agent": row["agent"] or None,
        "user": row["user"],
        "session": row["session"],
        "trace_id": row["trace_id"],
        "request_id": row["request_id"],
        "source": row["source"],
        "machine": row["machine"],
        "service_tier": row["service_tier"],
        "batch": bool(row["batch"]),
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "cache_read_tokens": row["cache_read_tokens"],
        "cache_write_tokens": row["cache_write_tokens"],
        "cache_write_5m_tokens": row["cache_write_5m_tokens"],
        "cache_write_1h_tokens": row["cache_write_1h_tokens"],
        "reasoning_tokens": row["reasoning_tokens"],
        "cost_usd": usd_float(row["cost_nanos"]),
        "priced": bool(row["priced"]),
        "unpriced_reason": row["unpriced_reason"],
        "reported_cost_usd": usd_float(row["reported_cost_nanos"]),
        "price": {
            "model": row["price_model"],
            "provider": row["price_provider"],
            "source": row["price_source"],
            "date": row["price_date"],
            "unit_prices": json.loads(row["unit_prices"]) if row["unit_prices"] else None,
        },
        "latency_ms": row["latency_ms"],
        "status": row["status"],
        "tags": json.loads(row["tags"]) if row["tags"] else None,
    }


def summary_row_json(row: SummaryRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "calls": row.calls,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cache_read_tokens": row.cache_read_tokens,
        "cache_write_tokens": row.cache_write_tokens,
        "reasoning_tokens": row.reasoning_tokens,
        "cost_usd": usd_float(row.cost_nanos),
        "unpriced_calls": row.unpriced_calls,
    }
