"""`spendtray sources [--format table|json]`: every agent log source Spendtray knows — found or
not, where it looked, files, calls stored, last import, bad lines and warnings (SPEC §11).
Main thread; reads the database through its own read connection and lists files, changes
nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "List every coding agent whose usage logs Spendtray can import: whether they were found "
        "on this machine, where Spendtray looked, how many files and calls, the last import, "
        "bad lines, and warnings such as logs the agent deletes itself."
    )
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=run)


def collect(
    db_path: Path, env: dict[str, str] | None = None, home: Path | None = None
) -> list[dict[str, Any]]:
    """One dict per source, in registry order (also the JSON output's ``sources``)."""
    from zoneinfo import ZoneInfo

    from spendtray.importers.registry import all_sources
    from spendtray.importers.sources import LogLister
    from spendtray.store.db import open_for_reading
    from spendtray.store.import_status import import_status
    from spendtray.store.reader import Filters, Reader

    env = dict(os.environ) if env is None else env
    home = home or Path.home()
    reader = Reader(db_path, ZoneInfo("UTC"))
    calls = {row.key: row.calls for row in reader.summary("source", Filters()).rows}
    conn = open_for_reading(db_path)
    try:
        status = import_status(conn)
    finally:
        conn.close()
    lister = LogLister()
    out: list[dict[str, Any]] = []
    for source in all_sources():
        roots = source.roots(env, home)
        files = sum(len(lister.files(root, source.wants)) for root in roots)
        state = status.get(source.name)
        last = state.last_import_ms if state else None
        warnings = list(source.warnings(env, home)) if roots else []
        if source.no_usage:
            warnings.insert(0, f"not imported: {source.no_usage}")
        out.append(
            {
                "name": source.name,
                "label": source.label,
                "found": bool(roots),
                "looked_in": [str(p) for p in source.places(env, home)],
                "env": list(source.env),
                "files": files,
                "calls": calls.get(source.name, 0),
                "last_import": (
                    dt.datetime.fromtimestamp(last / 1000, dt.UTC).isoformat(timespec="seconds")
                    if last is not None
                    else None
                ),
                "parse_problems": state.malformed if state else 0,
                "latest_problem": state.problem if state else None,
                "warnings": warnings,
            }
        )
    return out


def _looked(places: list[str]) -> str:
    return places[0] + (f" (+{len(places) - 1} more)" if len(places) > 1 else "")


def run(args: argparse.Namespace) -> int:
    from spendtray.cli.common import print_table, settings_from
    from spendtray.store.db import ensure_schema

    settings = settings_from(args)
    ensure_schema(settings.db_path)
    rows = collect(settings.db_path)
    if args.format == "json":
        print(json.dumps({"sources": rows}, indent=1))
        return 0
    table = [
        [
            r["name"],
            "yes" if r["found"] else "no",
            f"{r['files']:,}",
            f"{r['calls']:,}",
            (r["last_import"] or "never").replace("+00:00", "Z"),
            f"{r['parse_problems']:,}",
            r["looked_in"][0]
            + (f" (+{len(r['looked_in']) - 1})" if len(r["looked_in"]) > 1 else ""),
        ]
        for r in rows
    ]
    headers = ["source", "found", "files", "calls", "last import", "bad lines", "looked in"]
    print_table(headers, table, right={2, 3, 5})
    for r in rows:
        for warning in r["warnings"]:
            print(f"! {r['name']}: {warning}")
        if r["latest_problem"]:
            print(f"! {r['name']}: latest bad line: {r['latest_problem']}")
    return 0
