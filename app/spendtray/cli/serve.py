"""`spendtray serve`: the headless ingest server. Main thread runs uvicorn; Ctrl+C / SIGTERM
stop it, then the writer drains."""

from __future__ import annotations

import argparse
import sys

from spendtray.cli.common import settings_from
from spendtray.config import Settings
from spendtray.instance_lock import InstanceLock


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=argparse.SUPPRESS, help="port (0 = any free port)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=run)


def serve_headless(args: argparse.Namespace, reason: str | None = None) -> int:
    from spendtray.core import setup_logging

    settings = settings_from(args)
    setup_logging(settings, getattr(args, "verbose", False))
    lock = InstanceLock(settings.home)
    # Before the port: a second server for this folder names the first instead of binding.
    lock.acquire("spendtray serve" if reason is None else "spendtray (headless)")
    try:
        return _serve(settings, lock, reason)
    finally:
        lock.release()


def _serve(settings: Settings, lock: InstanceLock, reason: str | None) -> int:
    from spendtray.cli import reach
    from spendtray.core import Core
    from spendtray.gc_tuning import tune_for_serving

    core = Core(settings, warm_tokenizers=True)
    runner = core.build_server()
    lock.describe(runner.url)
    lead = f"{reason} — " if reason else ""
    print(
        f"{lead}Spendtray running headless: ingest server on {runner.url} "
        f"(token: `{reach.command(settings.home, 'token')}`, data: {settings.home}). "
        "Ctrl+C to stop.",
        file=sys.stderr,
        flush=True,
    )
    tune_for_serving()
    if settings.follow_agent_logs:
        core.follow_agent_logs()  # every agent log source found, live (`spendtray sources`)
    try:
        runner.run()
    finally:
        core.stop()
    print("spendtray: stopped; every acknowledged event is stored.", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    return serve_headless(args)
