"""The what-if's reads over stored events (``estimator.whatif``): one selection of ``events``
(a ``Filters``), its span, totals, batch/tier contexts, usage grouped for pricing in Python, and
sums of cost expressions SQLite computes per row. Runs on the caller's thread (the server's
thread pool, the CLI) on a read connection; a selection is read inside the caller's snapshot.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from spendtray.fields import TOKEN_FIELDS
from spendtray.store.reader import Filters
from spendtray.store.timed import between

# The selection's totals, in HistoryTotals order.
TOTAL_COLUMNS = (
    "count(*)",
    "sum(input_tokens)",
    "sum(output_tokens)",
    "sum(cache_read_tokens)",
    "sum(cache_write_tokens)",
    "sum(coalesce(cost_nanos, 0))",
    "sum(1 - priced)",
)
# Reading rows through an index costs ~15× a plain scan per row; past 1/8 of the table, scan.
_SCAN_SHARE = 8
_MS_PER_MINUTE = 60_000

Context = tuple[int, str | None]
"""(batch flag, service tier) as stored."""
# One ``grouped_usage`` row: the seven TOKEN_FIELDS, batch, service_tier, minute, count.
UsageGroup = tuple[Any, ...]


def _ms(stamp: dt.datetime | None) -> int | None:
    return None if stamp is None else int(stamp.timestamp() * 1000)


class Selection:
    """The stored events ``filters`` select, read through ``conn``: ``FROM {source} WHERE
    {where}`` with ``args``."""

    def __init__(self, conn: sqlite3.Connection, filters: Filters) -> None:
        self.conn = conn
        dims, dim_args = filters.dimension_sql()
        since, until = _ms(filters.since), _ms(filters.until)
        selected_sql, params = between("e.*", dims, dim_args, since, until)
        # Ids only grow and rows are never deleted: the highest is the count, near enough
        # for the choice below (count(*) would read the whole table: no full index is left).
        total = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        counted, count_args = between("1", dims, dim_args, since, until)
        selected = conn.execute(f"SELECT count(*) FROM ({counted})", count_args).fetchone()[0]
        # Through the time index (store.timed) when the selection is small enough for it to
        # pay, else a scan of every event.
        self.source, self.where, self.args = f"({selected_sql})", "1", params
        if selected * _SCAN_SHARE > total:
            clauses, self.args = [dims], list(dim_args)
            for clause, bound in (("ts >= ?", since), ("ts < ?", until)):
                if bound is not None:
                    clauses.append(clause)
                    self.args.append(bound)
            self.source, self.where = "events NOT INDEXED", " AND ".join(clauses)

    def span(self) -> tuple[int, int] | None:
        """(first, last) event time in ms, or None when nothing is selected."""
        lo, hi = self.conn.execute(
            f"SELECT min(ts), max(ts) FROM {self.source} WHERE {self.where}", self.args
        ).fetchone()
        return None if lo is None else (int(lo), int(hi))

    def totals(self) -> list[int]:
        """The selection's ``TOTAL_COLUMNS``."""
        row = self.conn.execute(
            f"SELECT {', '.join(TOTAL_COLUMNS)} FROM {self.source} WHERE {self.where}", self.args
        ).fetchone()
        return [int(v or 0) for v in row]

    def contexts(self) -> list[Context]:
        """Every (batch, service tier) the selection holds."""
        return [
            (int(batch), tier)
            for batch, tier in self.conn.execute(
                f"SELECT DISTINCT batch, service_tier FROM {self.source} WHERE {self.where}",
                self.args,
            )
        ]

    def grouped_usage(self) -> Iterator[UsageGroup]:
        """The selection grouped by token counts, batch, tier and minute, with a count: what
        pricing each row in Python needs, once per distinct row."""
        tokens = ", ".join(TOKEN_FIELDS)
        sql = (
            f"SELECT {tokens}, batch, service_tier, ts / {_MS_PER_MINUTE} AS minute, count(*) "
            f"FROM {self.source} WHERE {self.where} "
            f"GROUP BY {tokens}, batch, service_tier, minute"
        )
        yield from self.conn.execute(sql, self.args)

    def sums(
        self, inner: Sequence[str], outer: Sequence[str], context: Context, start: int, end: int
    ) -> tuple[Any, ...]:
        """``outer`` sums over the ``inner`` expressions of each selected row of ``context``
        with ``start <= ts < end`` (one scan)."""
        # LIMIT keeps SQLite from flattening the subquery, so each inner value is computed once
        sql = (
            f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {self.source} "
            f"WHERE {self.where} AND batch = ? AND service_tier IS ? AND ts >= ? AND ts < ? "
            "LIMIT -1)"
        )
        return tuple(self.conn.execute(sql, [*self.args, *context, start, end]).fetchone())
