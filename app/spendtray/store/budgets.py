"""The ``budgets`` and ``budget_alerts`` tables: budget rows and delivered alerts. Runs on the
caller's thread.

Reads take any connection (a Reader's read connection); writes take the connection of a
transaction the caller owns: the writer thread (``Writer.call``) in a running app, a short-lived
write connection in the CLI (the server may not be running). Budgets are read from the database
on every evaluation, so a change made by the CLI is seen by a running server at once.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from spendtray.budgets.model import Budget

_COLUMNS = "project, period, limit_nanos, mode, thresholds"
_PERIOD_ORDER = "CASE period WHEN 'day' THEN 0 WHEN 'week' THEN 1 ELSE 2 END"


def _budget(row: tuple[object, ...]) -> Budget:
    project, period, limit_nanos, mode, thresholds, updated_at = row
    return Budget(
        project=str(project),
        period=str(period),
        limit_nanos=int(limit_nanos),  # type: ignore[call-overload]
        mode=str(mode),
        thresholds=tuple(float(t) for t in json.loads(str(thresholds))),
        revision=int(updated_at),  # type: ignore[call-overload]
    )


def load_budgets(conn: sqlite3.Connection, projects: frozenset[str] | None = None) -> list[Budget]:
    """Every budget (``projects`` = None), or those of ``projects`` plus the global ones."""
    sql = f"SELECT {_COLUMNS}, updated_at FROM budgets"
    args: list[str] = []
    if projects is not None:
        wanted = sorted(projects | {"*"})
        sql += f" WHERE project IN ({', '.join('?' * len(wanted))})"
        args = wanted
    sql += f" ORDER BY project = '*' DESC, project, {_PERIOD_ORDER}"
    return [_budget(r) for r in conn.execute(sql, args)]


def put_budget(conn: sqlite3.Connection, budget: Budget, now_ms: int) -> None:
    """Insert or replace; a changed limit or thresholds re-arms the budget's alerts."""
    old = conn.execute(
        "SELECT limit_nanos, thresholds, updated_at FROM budgets WHERE project = ? AND period = ?",
        (budget.project, budget.period),
    ).fetchone()
    if old is not None:
        # updated_at doubles as the revision: it must change on every write, even within 1 ms.
        now_ms = max(now_ms, int(old[2]) + 1)
    thresholds = json.dumps(list(budget.thresholds))
    if old is not None and (old[0] != budget.limit_nanos or old[1] != thresholds):
        conn.execute(
            "DELETE FROM budget_alerts WHERE project = ? AND period = ?",
            (budget.project, budget.period),
        )
    conn.execute(
        f"INSERT OR REPLACE INTO budgets ({_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (budget.project, budget.period, budget.limit_nanos, budget.mode, thresholds, now_ms),
    )


def delete_budgets(conn: sqlite3.Connection, project: str, period: str | None = None) -> int:
    """Remove one period's budget or all of the project's; returns how many were removed."""
    where = "project = ?" + (" AND period = ?" if period else "")
    args = (project, period) if period else (project,)
    removed = conn.execute(f"DELETE FROM budgets WHERE {where}", args).rowcount
    conn.execute(f"DELETE FROM budget_alerts WHERE {where}", args)
    return int(removed)


@dataclass(frozen=True)
class AlertKey:
    """Identifies one alert of one period instance (the thing that fires only once)."""

    project: str
    period: str
    period_start: int  # epoch seconds UTC
    kind: str
    threshold: float


def claim_alerts(
    conn: sqlite3.Connection,
    keys: list[AlertKey],
    texts: list[str],
    now_ms: int,
    delivered: bool,
) -> list[bool]:
    """Record alerts; True for each that had not fired before (the caller then delivers it)."""
    out: list[bool] = []
    for key, text in zip(keys, texts, strict=True):
        cur = conn.execute(
            "INSERT OR IGNORE INTO budget_alerts (project, period, period_start, kind, threshold,"
            " fired_at, delivered, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.project,
                key.period,
                key.period_start,
                key.kind,
                key.threshold,
                now_ms,
                1 if delivered else 0,
                text,
            ),
        )
        out.append(cur.rowcount == 1)
    return out


def fired_alerts(conn: sqlite3.Connection, project: str | None = None) -> list[dict[str, object]]:
    """Delivered-alert history, newest first (CLI, GUI, tests)."""
    sql = (
        "SELECT project, period, period_start, kind, threshold, fired_at, delivered, text "
        "FROM budget_alerts"
    )
    args: tuple[str, ...] = ()
    if project is not None:
        sql += " WHERE project = ?"
        args = (project,)
    sql += " ORDER BY fired_at DESC, project, threshold DESC"
    names = ("project", "period", "period_start", "kind", "threshold", "fired_at", "delivered")
    rows: list[dict[str, object]] = []
    for r in conn.execute(sql, args):
        row: dict[str, object] = dict(zip(names, r[:7], strict=True))
        row["text"] = r[7]
        rows.append(row)
    return rows
