"""Read queries for the API, the CLI and the dashboard. Any thread: each thread gets its own
read-only connection (WAL lets readers run beside the writer).

Summaries add whole quarter-hour rollup buckets and read raw events only for the partial
buckets at the edges of the requested range, so their cost grows with the number of buckets
and keys, not with the number of events. The few events stored since the last rollup fold
(``store.fold``) are added from the events table, in the same read snapshot.
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
    BUCKET_SQL,
    DAY_SECONDS,
    EVENT_SUMS,
    ROLLUP_SUMS,
    folded_through,
)
from spendtray.store.rows import PRICE_FIELDS, SUM_FIELDS
from spendtray.store.timebuckets import TIME_GROUPS, key_of, next_start, period_start

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
        """First and last stored bucket start, epoch seconds."""
        lo, hi = conn.execute(
            "SELECT min(bucket), max(bucket) FROM rollup_dim WHERE dim = 'total'"
        ).fetchone()
        if folded is not None:
            # NOT INDEXED: only the id range, whatever the planner thinks of the ts index.
            new_lo, new_hi = conn.execute(
                f"SELECT min({BUCKET_SQL}), max({BUCKET_SQL}) FROM events NOT INDEXED WHERE id > ?",
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
        since = filters.since or dt.datetime.fromtimestamp(bounds[0], dt.UTC)
        until = filters.until or dt.datetime.fromtimestamp(bounds[1] + BUCKET_SECONDS, dt.UTC)
        if since >= until:
            return Summary(group_by, [])
        # No data lies outside the stored bounds: a range since 1900 costs what the data does.
        since = max(since, dt.datetime.fromtimestamp(bounds[0], dt.UTC))
        until = min(until, dt.datetime.fromtimestamp(bounds[1] + BUCKET_SECONDS, dt.UTC))
        if since >= until:
            return Summary(group_by, [])
        where, args = filters.dimension_sql()
        key_col = "" if group_by in TIME_GROUPS else group_by
        unfolded: list[tuple[Any, ...]] = []
        if folded is not None:
            key_sql = key_col or "''"
            unfolded = conn.execute(
                f"SELECT {BUCKET_SQL} AS b, {key_sql}, {EVENT_SUMS} FROM events NOT INDEXED "
                f"WHERE id > ? AND {where} GROUP BY b, {key_sql}",
                [folded, *args],
            ).fetchall()
        if group_by in TIME_GROUPS:
            rows = self._by_time(conn, group_by, zone, since, until, where, args, unfolded)
        else:
            acc: dict[str, SummaryRow] = {}
            self._by_key(conn, acc, since, until, key_col, where, args, unfolded)
            rows = sorted(acc.values(), key=lambda r: (-r.cost_nanos, -r.calls, r.key))
        total = (
            SummaryRow.summed("total", [r.sums() for r in rows]) if rows else SummaryRow("total")
        )
        return Summary(group_by, rows, total)

    def _by_key(
        self,
        conn: sqlite3.Connection,
        acc: dict[str, SummaryRow],
        lo: dt.datetime,
        hi: dt.datetime,
        key_col: str,
        where: str,
        args: list[Any],
        unfolded: list[tuple[Any, ...]],
    ) -> None:
        """Sums per ``key_col`` over [lo, hi): whole UTC days from ``rollup_day`` when at most
        one dimension is involved, the partial days at the edges by quarter-hour and raw
        events (``_sum_range``)."""
        lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
        day_lo = -(-lo_s // DAY_SECONDS) * DAY_SECONDS
        day_hi = hi_s // DAY_SECONDS * DAY_SECONDS
        dims = self._dims(key_col, where)
        if len(dims) > 1 or day_lo >= day_hi:
            self._sum_range(conn, acc, "", lo, hi, key_col, where, args, unfolded)
            return
        dim = next(iter(dims)) if dims else "total"
        sql = f"SELECT key, {ROLLUP_SUMS} FROM rollup_day WHERE dim = ? AND day >= ? AND day < ?"
        params: list[Any] = [dim, day_lo, day_hi]
        if where != "1":
            sql += " AND key = ?"
            params.append(args[0])
        found: list[tuple[Any, ...]] = list(conn.execute(sql + " GROUP BY key", params))
        found.extend(row[1:] for row in unfolded if day_lo <= row[0] < day_hi)
        self._add_found(acc, "", key_col, found)
        day_lo_at = dt.datetime.fromtimestamp(day_lo, dt.UTC)
        day_hi_at = dt.datetime.fromtimestamp(day_hi, dt.UTC)
        self._sum_range(conn, acc, "", lo, day_lo_at, key_col, where, args, unfolded)
        self._sum_range(conn, acc, "", day_hi_at, hi, key_col, where, args, unfolded)

    def _by_time(
        self,
        conn: sqlite3.Connection,
        group_by: str,
        zone: ZoneInfo,
        lo: dt.datetime,
        hi: dt.datetime,
        where: str,
        args: list[Any],
        unfolded: list[tuple[Any, ...]],
    ) -> list[SummaryRow]:
        """Sums per hour/day/week/month of ``zone`` over [lo, hi), only the periods with data.

        The periods are those around the UTC days that hold data (``rollup_day``), so a range
        since 1900 costs what the data does. Whole quarter-hours are summed per period in one
        query (every zone's hours, days, weeks and months start on a quarter-hour); raw events
        fill the partial quarter-hours at the range's two edges."""
        lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
        periods = self._periods(conn, group_by, zone, lo_s, hi_s, unfolded)
        if not periods:
            return []
        full_lo = -(-lo_s // BUCKET_SECONDS) * BUCKET_SECONDS
        full_hi = hi_s // BUCKET_SECONDS * BUCKET_SECONDS
        acc: dict[int, list[tuple[int, ...]]] = {}  # period index -> sums to add up
        found: list[tuple[Any, ...]] = []  # (an instant in seconds, *sums) to place in a period
        edges = [(lo_s, hi_s)]
        if full_lo < full_hi:
            edges = [(lo_s, full_lo), (full_hi, hi_s)]
            spans = json.dumps([[i, max(a, full_lo), min(b, full_hi)] for i, (_, a, b) in
                                enumerate(periods)])  # fmt: skip
            dims = self._dims("", where)
            if len(dims) <= 1:
                dim = next(iter(dims)) if dims else "total"
                join = "rollup_dim r ON r.dim = ? AND r.bucket >= p.a AND r.bucket < p.b"
                params: list[Any] = [spans, dim]
                if dims:
                    join += " AND r.key = ?"
                    params.append(args[0])
            else:
                join = f"rollup r ON r.bucket >= p.a AND r.bucket < p.b AND {where}"
                params = [spans, *args]
            sums = ", ".join(f"sum(r.{name})" for name in SUM_FIELDS)
            for index, *values in conn.execute(
                "WITH p(i, a, b) AS (SELECT value ->> 0, value ->> 1, value ->> 2 "
                f"FROM json_each(?)) SELECT p.i, {sums} FROM p JOIN {join} GROUP BY p.i",
                params,
            ):
                acc[index] = [tuple(values)]
            found.extend((row[0], *row[2:]) for row in unfolded if full_lo <= row[0] < full_hi)
        for a, b in edges:
            if a < b:
                sums_row = conn.execute(
                    f"SELECT {EVENT_SUMS} FROM events WHERE ts >= ? AND ts < ? AND {where}",
                    [a * 1000, b * 1000, *args],
                ).fetchone()
                if sums_row[0]:
                    found.append((a, *sums_row))
        starts = [a for _, a, _ in periods]
        for at, *values in found:
            index = bisect.bisect_right(starts, at) - 1
            if index < 0 or at >= periods[index][2]:
                continue  # outside every period: cannot happen for data inside [lo, hi)
            acc.setdefault(index, []).append(tuple(values))
        return [SummaryRow.summed(periods[i][0], acc[i]) for i in sorted(acc)]

    def _periods(
        self,
        conn: sqlite3.Connection,
        group_by: str,
        zone: ZoneInfo,
        lo_s: int,
        hi_s: int,
        unfolded: list[tuple[Any, ...]],
    ) -> list[tuple[str, int, int]]:
        """(key, start, end) in epoch seconds, clipped to [lo_s, hi_s), of the periods that
        overlap a UTC day holding data, in time order."""
        day_lo = lo_s // DAY_SECONDS * DAY_SECONDS
        days = {
            int(day)
            for (day,) in conn.execute(
                "SELECT day FROM rollup_day WHERE dim = 'total' AND day >= ? AND day < ?",
                (day_lo, hi_s),
            )
        }
        days.update(row[0] // DAY_SECONDS * DAY_SECONDS for row in unfolded)
        found: dict[int, tuple[str, int, int]] = {}
        for day in sorted(days):
            first = max(day, lo_s)
            last = min(day + DAY_SECONDS, hi_s)
            if first >= last:
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
                    found[start] = (key_of(at, group_by), max(start, lo_s), min(end, hi_s))
                at = nxt
        return [found[start] for start in sorted(found)]

    @staticmethod
    def _dims(key_col: str, where: str) -> set[str]:
        """The dimensions a query groups or filters by."""
        filtered = {name for name in DIMENSIONS if f"{name} = ?" in where}
        return filtered | ({key_col} if key_col else set())

    @staticmethod
    def _add_found(
        acc: dict[str, SummaryRow], period_key: str, key_col: str, found: list[tuple[Any, ...]]
    ) -> None:
        for row in found:
            if row[1] is None:
                continue
            key = period_key if not key_col else (row[0] if row[0] is not None else "")
            target = acc.get(key)
            if target is None:
                target = acc[key] = SummaryRow(key=key)
            target.add(tuple(row[1:]))

    def _sum_range(
        self,
        conn: sqlite3.Connection,
        acc: dict[str, SummaryRow],
        period_key: str,
        lo: dt.datetime,
        hi: dt.datetime,
        key_col: str,
        where: str,
        args: list[Any],
        unfolded: list[tuple[Any, ...]],
    ) -> None:
        lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
        full_lo = -(-lo_s // BUCKET_SECONDS) * BUCKET_SECONDS
        full_hi = hi_s // BUCKET_SECONDS * BUCKET_SECONDS
        select_key = f"{key_col}, " if key_col else "'', "
        group = f" GROUP BY {key_col}" if key_col else ""
        parts: list[tuple[str, list[Any]]] = []
        found: list[tuple[Any, ...]] = []
        if full_lo < full_hi:
            parts.append(self._rollup_query(key_col, where, args, full_lo, full_hi))
            edges = [(lo_s * 1000, full_lo * 1000), (full_hi * 1000, hi_s * 1000)]
            # Whole buckets hold folded events in the rollups; add the unfolded ones.
            found.extend(row[1:] for row in unfolded if full_lo <= row[0] < full_hi)
        else:
            edges = [(lo_s * 1000, hi_s * 1000)]
        # Raw events in partial buckets at the edges (at most 15 minutes each side).
        for a, b in edges:
            if a < b:
                parts.append(
                    (
                        f"SELECT {select_key}{EVENT_SUMS} FROM events "
                        f"WHERE ts >= ? AND ts < ? AND {where}{group}",
                        [a, b, *args],
                    )
                )
        for sql, params in parts:
            found.extend(conn.execute(sql, params))
        self._add_found(acc, period_key, key_col, found)

    @staticmethod
    def _rollup_query(
        key_col: str, where: str, args: list[Any], lo: int, hi: int
    ) -> tuple[str, list[Any]]:
        """Whole buckets: the per-dimension rollup when at most one dimension is involved,
        else the full-key rollup."""
        filtered = [name for name in DIMENSIONS if f"{name} = ?" in where]
        dims = Reader._dims(key_col, where)
        if len(dims) <= 1:
            dim = next(iter(dims)) if dims else "total"
            sql = f"SELECT {'key' if key_col else chr(39) * 2}, {ROLLUP_SUMS} FROM rollup_dim "
            sql += "WHERE dim = ? AND bucket >= ? AND bucket < ?"
            params: list[Any] = [dim, lo, hi]
            if filtered:
                sql += " AND key = ?"
                params.append(args[0])
            if key_col:
                sql += " GROUP BY key"
            return sql, params
        group = f" GROUP BY {key_col}" if key_col else ""
        select_key = f"{key_col}, " if key_col else "'', "
        return (
            f"SELECT {select_key}{ROLLUP_SUMS} FROM rollup "
            f"WHERE bucket >= ? AND bucket < ? AND {where}{group}",
            [lo, hi, *args],
        )

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
        clauses = [where]
        if filters.since is not None:
            clauses.append("ts >= ?")
            args.append(_ms(filters.since))
        if filters.until is not None:
            clauses.append("ts < ?")
            args.append(_ms(filters.until))
        if cursor:
            ts, event_id = decode_cursor(cursor)
            clauses.append("(ts < ? OR (ts = ? AND id < ?))")
            args.extend([ts, ts, event_id])
        page = (
            f"SELECT * FROM events WHERE {' AND '.join(clauses)} ORDER BY ts DESC, id DESC LIMIT ?"
        )
        # The page first, then each event's price (an id into prices_used) joined to it.
        sql = (
            f"SELECT e.*, {', '.join(f'p.{name}' for name in PRICE_FIELDS)} FROM ({page}) e "
            "LEFT JOIN prices_used p ON p.id = e.price_id ORDER BY e.ts DESC, e.id DESC"
        )
        conn = self.conn()
        cur = conn.execute(sql, [*args, limit + 1])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(int(rows[-1]["ts"]), int(rows[-1]["id"]))
        return [event_json(r) for r in rows], next_cursor

    def unpriced_models(self, filters: Filters) -> list[dict[str, Any]]:
        where, args = filters.dimension_sql()
        clauses = [where, "priced = 0"]
        if filters.since is not None:
            clauses.append("ts >= ?")
            args.append(_ms(filters.since))
        if filters.until is not None:
            clauses.append("ts < ?")
            args.append(_ms(filters.until))
        cur = self.conn().execute(
            "SELECT model, provider, count(*), max(unpriced_reason) FROM events "
            f"WHERE {' AND '.join(clauses)} GROUP BY model, provider ORDER BY count(*) DESC",
            args,
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
                    "SELECT DISTINCT key FROM rollup_dim WHERE dim = ?", (dimension,)
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
                "SELECT coalesce(sum(calls), 0) FROM rollup_dim WHERE dim = 'total'"
            ).fetchone()
            folded = self._unfolded(conn)
            extra = 0
            if folded is not None:
                extra = conn.execute(
                    "SELECT count(*) FROM events NOT INDEXED WHERE id > ?", (folded,)
                ).fetchone()[0]
        return int(row[0]) + int(extra)

    def cost_per_bucket(self, project: str, start: int, end: int) -> dict[int, int]:
        """Cost in nano-dollars per quarter-hour bucket in [start, end) (epoch seconds)."""
        with self.snapshot() as conn:
            per_bucket = dict(
                conn.execute(
                    "SELECT bucket, sum(cost_nanos) FROM rollup "
                    "WHERE bucket >= ? AND bucket < ? AND project = ? GROUP BY bucket",
                    (start, end, project),
                ).fetchall()
            )
            folded = self._unfolded(conn)
            if folded is not None:
                for bucket, nanos in conn.execute(
                    f"SELECT {BUCKET_SQL} AS b, sum(coalesce(cost_nanos, 0)) FROM events "
                    "NOT INDEXED WHERE id > ? AND project = ? GROUP BY b",
                    (folded, project),
                ):
                    if start <= bucket < end:
                        per_bucket[bucket] = per_bucket.get(bucket, 0) + nanos
        return {int(b): int(n) for b, n in per_bucket.items()}

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
