"""`spendtray limits`: subscription windows (SPEC §12) as a table or JSON, and the estimated
5-hour blocks of the Claude Code logs (``--blocks``).

Reads the database directly (its own read connection), so it works whether or not the server is
running; a data folder without one answers as an empty store, and creates none. A quick command
(``cli.main.QUICK_COMMANDS``): it imports the limits' report and the store's queries only. Main
thread.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from spendtray.cli.common import UserError, print_table, settings_from
from spendtray.clock import utc_now


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--blocks",
        action="store_true",
        help="list the estimated 5-hour blocks of the Claude Code logs instead",
    )
    p.add_argument("--since", help="with --blocks: start (default 30d)")
    p.add_argument("--until", help="with --blocks: end (exclusive)")
    p.set_defaults(func=run)


def _when(value: str | None, name: str, settings: Any, now: dt.datetime) -> dt.datetime | None:
    from spendtray.timeparse import TimeParseError, parse_when

    if not value:
        return None
    try:
        return parse_when(value, now, settings.zone(), settings.week_start_index)
    except TimeParseError as exc:
        raise UserError(f"--{name}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from spendtray.limits.report import estimated_blocks, limits_report

    settings = settings_from(args)
    if (args.since or args.until) and not args.blocks:
        raise UserError("--since/--until go with --blocks")
    now = utc_now()
    since = _when(args.since, "since", settings, now) or now - dt.timedelta(days=30)
    until = _when(args.until, "until", settings, now)
    if not settings.db_path.exists():
        # Nothing recorded yet: the answer of an empty store, without creating one.
        data: dict[str, Any] = {"blocks": []} if args.blocks else {"limits": []}
    else:
        from spendtray.store.db import ensure_schema, open_for_reading

        ensure_schema(settings.db_path, settings.machine_name)
        conn = open_for_reading(settings.db_path)
        try:
            now_ms = int(now.timestamp() * 1000)
            if args.blocks:
                found = estimated_blocks(
                    conn,
                    int(since.timestamp() * 1000),
                    None if until is None else int(until.timestamp() * 1000),
                    now_ms,
                )
                data = {"blocks": [b.to_json(now_ms) for b in found]}
            else:
                data = limits_report(conn, now_ms)
        finally:
            conn.close()
    if args.format == "json":
        json.dump(data, sys.stdout, indent=2)
        print()
    elif args.blocks:
        _blocks_table(data["blocks"])
    else:
        _limits_table(data["limits"])
    return 0


def _limits_table(rows: list[dict[str, Any]]) -> None:
    from spendtray.limits.model import duration

    if not rows:
        print(
            "no subscription windows seen yet: install the Claude Code statusline "
            "(`spendtray statusline --install`), import Codex logs, or use the proxy"
        )
        return
    import datetime as dt

    table = []
    for r in rows:
        pace = r.get("pace") or {}
        left = pace.get("resets_in_seconds")
        if r["source"] == "estimated":
            block = r["block"]
            used = f"${block['cost_usd']:.2f} / {block['total_tokens']:,} tok"
            end = dt.datetime.fromisoformat(block["end"].replace("Z", "+00:00"))
            left = int((end - utc_now()).total_seconds())
            note = "block estimated from local logs"
            projection = block.get("projection")
            if projection:
                note += f"; ≈ ${projection['cost_usd']:.2f} by its end at this rate"
        else:
            used = f"{r['used_percent']:.0f} %"
            from spendtray.limits.model import Pace, pace_text

            note = pace_text(Pace(**pace)) if pace else ""
        table.append(
            [
                r["provider"],
                r["account"],
                r["window"],
                used,
                duration(left) if left else (r["resets_at"] or "?"),
                r["source"] + (" (stale)" if r["stale"] else ""),
                note,
            ]
        )
    print_table(
        ["provider", "account", "window", "used", "resets in", "source", "pace"], table, {3, 4}
    )


def _blocks_table(rows: list[dict[str, Any]]) -> None:
    table = [
        [
            b["start"],
            b["end"],
            "gap" if b["gap"] else ("active" if b["active"] else ""),
            str(b["calls"]),
            f"{b['total_tokens']:,}",
            f"${b['cost_usd']:.4f}",
        ]
        for b in rows
    ]
    print_table(["start", "end", "", "calls", "tokens", "cost"], table, {3, 4, 5})
