"""`spendtray prices list|show|path|update`: what Spendtray would charge for a model, and why.

`update` fetches newer genai-prices data (``prices_url`` in config.toml, or ``--from URL|FILE``)
into the data folder. A running `spendtray` / `spendtray serve` picks it up within a second, as it
does an edited ``prices.toml`` (``prices.reloader``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from spendtray.cli.common import UserError, locations_from, print_table, settings_from
from spendtray.clock import utc_now


def register(p: argparse.ArgumentParser) -> None:
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="list known models (overrides first)")
    ls.add_argument("query", nargs="?", help="substring of the model id")
    ls.add_argument("--provider")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    ls.set_defaults(func=run_list)
    show = verbs.add_parser("show", help="the price in force for one model, with its source")
    show.add_argument("model")
    show.add_argument("--provider")
    show.add_argument("--at", help="date the price should apply to (default: now)")
    show.add_argument("--service-tier", help="flex, priority, batch…")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(func=run_show)
    path = verbs.add_parser("path", help="print the user price override file's path")
    path.set_defaults(func=run_path)
    update = verbs.add_parser(
        "update",
        help="fetch newer genai-prices data (prices_url in config.toml by default)",
        description="Download genai-prices' data file, validate it, and use it instead of the "
        "data bundled with the installed genai-prices. On any failure the current data stays. "
        "A running Spendtray uses the new data within a second, no restart needed.",
    )
    update.add_argument(
        "--from",
        dest="source",
        metavar="URL|FILE",
        help="an http(s) URL or a local file (default: the prices_url setting)",
    )
    update.set_defaults(func=run_update)


def _book(args: argparse.Namespace) -> Any:
    from spendtray.prices.book import PriceBook

    settings = settings_from(args)
    book = PriceBook.load(user_file=settings.user_prices_path, data_dir=settings.prices_data_dir)
    return book, settings


def _mtok(prices: dict[str, Any], key: str) -> str:
    value = prices.get(key)
    if value is None:
        return ""
    if isinstance(value, dict):
        if "base" in value:
            return f"${value['base']}+tiers"
        return ""
    return f"${value}"


def run_list(args: argparse.Namespace) -> int:
    from spendtray.prices.listing import list_prices

    book, _ = _book(args)
    rows = list_prices(book, args.query, args.provider)
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        raise UserError(f"no model matches {args.query!r}")
    table = [
        [
            r["provider"],
            r["model"],
            _mtok(r["prices"], "input_mtok"),
            _mtok(r["prices"], "output_mtok"),
            _mtok(r["prices"], "cache_read_mtok"),
            _mtok(r["prices"], "cache_write_mtok"),
            f"{r['context_window']:,}" if r.get("context_window") else "",
        ]
        for r in rows
    ]
    print_table(
        ["provider", "model", "input/M", "output/M", "cache read/M", "cache write/M", "context"],
        table,
        right={2, 3, 4, 5, 6},
    )
    print(f"\ngenai-prices data: {book.engine.describe()}")
    return 0


def run_show(args: argparse.Namespace) -> int:

    from spendtray.prices.listing import price_detail
    from spendtray.timeparse import TimeParseError, parse_when

    book, settings = _book(args)
    at = None
    if args.at:
        try:
            at = parse_when(args.at, utc_now(), settings.zone())
        except TimeParseError as exc:
            raise UserError(f"--at: {exc}") from None
    from spendtray.prices.book import UnknownModel

    try:
        detail = price_detail(book, args.model, args.provider, at, args.service_tier)
    except UnknownModel as exc:
        close = book.suggest(args.model)
        hint = "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""
        raise UserError(f"{exc.reason}{hint}") from None
    detail["engine_data"] = book.engine.as_json()
    if args.format == "json":
        print(json.dumps(detail, indent=2))
        return 0
    print(f"{detail['provider']}/{detail['model']}  (asked for {args.model})")
    print(
        f"source: {detail['source']}"
        + (f", in force since {detail['date']}" if detail["date"] else "")
    )
    if detail.get("variant"):
        print(f"variant: {detail['variant']}")
    if detail.get("context_window"):
        print(f"context window: {detail['context_window']:,} tokens")
    rows = []
    for key, value in detail["prices"].items():
        what, per = price_label(key)
        if isinstance(value, dict):
            tiers = ", ".join(f"> {int(s):,} tokens: ${p}" for s, p in value["tiers"])
            rows.append([what, f"${value['base']}", per, tiers])
        else:
            rows.append([what, f"${value}", per, ""])
    print_table(["price", "USD", "per", "long-context tiers (whole prompt)"], rows, right={1})
    if "batch_prices" in detail:
        batch = detail["batch_prices"].items()
        print(
            "batch: "
            + ", ".join(
                f"{price_label(k)[0]} ${v['base'] if isinstance(v, dict) else v}" for k, v in batch
            )
        )
    print(f"genai-prices data: {book.engine.describe()}")
    return 0


# genai-prices' price keys, as people read them: "cache_read_mtok" -> ("cache read", "1M tokens")
_UNITS = {"mtok": "1M tokens", "kcount": "1,000"}


def price_label(key: str) -> tuple[str, str]:
    """A price key as (what, per what): ``input_mtok`` -> ("input", "1M tokens")."""
    head, _, unit = key.rpartition("_")
    if unit not in _UNITS or not head:
        return key.replace("_", " "), ""
    what = head.replace("_", " ").replace("write 5m", "write (5 min)")
    return what.replace("write 1h", "write (1 hour)"), _UNITS[unit]


def run_path(args: argparse.Namespace) -> int:
    settings = locations_from(args)  # works while config.toml is broken
    print(settings.user_prices_path)
    return 0


def run_update(args: argparse.Namespace) -> int:
    from spendtray.prices.engine_data import PriceDataError, update_engine_data

    settings = settings_from(args)
    source = args.source or settings.prices_url
    try:
        result = update_engine_data(settings.prices_data_dir, source)
    except PriceDataError as exc:
        raise UserError(f"prices update: {exc}; current price data unchanged") from None
    print(result.summary())
    print("A running Spendtray uses it within a second (stored events keep their prices).")
    return 0
