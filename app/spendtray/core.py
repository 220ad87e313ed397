"""The composition root: builds and wires the store, prices, ingest service and server.

Both ``spendtray serve`` (headless) and the GUI start a ``Core``; the GUI then connects its Qt
bridge to ``core.writer`` commit notifications. Nothing here imports Qt.
Threads: the caller's (start/stop), "spendtray-writer", "spendtray-http".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler

from starlette.routing import BaseRoute

from spendtray.clock import utc_now
from spendtray.config import Settings, ensure_home, ensure_token
from spendtray.datadir import loopback_url
from spendtray.ingest.service import IngestService
from spendtray.prices.book import PriceBook
from spendtray.server.app import ServerContext, build_app
from spendtray.server.commit_batcher import CommitBatcher
from spendtray.server.runner import ServerRunner
from spendtray.server.usage_endpoint import BudgetStatus
from spendtray.store.reader import Reader
from spendtray.store.writer import Writer

log = logging.getLogger("spendtray")


def setup_logging(settings: Settings, verbose: bool = False) -> None:
    """Log to ``<data>/logs/spendtray.log`` (rotated) and to stderr."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("spendtray")
    if root.handlers:
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = RotatingFileHandler(
        settings.log_dir / "spendtray.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter("spendtray: %(message)s"))
    stream.setLevel(logging.WARNING if not verbose else logging.DEBUG)
    root.addHandler(stream)


@dataclass
class Core:
    """Everything the app runs, wired once."""

    settings: Settings
    clock: Callable[[], dt.datetime] = utc_now
    extra_routes: list[BaseRoute] = field(default_factory=list)
    budget_status: BudgetStatus | None = None

    def __post_init__(self) -> None:
        ensure_home(self.settings)
        self.token = ensure_token(self.settings)
        self.prices = PriceBook.load(
            user_file=self.settings.user_prices_path, data_dir=self.settings.prices_data_dir
        )
        self.writer = Writer(self.settings.db_path, self.settings.durability)
        self.reader = Reader(
            self.settings.db_path, self.settings.zone(), self.settings.week_start_index
        )
        self.service = IngestService(self.prices, self.writer, self.clock)
        # One group-commit point for every route that stores events on the event loop.
        self.batcher = CommitBatcher(self.writer)
        self.runner: ServerRunner | None = None

    def start_store(self) -> None:
        """Open (and migrate) the database and start the writer thread."""
        if not self.writer.running:
            self.writer.start()

    def build_server(self) -> ServerRunner:
        self.start_store()
        ctx = ServerContext(
            settings=self.settings,
            token=self.token,
            service=self.service,
            reader=self.reader,
            prices=self.prices,
            budget_status=self.budget_status,
            batcher=self.batcher,
            extra_routes=self.extra_routes,
            clock=self.clock,
        )
        self.runner = ServerRunner(build_app(ctx), self.settings.host, self.settings.port)
        return self.runner

    def start_background(self) -> ServerRunner:
        """Store + server on background threads (GUI process, tests)."""
        runner = self.build_server()
        runner.start_in_thread()
        if not runner.wait_started():
            raise RuntimeError("the HTTP server did not start")
        log.info("listening on %s", runner.url)
        return runner

    def stop(self) -> None:
        """Stop accepting requests, then drain and close the writer."""
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        self.writer.stop()
        self.reader.close()

    @property
    def url(self) -> str:
        if self.runner is None:
            return loopback_url(self.settings.host, self.settings.port)
        return self.runner.url
