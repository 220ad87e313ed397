"""`spendtray import claude-code|codex [--path P] [--watch]`: copy coding agents' usage logs into
the database, incrementally; with ``--watch`` keep following them. Main thread (the store's
writer runs on its own thread)."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from spendtray.cli.common import UserError, settings_from
from spendtray.importers.runner import KINDS, ImportReport
from spendtray.importers.sources import CLAUDE_CODE, ImportPathError


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Import the usage that coding agents log locally. Claude Code: "
        "~/.claude/projects and ~/.config/claude/projects, or $CLAUDE_CONFIG_DIR (comma list). "
        "Codex: ${CODEX_HOME:-~/.codex}/sessions and archived_sessions. Only lines not imported "
        "before are read; the same call seen twice is stored once."
    )
    p.add_argument("kind", choices=KINDS, help="which agent's logs")
    p.add_argument(
        "--path",
        type=Path,
        action="append",
        help="a config folder, logs folder or single .jsonl file instead of the default places "
        "(repeatable)",
    )
    p.add_argument("--watch", action="store_true", help="keep following the logs (Ctrl+C stops)")
    p.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="seconds between checks with --watch (default 2)",
    )
    p.set_defaults(func=run)


def _print(report: ImportReport, quiet_when_idle: bool) -> None:
    if quiet_when_idle and not (report.stored or report.stats.malformed):
        return
    print(f"spendtray: {report.summary()}", flush=True)
    for example in report.stats.malformed_examples:
        print(f"  malformed: {example}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0 or args.interval > 3600:
        raise UserError("--interval: must be between 0 and 3600 seconds")
    settings = settings_from(args)
    from spendtray.core import Core
    from spendtray.importers.remote import RemoteError, ServerSink, running_server
    from spendtray.importers.watcher import ImportWatcher

    # Only the store is started: budget evaluation and alerts belong to the running app.
    core = Core(settings)
    core.start_store()
    url = running_server(settings)
    sink = ServerSink(url, core.token) if url else None
    if url:
        print(f"spendtray: sending to the running Spendtray at {url}", file=sys.stderr)
    watcher: ImportWatcher | None = None
    try:
        try:
            watcher = ImportWatcher(
                core,
                [args.kind],
                args.interval,
                {args.kind: args.path} if args.path else None,
                store=sink,
            )
        except ImportPathError as exc:
            raise UserError(str(exc)) from None
        reports = watcher.poll_once()
        if watcher.last_error:
            raise UserError(f"import failed: {watcher.last_error}")
        for report in reports:
            if not report.roots:
                where = (
                    "~/.claude/projects, ~/.config/claude/projects or $CLAUDE_CONFIG_DIR"
                    if args.kind == CLAUDE_CODE
                    else "${CODEX_HOME:-~/.codex}/sessions and archived_sessions"
                )
                print(f"spendtray: no {args.kind} logs found (looked in {where})", flush=True)
            else:
                _print(report, quiet_when_idle=False)
        if args.watch:
            print(
                f"spendtray: watching {args.kind} logs every {args.interval:g} s; Ctrl+C stops",
                file=sys.stderr,
                flush=True,
            )
            idle = threading.Event()
            while not idle.wait(args.interval):
                for report in watcher.poll_once():
                    _print(report, quiet_when_idle=True)
                if watcher.last_error:
                    print(f"spendtray: import failed: {watcher.last_error}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    except RemoteError as exc:
        raise UserError(str(exc)) from None
    finally:
        if watcher is not None:
            watcher.stop()
        if sink is not None:
            sink.close()
        core.stop()
    return 0
