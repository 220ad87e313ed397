"""`spendtray report`: totals grouped by project, model, provider, agent, source or time.

Reads the database directly (its own read connection), so it works whether or not the
server is running.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from spendtray.cli.common import (
    add_filters,
    filters_from,
    print_table,
    settings_from,
    warn_unmatched,
)
from spendtray.money import format_tokens, format_usd
from spendtray.store.reader import GROUPS, Reader, Summary, summary_row_json
from spendtray.store.rows import SUM_FIELDS


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--by", choices=GROUPS, default="project", help="grouping (default: project)")
    add_filters(p)
    p.add_argument("--tz", help="IANA time zone for day/week/month keys (default: config)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=run)


def open_reader(args: argparse.Namespace) -> tuple[Reader, Any]:
    from spendtray.store.db import ensure_schema

    settings = settings_from(args)
    ensure_schema(settings.db_path, settings.machine_name)
    return Reader(settings.db_path, settings.zone(), settings.week_start_index), settings


def run(args: argparse.Namespace) -> int:
    reader, settings = open_reader(args)
    filters = filters_from(args, settings)
    warn_unmatched(reader, filters)
    zone = None
    if args.tz:
        from spendtray.config import resolve_zone

        zone = resolve_zone(args.tz)
    summary = reader.summary(args.by, filters, zone)
    unpriced = reader.unpriced_models(filters) if summary.total.unpriced_calls else []
    write_summary(summary, args.format, settings.currency_precision, unpriced)
    return 0


def write_summary(
    summary: Summary, fmt: str, precision: int, unpriced: list[dict[str, Any]]
) -> None:
    if fmt == "json":
        json.dump(
            {
                "group_by": summary.group_by,
                "rows": [summary_row_json(r) for r in summary.rows],
                "total": summary_row_json(summary.total),
                "unpriced_models": unpriced,
            },
            sys.stdout,
            indent=2,
        )
        print()
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(
            [summary.group_by, *[f for f in SUM_FIELDS if f != "cost_nanos"], "cost_usd"]
        )
        for row in [*summary.rows, summary.total]:
            data = summary_row_json(row)
            writer.writerow(
                [
                    row.key,
                    *[data[f] for f in SUM_FIELDS if f != "cost_nanos"],
                    f"{row.cost_nanos / 1e9:.9f}",
                ]
            )
        return
    if not summary.rows:
        print("No usage recorded for this selection.")
        return
    headers = [summary.group_by, "calls", "input", "output", "cache read", "cache write", "cost"]
    rows = []
    for r in [*summary.rows, summary.total]:
        cost = format_usd(r.cost_nanos, precision)
        if r.unpriced_calls:
            cost += f" (+{r.unpriced_calls} unpriced)"
        rows.append(
            [
                r.key or "(none)",
                f"{r.calls:,}",
                format_tokens(r.input_tokens),
                format_tokens(r.output_tokens),
                format_tokens(r.cache_read_tokens),
                format_tokens(r.cache_write_tokens),
                cost,
            ]
        )
    rows.insert(len(rows) - 1, ["" for _ in headers])
    print_table(headers, rows, right={1, 2, 3, 4, 5, 6})
    if unpriced:
        names = ", ".join(f"{u['model']} ({u['calls']})" for u in unpriced[:8])
        print(f"\nUnpriced usage (no known price; not counted in cost): {names}")
