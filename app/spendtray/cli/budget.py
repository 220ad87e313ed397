"""`spendtray budget set|list|remove`: budgets from the command line. Main thread.

Writes go straight to the database in one short transaction (the server may not be running);
a running server reads budgets from the database on every evaluation, so it sees the change
at once. Every period given to ``set`` is validated before anything is written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

from spendtray.budgets.evaluate import BudgetStatus, Evaluator
from spendtray.budgets.model import (
    DEFAULT_THRESHOLDS,
    PERIODS,
    Budget,
    BudgetError,
    check_period,
    check_project,
    parse_limit,
    parse_thresholds_text,
    percent_text,
)
from spendtray.budgets.text import scope_name
from spendtray.cli.common import UserError, print_table, settings_from
from spendtray.clock import utc_now
from spendtray.config import Settings
from spendtray.money import format_usd
from spendtray.store import budgets as budget_rows
from spendtray.store.db import ensure_schema, write_once
from spendtray.store.reader import Reader

T = TypeVar("T")
FLAGS = {"day": "--daily", "week": "--weekly", "month": "--monthly"}


def register(p: argparse.ArgumentParser) -> None:
    verbs = p.add_subparsers(dest="budget_command", metavar="ACTION", required=True)

    s = verbs.add_parser(
        "set",
        help="set (or replace) a project's budgets; '*' = all projects together",
        description="Amounts in US dollars. --warn lists the percents that notify; 100 is "
        "always added so crossing the limit is always notified.",
    )
    s.add_argument("project", help="project name, or '*' for all projects")
    s.add_argument("--daily", metavar="USD", help="limit per calendar day")
    s.add_argument("--weekly", metavar="USD", help="limit per calendar week (config week_start)")
    s.add_argument("--monthly", metavar="USD", help="limit per calendar month")
    s.add_argument(
        "--warn",
        metavar="PCT",
        nargs="+",
        action="extend",
        help="notify at these percents, ascending: --warn 50 80, --warn 50,80 or "
        "--warn 50 --warn 80 (default 50 80 100)",
    )
    s.add_argument("--hard", action="store_true", help="refuse at the check endpoint when over")
    s.set_defaults(func=run_set)

    ls = verbs.add_parser("list", help="budgets with spend so far, state and forecast")
    ls.add_argument("project", nargs="?", help="only this project's (and the global) budgets")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    ls.set_defaults(func=run_list)

    rm = verbs.add_parser("remove", help="remove a project's budgets (or one period's)")
    rm.add_argument("project")
    rm.add_argument("--period", help=f"only this period ({', '.join(PERIODS)})")
    rm.set_defaults(func=run_remove)


def write(settings: Settings, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn`` in one write transaction on a short-lived connection."""
    return write_once(settings.db_path, settings.durability, fn, settings.machine_name)


@contextlib.contextmanager
def evaluator(settings: Settings) -> Iterator[Evaluator]:
    """An evaluator on its own read connection, closed on leaving the block."""
    reader = Reader(settings.db_path, settings.zone(), settings.week_start_index)
    try:
        yield Evaluator(reader, settings.zone(), settings.week_start_index, utc_now)
    finally:
        reader.close()


def budgets_from_args(args: argparse.Namespace) -> list[Budget]:
    try:
        project = check_project(args.project)
        thresholds = None
        if args.warn is not None:
            thresholds = parse_thresholds_text(",".join(args.warn))
            if thresholds[-1] < 100:
                thresholds = (*thresholds, 100.0)
        budgets = []
        for period in PERIODS:
            value = getattr(args, {"day": "daily", "week": "weekly", "month": "monthly"}[period])
            if value is None:
                continue
            budgets.append(
                Budget(
                    project=project,
                    period=period,
                    limit_nanos=parse_limit(value, FLAGS[period]),
                    mode="hard" if args.hard else "soft",
                    thresholds=thresholds or DEFAULT_THRESHOLDS,
                )
            )
    except BudgetError as exc:
        raise UserError(f"nothing changed: {exc}") from None
    if not budgets:
        raise UserError("give at least one of --daily, --weekly, --monthly (amount in USD)")
    return budgets


def run_set(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    budgets = budgets_from_args(args)
    now_ms = int(utc_now().timestamp() * 1000)

    def put(conn: sqlite3.Connection) -> None:
        for budget in budgets:
            budget_rows.put_budget(conn, budget, now_ms)

    write(settings, put)
    with evaluator(settings) as ev:
        statuses = ev.statuses(budgets)
    for s in statuses:
        b = s.budget
        print(
            f"{scope_name(b.project)}: {format_usd(b.limit_nanos)} per {b.period} ({b.mode}, "
            f"notify at {', '.join(percent_text(t) for t in b.thresholds)} %) — "
            f"spent {format_usd(s.spent_nanos)} so far ({s.state})"
        )
    return 0


def _resets(status: BudgetStatus, settings: Settings) -> str:
    end = status.period_end.astimezone(settings.zone())
    return f"{end:%Y-%m-%d %H:%M}"


def run_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ensure_schema(settings.db_path, settings.machine_name)
    with evaluator(settings) as ev:
        conn = ev.reader.conn()
        if args.project:
            try:
                project = check_project(args.project)
            except BudgetError as exc:
                raise UserError(str(exc)) from None
            budgets = budget_rows.load_budgets(conn, frozenset({project}))
        else:
            budgets = budget_rows.load_budgets(conn)
        statuses = ev.statuses(budgets)
    if args.format == "json":
        json.dump({"budgets": [s.to_json(settings.zone()) for s in statuses]}, sys.stdout, indent=2)
        print()
        return 0
    if not statuses:
        print("No budgets. Set one with: spendtray budget set PROJECT --monthly 50")
        return 0
    precision = settings.currency_precision
    rows = []
    for s in statuses:
        b = s.budget
        rows.append(
            [
                "* (all)" if b.is_global else b.project,
                b.period,
                format_usd(b.limit_nanos, precision),
                b.mode,
                format_usd(s.spent_nanos, precision),
                format_usd(s.remaining_nanos, precision),
                f"{s.ratio * 100:.0f} %",
                s.state,
                format_usd(s.forecast_nanos, precision),
                ", ".join(percent_text(t) for t in b.thresholds),
                _resets(s, settings),
            ]
        )
    headers = [
        "project",
        "period",
        "limit",
        "mode",
        "spent",
        "left",
        "used",
        "state",
        "forecast",
        "notify at %",
        "resets",
    ]
    print_table(headers, rows, right={2, 4, 5, 6, 8})
    return 0


def run_remove(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        project = check_project(args.project)
        period = check_period(args.period) if args.period is not None else None
    except BudgetError as exc:
        raise UserError(f"nothing changed: {exc}") from None
    removed = write(settings, lambda conn: budget_rows.delete_budgets(conn, project, period))
    if removed == 0:
        which = f"{period} budget" if period else "budget"
        raise UserError(f"no {which} for project {project!r}")
    print(f"removed {removed} budget{'s' if removed != 1 else ''} of {scope_name(project)}")
    return 0
