"""`spendtray reprice`: price stored calls again with today's prices, on purpose.

Main thread. Stored events keep the price they were stored with, so history never shifts by
itself; after adding an override for an unpriced model or fixing a wrong one, this command
re-prices a selection (the report filters plus ``--unpriced``). It is a dry run by default: it
shows per model how many calls would change and their cost before and after. ``--apply`` stores
the new prices and keeps every old one in the ``reprices`` table. The running app caches spend
totals, so ``--apply`` asks for it to be stopped first.
"""

from __future__ import annotations

import argparse
import json
import sys

from spendtray.cli.common import (
    UserError,
    add_filters,
    filters_from,
    print_table,
    settings_from,
    warn_unmatched,
)
from spendtray.clock import utc_now
from spendtray.words import plural


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Price stored calls again with the prices in force now (your prices.toml, the current "
        "genai-prices data), each at its own date and tier. A dry run unless --apply; the old "
        "prices are kept in the database."
    )
    add_filters(p)
    p.add_argument("--unpriced", action="store_true", help="only calls stored without a price")
    p.add_argument("--apply", action="store_true", help="store the new prices (default: dry run)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spendtray.instance_lock import serving
    from spendtray.money import format_usd
    from spendtray.prices.book import PriceBook
    from spendtray.prices.reprice import plan
    from spendtray.store.db import ensure_schema, open_for_writing
    from spendtray.store.reader import Reader
    from spendtray.store.reprice import apply, selection

    settings = settings_from(args)
    filters = filters_from(args, settings)
    if args.apply:
        holder = serving(settings.home)
        if holder is not None:
            who = f" (pid {holder['pid']})" if holder.get("pid") else ""
            raise UserError(
                f"Spendtray is running for {settings.home}{who} and keeps spend totals in "
                "memory: stop it, run `reprice --apply`, then start it again "
                "(a dry run works while it runs)"
            )
    ensure_schema(settings.db_path)
    book = PriceBook.load(user_file=settings.user_prices_path, data_dir=settings.prices_data_dir)
    reader = Reader(settings.db_path, settings.zone(), settings.week_start_index)
    try:
        warn_unmatched(reader, filters)
        result = plan(book, selection(reader.conn(), filters, args.unpriced))
    finally:
        reader.close()
    applied = 0
    if args.apply and result.changes:
        db = open_for_writing(settings.db_path, settings.durability)
        try:
            now_ms = int(utc_now().timestamp() * 1000)
            applied = apply(db.conn, result.changes, result.olds, now_ms)
        finally:
            db.conn.close()
    precision = settings.currency_precision
    if args.format == "json":
        json.dump(
            {
                "selected": result.selected,
                "changing": len(result.changes),
                "applied": applied,
                "dry_run": not args.apply,
                "out_of_bounds": result.out_of_bounds,
                "models": [
                    {
                        "model": m.model,
                        "calls": m.calls,
                        "before_cost_usd": m.before_nanos / 1e9,
                        "before_unpriced_calls": m.before_unpriced,
                        "after_cost_usd": m.after_nanos / 1e9,
                        "after_unpriced_calls": m.after_unpriced,
                    }
                    for m in result.by_model.values()
                ],
            },
            sys.stdout,
            indent=2,
        )
        print()
        return 0

    def signed_usd(nanos: int, places: int) -> str:
        return ("+" if nanos > 0 else "") + format_usd(nanos, places)

    def cost(nanos: int, unpriced: int) -> str:
        text = format_usd(nanos, precision) if nanos or not unpriced else ""
        if unpriced:
            text += (" + " if text else "") + f"{unpriced:,} unpriced"
        return text

    if not result.changes:
        print(
            f"Nothing to reprice: {plural(result.selected, 'selected call')} "
            "already carry the prices in force now."
        )
    else:
        rows = [
            [
                m.model,
                f"{m.calls:,}",
                cost(m.before_nanos, m.before_unpriced),
                cost(m.after_nanos, m.after_unpriced),
                signed_usd(m.after_nanos - m.before_nanos, precision),
            ]
            for m in sorted(result.by_model.values(), key=lambda m: -m.calls)
        ]
        print_table(["model", "calls", "stored cost", "new cost", "change"], rows, {1, 4})
        changing = plural(len(result.changes), "call")
        if args.apply:
            print(
                f"\nRepriced {plural(applied, 'call')} of {result.selected:,} selected; "
                "the old prices are kept in the database (table reprices)."
            )
            if applied < len(result.changes):
                print(f"{len(result.changes) - applied:,} changed meanwhile and were left alone.")
        else:
            print(
                f"\nDry run: {changing} of {result.selected:,} selected would change; nothing "
                "was stored. Run it again with --apply to store the new prices."
            )
    if result.out_of_bounds:
        print(
            f"{plural(result.out_of_bounds, 'call')} would cost more than one call may; "
            "left as stored."
        )
    return 0
