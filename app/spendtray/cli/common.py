"""Helpers shared by CLI commands: settings from flags, a one-line user error, output tables.

Runs on the main thread of a CLI invocation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from spendtray.clock import utc_now
from spendtray.config import Settings, load_settings

if TYPE_CHECKING:
    from spendtray.store.reader import Filters, Reader


class UserError(Exception):
    """A mistake on the command line or in the input; printed as one line, exit 2."""


def settings_from(args: argparse.Namespace) -> Settings:
    port = getattr(args, "port", None)
    return load_settings(home=getattr(args, "home", None), port=port)


def locations_from(args: argparse.Namespace) -> Settings:
    """The data folder's file locations without reading config.toml, for commands that only
    locate files (`token`, `prices path`): they must work while the config is broken, since
    they are how a user finds the file to fix."""
    from spendtray.datadir import data_home

    return Settings(home=getattr(args, "home", None) or data_home())


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", help="start: ISO date/time, epoch, today, week, month, 7d, 24h…")
    parser.add_argument("--until", help="end (exclusive), same forms as --since")
    parser.add_argument("--project")
    parser.add_argument("--model")
    parser.add_argument("--provider")
    parser.add_argument("--agent")
    parser.add_argument("--source", help=f"where calls came from: {', '.join(known_sources())}")
    parser.add_argument("--machine", help="only events first stored on this machine")


# The `source` values Spendtray itself stores besides the agent-log importers' names (a sender
# may set its own; the warning of ``warn_unmatched`` lists what is stored).
# tests/cli/test_cli_polish.py keeps it in step with the receivers and the client.
SERVICE_SOURCES = ("api", "python-client", "proxy", "otlp", "litellm")


def known_sources() -> tuple[str, ...]:
    """Every `source` value Spendtray stores by itself: its services', then each importer's."""
    from spendtray.importers.registry import KINDS

    return (*SERVICE_SOURCES, *KINDS)


def warn_unmatched(reader: Reader, filters: Filters) -> None:
    """One line on stderr for each filter value no stored call has, with the closest stored
    values ("did you mean") or, when none is close, what is stored."""
    import difflib

    from spendtray.store.reader import DIMENSIONS

    for name in DIMENSIONS:
        value = getattr(filters, name)
        if value is None:
            continue
        stored = reader.stored_values(name)
        if value in stored:
            continue
        close = difflib.get_close_matches(value, stored, n=3, cutoff=0.6)
        if close:
            hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif stored:
            shown = ", ".join(stored[:12]) + (", …" if len(stored) > 12 else "")
            hint = f"stored: {shown}"
        else:
            hint = "nothing is stored yet"
        print(f"spendtray: no stored call has {name} {value!r} — {hint}", file=sys.stderr)


def filters_from(args: argparse.Namespace, settings: Settings) -> Filters:
    # Imported here: commands that only need settings_from (token, quick ones) stay light.
    from spendtray.store.reader import Filters
    from spendtray.timeparse import TimeParseError, parse_when

    now = utc_now()
    zone = settings.zone()

    def when(name: str) -> dt.datetime | None:
        value = getattr(args, name, None)
        if not value:
            return None
        try:
            return parse_when(value, now, zone, settings.week_start_index)
        except TimeParseError as exc:
            raise UserError(f"--{name}: {exc}") from None

    return Filters(
        project=getattr(args, "project", None),
        model=getattr(args, "model", None),
        provider=getattr(args, "provider", None),
        machine=getattr(args, "machine", None),
        agent=getattr(args, "agent", None),
        source=getattr(args, "source", None),
        since=when("since"),
        until=when("until"),
    )


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: set[int],
    out: TextIO | None = None,
) -> None:
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    print(line(headers), file=out)
    print("  ".join("─" * w for w in widths), file=out)
    for row in rows:
        print(line(row), file=out)
