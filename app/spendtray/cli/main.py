"""`spendtray` entry point: parses the command line and dispatches. Main thread.

Each command lives in its own module with ``register(subparsers)``; adding a command is one
line in ``COMMAND_MODULES``. Every user mistake ends as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from spendtray import __version__
from spendtray.cli.common import UserError

COMMAND_MODULES = (
    "spendtray.cli.serve",
    "spendtray.cli.report",
    "spendtray.cli.export",
    "spendtray.cli.token",
    "spendtray.cli.prices",
    "spendtray.cli.estimate",
    "spendtray.cli.budget",
    "spendtray.cli.importer",
    "spendtray.cli.run",
)


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"spendtray: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="spendtray",
        description="What your LLM API calls cost, live in the tray. "
        "With no command: start the tray app (headless server when there is no display).",
    )
    parser.add_argument("--version", action="version", version=f"spendtray {__version__}")
    parser.add_argument("--port", type=int, help="port for the ingest server (0 = any free port)")
    parser.add_argument("--home", help="data folder (default: $SPENDTRAY_HOME or the platform's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from spendtray.config import ConfigError
    from spendtray.prices.book import UnknownModel
    from spendtray.prices.overrides import PriceFileError
    from spendtray.server.runner import PortInUse
    from spendtray.store.reader import QueryError

    if args.home is not None:
        from pathlib import Path

        args.home = Path(args.home)
    if args.port is not None and not 0 <= args.port <= 65535:
        print(f"spendtray: --port: {args.port} is not a TCP port (0–65535)", file=sys.stderr)
        return 2
    try:
        if args.command is None:
            from spendtray.cli.launch import launch

            return launch(args)
        result: int = args.func(args)
        return result
    except (UserError, ConfigError, PortInUse, QueryError, PriceFileError) as exc:
        print(f"spendtray: {exc}", file=sys.stderr)
        return 2
    except UnknownModel as exc:
        print(f"spendtray: {exc.reason}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
