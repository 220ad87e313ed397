"""`spendtray serve`: the headless ingest server. Main thread runs uvicorn; Ctrl+C / SIGTERM
stop it, then the writer drains."""

from __future__ import annotations

import argparse
import sys

from spendtray.cli.common import settings_from


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=argparse.SUPPRESS, help="port (0 = any free port)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=run)


def serve_headless(args: argparse.Namespace, reason: str | None = None) -> int:
    from spendtray.cli import reach
    from spendtray.core import Core, setup_logging
    from spendtray.gc_tuning import tune_for_serving

    settings = settings_from(args)
    setup_logging(settings, getattr(args, "verbose", False))
    core = Core(settings, warm_tokenizers=True)
    runner = core.build_server()
    lead = f"{reason} — " if reason else ""
    print(
        f"{lead}Spendtray running headless: ingest server on {runner.url} "
        f"(token: `{reach.command(settings.home, 'token')}`, data: {settings.home}). "
        "Ctrl+C to stop.",
        file=sys.stderr,
        flush=True,
    )
    tune_for_serving()
    try:
        runner.run()
    finally:
        core.stop()
    print("spendtray: stopped; every acknowledged event is stored.", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    return serve_headless(args)
