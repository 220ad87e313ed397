"""`spendtray` entry point: parses the command line and dispatches. Main thread.

Start-up is lazy. Quick commands (``--version``, ``token``, ``statusline``, hooks…) run on every
prompt or status-bar refresh, and importing the whole package (the server, SQLite helpers,
prices) took ~0.35 s where a bare interpreter starts in ~0.01 s. So this module imports only
argparse and stdlib; the one command on the line has its module imported, and every other
command is listed by the one-line help kept in ``COMMANDS``. ``bench/startup.py`` measures it.

Adding a command — one module and one line:

1. Write ``spendtray/cli/<name>.py`` with ``register(p: argparse.ArgumentParser)``: it adds the
   command's arguments to ``p`` (already named, with the help text from ``COMMANDS``), may set
   ``p.description``, and ends with ``p.set_defaults(func=run)`` where ``run(args) -> int``.
   Import at the module's top only what the command needs; a quick command imports heavy
   modules inside ``run`` on the branch that needs them, if at all.
2. Add ``"<name>": ("spendtray.cli.<name>", "<one-line help>")`` to ``COMMANDS``; if the
   command must start fast, add its name to ``QUICK_COMMANDS`` (``tests/cli/test_main.py``
   then checks it imports none of ``HEAVY_MODULES``).

Every user mistake ends as one line on stderr and exit status 2: a command raises one of the
``USER_ERRORS`` (looked up by name, so naming them here imports nothing).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from spendtray import __version__

# name -> (module, one-line help shown by `spendtray --help`), in the order --help lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("spendtray.cli.serve", "run the ingest server without a GUI"),
    "report": ("spendtray.cli.report", "spend grouped by project, model, provider, agent or time"),
    "export": ("spendtray.cli.export", "export stored events as CSV or JSON"),
    "token": ("spendtray.cli.token", "print the ingest token"),
    "prices": ("spendtray.cli.prices", "look up model prices"),
    "estimate": (
        "spendtray.cli.estimate",
        "what a prompt will cost on several models (and what history would have cost)",
    ),
    "budget": ("spendtray.cli.budget", "money limits per project: set, list, remove"),
    "import": (
        "spendtray.cli.importer",
        "import coding agents' usage logs, all found or one source (incremental; --watch)",
    ),
    "sources": ("spendtray.cli.sources", "which agents' usage logs were found, and their state"),
    "reprice": (
        "spendtray.cli.reprice",
        "price stored calls again with today's prices (dry run unless --apply)",
    ),
    "run": (
        "spendtray.cli.run",
        "run a command with its OpenAI/Anthropic API calls going through the proxy",
    ),
    "limits": ("spendtray.cli.limits", "subscription windows: use, reset time, pace"),
    "statusline": (
        "spendtray.cli.statusline",
        "Claude Code statusline: records subscription windows, prints one line (--install)",
    ),
    "check": ("spendtray.cli.check", "may a project spend? exit 0 ok, 10 warning, 11 exceeded"),
    "hooks": ("spendtray.cli.hooks", "Claude Code hook that stops a session over its hard budget"),
    "mcp": ("spendtray.cli.mcp", "MCP server (stdio) for agents: spend, budgets, estimates"),
    "sync": ("spendtray.cli.sync", "share spend between your machines through a synced folder"),
}
# Commands that must start fast (run by other tools on every prompt or refresh).
QUICK_COMMANDS = ("token", "statusline", "check", "hooks", "limits")
# What a quick command must not import: each costs tens of milliseconds or more.
HEAVY_MODULES = (
    "sqlite_utils",
    "starlette",
    "uvicorn",
    "httpx",
    "orjson",
    "genai_prices",
    "tiktoken",
    "PySide6",
    "spendtray.store.writer",
    "spendtray.store.reader",
    "spendtray.prices.book",
    "spendtray.server.app",
)

# (module, class) of the exceptions that mean "the user asked for something wrong".
USER_ERRORS = (
    ("spendtray.cli.common", "UserError"),
    ("spendtray.config", "ConfigError"),
    ("spendtray.server.runner", "PortInUse"),
    ("spendtray.store.reader", "QueryError"),
    ("spendtray.prices.overrides", "PriceFileError"),
    ("spendtray.prices.book", "UnknownModel"),
    ("spendtray.instance_lock", "AlreadyServing"),
)
_GLOBAL_WITH_VALUE = ("--port", "--home")


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, read the same way ($COLUMNS, then the
    terminal of stdout, else 80)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own formatter, but its width found without importing ``shutil`` (with bz2
    and lzma, ~5 ms of every command's start: argparse makes a formatter for each
    ``add_argument`` to check its metavar)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as HelpFormatter does with shutil's answer
        super().__init__(prog, indent_increment, max_help_position, width)


class OneLineParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"spendtray: {message} (see `{self.prog} --help`)\n")


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command word on the line (skipping the global options), or None."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--":
            return None
        elif word in _GLOBAL_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's module is imported and the others are
    listed by name and help."""
    parser = OneLineParser(
        prog="spendtray",
        description="What your LLM API calls cost, live in the tray. "
        "With no command: start the tray app (headless server when there is no display).",
    )
    parser.add_argument("--version", action="version", version=f"spendtray {__version__}")
    parser.add_argument("--port", type=int, help="port for the ingest server (0 = any free port)")
    parser.add_argument("--home", help="data folder (default: $SPENDTRAY_HOME or the platform's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if only is None or name == only:
            importlib.import_module(module).register(p)
    return parser


def user_error_message(exc: BaseException) -> str | None:
    """The one line to print when ``exc`` is a user mistake; None when it is not one."""
    for module_name, class_name in USER_ERRORS:
        module = sys.modules.get(module_name)
        cls = getattr(module, class_name, None) if module is not None else None
        if isinstance(cls, type) and isinstance(exc, cls):
            return str(exc)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    word = chosen_command(argv)
    args = build_parser(word if word in COMMANDS else "").parse_args(argv)
    if args.home is not None:
        from pathlib import Path

        args.home = Path(args.home)
        if args.home.exists() and not args.home.is_dir():
            print(f"spendtray: --home: {args.home} is not a folder", file=sys.stderr)
            return 2
    if args.port is not None and not 0 <= args.port <= 65535:
        print(f"spendtray: --port: {args.port} is not a TCP port (0–65535)", file=sys.stderr)
        return 2
    try:
        if args.command is None:
            from spendtray.cli.launch import launch

            return launch(args)
        result: int = args.func(args)
        return result
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = user_error_message(exc)
        if message is None and isinstance(exc, OSError) and exc.filename is not None:
            # A file or folder the user named (or the data folder) cannot be used: its name
            # and the system's reason, e.g. "Permission denied: '/etc/spendtray'".
            message = f"{exc.strerror or exc}: {exc.filename}"
        sqlite3 = sys.modules.get("sqlite3")
        if message is None and sqlite3 is not None and isinstance(exc, sqlite3.DatabaseError):
            message = f"the database cannot be used ({exc}); it is spendtray.db in the data folder"
        if message is None:
            raise
        print(f"spendtray: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
