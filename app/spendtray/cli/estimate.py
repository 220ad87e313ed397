"""`spendtray estimate`: what a prompt costs on several models, and what history would have cost.

Main thread of a CLI invocation. The prompt comes from FILE or standard input (plain text, or a
JSON message list / chat request body, detected as in the GUI); the what-if reads the database
directly with its own read connection, so neither needs the server running.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from spendtray.cli.common import UserError, print_table, settings_from
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.estimator.estimate import EstimateResult
from spendtray.estimator.whatif import WhatIfReport
from spendtray.money import format_usd
from spendtray.views.estimate_text import (
    APPROXIMATE_LEGEND,
    context_text,
    difference_text,
    estimate_notes,
    history_summary,
    tokens_text,
    what_if_text,
    whatif_notes,
)

# estimate()'s argument names (how its errors start) -> the flags that set them
_FLAGS = {
    "output_tokens": "--output-tokens",
    "calls": "--calls",
    "calls_per_day": "--calls-per-day",
    "cached_prefix_tokens": "--cached-prefix",
    "cache_ttl": "--cache-ttl",
}


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Count a prompt's tokens and price it on several models, cheapest first. "
        "OpenAI models are counted exactly with tiktoken; others are labelled ≈ approximations. "
        "A JSON message list or chat request body is priced as a chat. With --whatif-project or "
        "--whatif-model, stored usage is re-priced on each --model as well."
    )
    p.add_argument("file", nargs="?", metavar="FILE|-", help="prompt file, or - for stdin")
    p.add_argument(
        "--model",
        "-m",
        action="append",
        dest="models",
        metavar="M",
        help=f"model to price (repeatable; default: {', '.join(DEFAULT_MODELS)})",
    )
    p.add_argument("--output-tokens", type=int, metavar="N", help="expected output per call")
    p.add_argument("--calls", type=int, default=1, metavar="N", help="number of calls (default 1)")
    p.add_argument("--calls-per-day", type=float, metavar="N", help="for a monthly projection")
    p.add_argument(
        "--cached-prefix", type=int, default=0, metavar="N", help="prompt-cache what-if: N tokens"
    )
    p.add_argument("--cache-ttl", choices=("5m", "1h"), default="5m", help="cache lifetime")
    p.add_argument("--batch", action="store_true", help="add the batch-API what-if")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--whatif-project", metavar="P", help="re-price project P's stored usage")
    p.add_argument("--whatif-model", metavar="M", help="re-price model M's stored usage")
    p.add_argument("--since", help="what-if start (default 30d): ISO date, 7d, month…")
    p.add_argument("--until", help="what-if end (exclusive), same forms as --since")
    p.add_argument(
        "--home", type=Path, help="data folder (default: $SPENDTRAY_HOME or the platform's)"
    )
    p.set_defaults(func=run)


def _read_prompt(args: argparse.Namespace, whatif: bool) -> str | None:
    source = args.file
    if source is None:
        if whatif:
            return None
        if sys.stdin is None or sys.stdin.isatty():
            raise UserError("give a prompt FILE, or - to read it from standard input")
        source = "-"
    if source == "-":
        try:
            text = sys.stdin.read()
        except UnicodeDecodeError:
            raise UserError("standard input is not UTF-8 text") from None
        where = "standard input"
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"{source}: no such file") from None
        except IsADirectoryError:
            raise UserError(f"{source}: is a folder, not a prompt file") from None
        except UnicodeDecodeError:
            raise UserError(f"{source}: not UTF-8 text") from None
        except OSError as exc:
            raise UserError(f"{source}: {exc.strerror}") from None
        where = source
    if not text.strip():
        raise UserError(f"{where} is empty; nothing to estimate")
    return text


def _estimate(args: argparse.Namespace, text: str, book: Any) -> list[EstimateResult]:
    from spendtray.estimator.chat import InvalidMessages, prompt_from_paste
    from spendtray.estimator.estimate import EstimateError, estimate

    try:
        return estimate(
            prompt_from_paste(text),  # type: ignore[arg-type]
            args.models or list(DEFAULT_MODELS),
            args.output_tokens,
            book=book,
            calls=args.calls,
            calls_per_day=args.calls_per_day,
            cached_prefix_tokens=args.cached_prefix,
            cache_ttl=args.cache_ttl,
            batch=args.batch,
        )
    except InvalidMessages as exc:
        raise UserError(f"the prompt looks like a message list but {exc}") from None
    except EstimateError as exc:
        flag = _FLAGS.get(str(exc).split(" ", 1)[0], "--model")
        raise UserError(f"{flag}: {exc}") from None


def _whatif(args: argparse.Namespace, settings: Any, book: Any) -> WhatIfReport:
    from spendtray.cli.common import filters_from
    from spendtray.estimator.whatif import WhatIfError, reprice_history
    from spendtray.store.db import ensure_schema
    from spendtray.store.reader import Filters, Reader

    if not args.since:
        args.since = "30d"
    selection = filters_from(args, settings)
    filters = Filters(
        project=args.whatif_project,
        model=args.whatif_model,
        since=selection.since,
        until=selection.until,
    )
    ensure_schema(settings.db_path, settings.machine_name)
    reader = Reader(settings.db_path, settings.zone(), settings.week_start_index)
    try:
        return reprice_history(
            reader.conn(), filters, args.models or list(DEFAULT_MODELS), book=book
        )
    except WhatIfError as exc:
        raise UserError(str(exc)) from None
    finally:
        reader.close()


def run(args: argparse.Namespace) -> int:
    from spendtray.prices.book import PriceBook

    whatif = bool(args.whatif_project or args.whatif_model)
    if (args.since or args.until) and not whatif:
        raise UserError("--since/--until select history: use them with --whatif-project/-model")
    text = _read_prompt(args, whatif)
    settings = settings_from(args)
    book = PriceBook.load(user_file=settings.user_prices_path, data_dir=settings.prices_data_dir)
    results = _estimate(args, text, book) if text is not None else None
    report = _whatif(args, settings, book) if whatif else None
    if args.format == "json":
        out: dict[str, Any] = {}
        if results is not None:
            out["results"] = [r.to_dict() for r in results]
        if report is not None:
            out["whatif"] = report.to_dict()
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    if results is not None:
        write_estimate(results, settings.currency_precision)
    if report is not None:
        if results is not None:
            print()
        write_whatif(report, settings.currency_precision, settings.zone())
    return 0


def _notes(result: EstimateResult, precision: int) -> str:
    notes = estimate_notes(result)
    if result.cached is not None:
        notes.append(f"cached prefix {what_if_text(result.cached, precision)}")
    if result.batch is not None:
        notes.append(f"batch {what_if_text(result.batch, precision)}")
    return "; ".join(notes)


def write_estimate(results: list[EstimateResult], precision: int) -> None:
    monthly = any(r.monthly_cost_nanos is not None for r in results)
    headers = ["model", "provider", "input tok", "input", "output", "total"]
    if monthly:
        headers.append("per month")
    headers += ["context", "notes"]
    rows: list[list[str]] = []
    for r in results:
        row = [
            r.model,
            r.provider or "",
            tokens_text(r),
            format_usd(r.input_cost_nanos, precision),
            format_usd(r.output_cost_nanos, precision),
            format_usd(r.total_cost_nanos, precision),
        ]
        if monthly:
            row.append(format_usd(r.monthly_cost_nanos, precision))
        row += [context_text(r), _notes(r, precision)]
        rows.append(row)
    print_table(headers, rows, right=set(range(2, 6 + int(monthly))) | {6 + int(monthly)})
    first = results[0]
    calls = f" × {first.calls:,} calls" if first.calls > 1 else ""
    assumed = " (assumed; set --output-tokens)" if first.output_assumed else ""
    print(f"\nOutput: {first.output_tokens:,} tokens per call{assumed}{calls}.")
    approximations = [r for r in results if not r.exact]
    if approximations:
        print(f"{APPROXIMATE_LEGEND} Methods:")
        for r in approximations:
            print(f"  {r.model}: {r.method}")


def write_whatif(report: WhatIfReport, precision: int, zone: Any) -> None:
    f, t = report.filters, report.totals
    scope = " and ".join(
        part
        for part in (
            f"project {f.project}" if f.project else "",
            f"model {f.model}" if f.model else "",
        )
        if part
    )

    def day(value: dt.datetime | None) -> str:
        return "now" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    print(f"What-if for {scope}, {day(f.since)} → {day(f.until)}:")
    print(f"  {history_summary(t, precision)}")
    if t.calls:
        rows: list[list[str]] = []
        for r in report.results:
            rows.append(
                [
                    r.target,
                    r.provider,
                    format_usd(r.whatif_cost_nanos, precision),
                    difference_text(r.difference_nanos, precision),
                    "; ".join(whatif_notes(r)),
                ]
            )
        print_table(["on model", "provider", "would have cost", "vs actual", "notes"], rows, {2, 3})
    for model, reason in report.unknown:
        print(f"{model}: {reason}")
