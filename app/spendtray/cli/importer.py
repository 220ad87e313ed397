"""`spendtray import [SOURCE] [--path P] [--watch]`: copy coding agents' usage logs into the
database, incrementally; with no SOURCE every source found on this machine; with ``--watch``
keep following them. Main thread (the store's writer runs on its own thread)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

from spendtray.cli.common import UserError, settings_from
from spendtray.gc_tuning import collector_paused, no_collection_at_exit
from spendtray.importers.registry import KINDS, source
from spendtray.importers.runner import ImportReport, unchanged
from spendtray.importers.source import ImportPathError


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Import the usage that coding agents log locally; with no SOURCE, every source found "
        "on this machine (`spendtray sources` lists them and where each is looked for). Only "
        "lines not imported before are read; the same call seen twice is stored once."
    )
    p.add_argument(
        "kind",
        nargs="?",
        choices=KINDS,
        metavar="SOURCE",
        help=f"which agent's logs: {', '.join(KINDS)} (default: all found)",
    )
    p.add_argument(
        "--path",
        type=Path,
        action="append",
        help="a config folder, logs folder or single log file instead of the default places "
        "(repeatable; needs SOURCE)",
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


def _print_reports(reports: list[ImportReport]) -> None:
    for report in reports:
        if not report.roots:
            where = ", ".join(str(p) for p in source(report.kind).places(os.environ, Path.home()))
            print(f"spendtray: no {report.kind} logs found (looked in {where})", flush=True)
        else:
            _print(report, quiet_when_idle=False)


def _unchanged(db: Path, kinds: list[str], paths: list[Path] | None) -> list[ImportReport] | None:
    """One report per kind if none of their logs changed since imported, else None."""
    reports: list[ImportReport] = []
    for kind in kinds:
        try:
            report = unchanged(db, kind, paths)
        except ImportPathError as exc:
            raise UserError(str(exc)) from None
        if report is None:
            return None
        reports.append(report)
    return reports


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0 or args.interval > 3600:
        raise UserError("--interval: must be between 0 and 3600 seconds")
    if args.path and args.kind is None:
        raise UserError("--path: name the SOURCE its logs belong to (spendtray sources lists them)")
    # The collector off from the start-up imports to the last commit of the first pass (the
    # modules and the price catalogue are a few hundred thousand objects that live until the
    # command ends, which every collection walked again), and none at exit: 313 MB first
    # import read in-process, 5 alternating rounds, CPU 0.87 (0.81-1.04) of without. With
    # --watch the collector resumes once the first pass is stored.
    no_collection_at_exit()
    with ExitStack() as paused:
        paused.enter_context(collector_paused())
        return _run(args, paused)


def _load_sqlite_utils_without_numpy() -> None:
    """sqlite-utils (which applies the migrations of a new database file) imports numpy when
    it is installed (the GUI's plots need it) only to map numpy value types to column types,
    which nothing here stores; that import costs ~0.1 s of an import's start. So while
    sqlite-utils loads in this command's process, before any other thread runs, numpy reads
    as absent; it stays importable afterwards."""
    if "numpy" in sys.modules or "sqlite_utils" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # an ImportError for sqlite-utils
    try:
        import sqlite_utils.db
        import sqlite_utils.migrations  # noqa: F401
    finally:
        del sys.modules["numpy"]


def _run(args: argparse.Namespace, paused: ExitStack) -> int:
    settings = settings_from(args)
    if args.kind is not None:
        kinds = [args.kind]
    else:
        kinds = [name for name in KINDS if source(name).roots() and not source(name).no_usage]
        if not kinds:
            print("spendtray: no agent logs found (spendtray sources says where it looked)")
            return 0
    if not args.watch:
        # Logs unchanged since the last import: answered from a stat per file, before the
        # store, the prices or a running server are looked at (nothing would be sent).
        unchanged_reports = _unchanged(settings.db_path, kinds, args.path)
        if unchanged_reports is not None:
            _print_reports(unchanged_reports)
            return 0
    if not settings.db_path.exists():
        _load_sqlite_utils_without_numpy()  # a new file: store.migrate will need it
    from spendtray.core import Core
    from spendtray.identity import NotSpendtray
    from spendtray.importers.remote import (
        RemoteError,
        ServerSink,
        running_server,
        yield_cpu_to_the_app,
    )
    from spendtray.importers.watcher import ImportWatcher
    from spendtray.prices.table_cache import refresh_table

    # Only the store is started: budget evaluation and alerts belong to the running app.
    core = Core(settings)
    try:
        url = running_server(settings, core.token)
    except NotSpendtray as exc:
        core.stop()
        raise UserError(f"import: {exc}") from None
    # Sending to the running app, this process writes only its import offsets: the app's
    # writer folds the rollups and checkpoints the file, not a second writer beside it.
    # Storing itself into a store without events (a first import), its writer looks up only
    # the calls it stored itself, while no other process writes (``Writer.start``).
    alone = url is None
    core.start_store(folds=alone, checkpoint_bursts=alone, remember_keys=alone)
    sink = ServerSink(url, core.token) if url else None
    if url:
        print(f"spendtray: sending to the running Spendtray at {url}", file=sys.stderr)
        yield_cpu_to_the_app()  # a batch job beside the app's interactive server
    watcher: ImportWatcher | None = None
    try:
        try:
            watcher = ImportWatcher(
                core,
                kinds,
                args.interval,
                {args.kind: args.path} if args.path else None,
                store=sink,
            )
        except ImportPathError as exc:
            raise UserError(str(exc)) from None
        reports = watcher.poll_once()
        if watcher.last_error:
            raise UserError(f"import failed: {watcher.last_error}")
        if sink is None:
            # The models this pass priced without the price table, saved for the next import.
            refresh_table(core.prices)
        _print_reports(reports)
        if args.watch:
            paused.close()  # a long-lived process: the collector bounds its memory again
            print(
                f"spendtray: watching {', '.join(kinds)} logs every {args.interval:g} s; "
                "Ctrl+C stops",
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
