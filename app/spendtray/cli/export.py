"""`spendtray export`: every stored event as CSV or JSON, newest first, for spreadsheets and
scripts. Streams page by page so memory stays flat on large histories."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from typing import Any

from spendtray.cli.common import add_filters, filters_from, warn_unmatched
from spendtray.cli.report import open_reader
from spendtray.fields import TOKEN_FIELDS
from spendtray.store.reader import Filters, Reader

CSV_FIELDS = (
    "id",
    "timestamp",
    "project",
    "model",
    "provider",
    "agent",
    "user",
    "session",
    "trace_id",
    "request_id",
    "source",
    "machine",
    "service_tier",
    "batch",
    *TOKEN_FIELDS,
    "cost_usd",
    "priced",
    "unpriced_reason",
    "reported_cost_usd",
    "price_source",
    "price_date",
    "latency_ms",
    "status",
)


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    add_filters(p)
    p.set_defaults(func=run)


def iter_events(reader: Reader, filters: Filters) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        page, cursor = reader.events(filters, limit=1000, cursor=cursor)
        yield from page
        if cursor is None:
            return


def run(args: argparse.Namespace) -> int:
    reader, settings = open_reader(args)
    filters = filters_from(args, settings)
    warn_unmatched(reader, filters)
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        if args.format == "csv":
            writer = csv.writer(out)
            writer.writerow(CSV_FIELDS)
            for event in iter_events(reader, filters):
                price = event["price"]
                flat = {**event, "price_source": price["source"], "price_date": price["date"]}
                writer.writerow(["" if flat.get(f) is None else flat.get(f) for f in CSV_FIELDS])
        else:
            out.write("[")
            for i, event in enumerate(iter_events(reader, filters)):
                out.write(("," if i else "") + "\n" + json.dumps(event))
            out.write("\n]\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0
