"""The composition root: ``Core`` creates, types, starts and stops every part of the app.

Both ``spendtray serve`` (headless) and the GUI build one ``Core``; the GUI then connects its Qt
bridge to ``core.writer`` commit notifications. Nothing here imports Qt. Feature packages never
attach themselves to the core: each part is a typed attribute created in ``__init__`` in
dependency order (a part takes the parts it needs as constructor arguments, so the order is
checked by the type checker, not by a comment), and every HTTP route is in one table
(``server/routes.py``).

Lifecycle (caller's thread): ``start_store`` (the writer thread alone: CLI commands that only
store) → ``start`` (plus every worker in ``_workers``) → ``start_background`` (plus the HTTP
server thread) or ``build_server`` + ``runner.run()`` (server on the calling thread).
``stop`` undoes whatever was started, in reverse order, and closes every SQLite connection.
Threads: the caller's, "spendtray-writer" (and its "spendtray-checkpoint"), "spendtray-budgets",
"spendtray-webhook", "spendtray-http", "spendtray-import-watch", "spendtray-tiktoken-warmup",
"spendtray-prices-watch", "spendtray-sync", "spendtray-spool-drain", "spendtray-otlp-export".
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from spendtray.clock import utc_now
from spendtray.config import Settings, ensure_home, ensure_token
from spendtray.datadir import loopback_url
from spendtray.ingest.service import IngestService
from spendtray.prices.book import PriceBook, import_catalogue_code
from spendtray.private_files import private_dir, private_file
from spendtray.store.reader import Reader
from spendtray.store.writer import Writer

if TYPE_CHECKING:
    from spendtray.budgets.notify import WebhookNotifier
    from spendtray.budgets.runaway import RunawayRule
    from spendtray.budgets.service import BudgetService
    from spendtray.importers.watcher import ImportWatcher
    from spendtray.ingest.spool_drain import SpoolDrain
    from spendtray.limits.service import LimitsService
    from spendtray.otlp_export.service import OtlpExportService
    from spendtray.prices.reloader import PriceReloader
    from spendtray.proxy.routes import Proxy
    from spendtray.server.commit_batcher import CommitBatcher
    from spendtray.server.routes import Endpoint
    from spendtray.server.runner import ServerRunner
    from spendtray.sync.service import SyncService

log = logging.getLogger("spendtray")


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """Log files created 0600 whatever the umask (also each one rotation starts)."""

    def _open(self):  # type: ignore[no-untyped-def]
        private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(settings: Settings, verbose: bool = False) -> None:
    """Log to ``<data>/logs/spendtray.log`` (rotated) and to stderr."""
    private_dir(settings.log_dir)
    root = logging.getLogger("spendtray")
    if root.handlers:
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = _PrivateRotatingFileHandler(
        settings.log_dir / "spendtray.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter("spendtray: %(message)s"))
    stream.setLevel(logging.WARNING if not verbose else logging.DEBUG)
    root.addHandler(stream)


class Worker(Protocol):
    """A part with a thread of its own: started by ``Core.start``, stopped by ``Core.stop``
    (which must join its thread and close its connections)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


W = TypeVar("W", bound=Worker)


class Core:
    """Every part of the running app, wired once (see the module docstring for the lifecycle).

    ``runaway`` and ``budget_min_gap`` tune the budget service (tests pass a disabled rule and
    0 s); ``warm_tokenizers`` loads the tiktoken files on a daemon thread at ``start`` so the
    first estimate does not wait ~0.6 s — they cost ~50 MB resident, so the tray app passes
    False and loads them when the estimator is first used.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], dt.datetime] = utc_now,
        *,
        runaway: RunawayRule | None = None,
        budget_min_gap: float = 0.1,
        warm_tokenizers: bool = False,
    ) -> None:
        from spendtray.budgets.notify import WebhookNotifier
        from spendtray.budgets.service import BudgetService, runaway_rule
        from spendtray.ingest.spool_drain import SpoolDrain
        from spendtray.limits.service import LimitsService
        from spendtray.prices.reloader import PriceReloader
        from spendtray.proxy.upstreams import resolve_upstreams
        from spendtray.sync.layout import machine_id
        from spendtray.sync.service import SyncService

        self.settings = settings
        self.clock = clock
        self.warm_tokenizers = warm_tokenizers
        ensure_home(settings)
        self.token = ensure_token(settings)
        self._workers: list[Worker] = []

        # -- parts, in dependency order; ``stop`` undoes ``start`` in reverse -------------
        self.prices = PriceBook.load(
            user_file=settings.user_prices_path,
            data_dir=settings.prices_data_dir,
            table_file=settings.price_table_path,
        )
        self.writer = Writer(settings.db_path, settings.durability, settings.machine_name)
        self.reader = Reader(settings.db_path, settings.zone(), settings.week_start_index)
        self.ingest = IngestService(self.prices, self.writer, clock, settings.machine_name)
        # Before the budget service: started first, it is running when the first alert fires.
        self.webhook: WebhookNotifier | None = (
            self._worker(WebhookNotifier(settings.webhook_url)) if settings.webhook_url else None
        )
        self.budgets: BudgetService = self._worker(
            BudgetService(
                self.writer,
                self.reader,
                settings,
                clock,
                runaway or runaway_rule(settings),
                min_gap=budget_min_gap,
            )
        )
        if self.webhook is not None:
            self.budgets.add_notifier(self.webhook)
        # Raises ConfigError for a bad [upstreams] entry, before anything starts (the proxy
        # itself is built with the routes: ``proxy``).
        self._upstreams = resolve_upstreams(settings)
        self.limits: LimitsService = self._worker(
            LimitsService(self.writer, self.reader, settings, clock)
        )
        # Stores what Python clients spooled while the app was down (once per start).
        self.spool_drain: SpoolDrain = self._worker(
            SpoolDrain(self.ingest, settings.home / "spool")
        )
        self.price_reloader: PriceReloader = self._worker(
            PriceReloader(self.prices, settings.user_prices_path, settings.prices_data_dir)
        )
        self.sync: SyncService | None = (
            self._worker(
                SyncService(
                    Path(settings.sync_folder),
                    settings.home,
                    settings.machine_name,
                    self.reader,
                    self.writer,
                )
            )
            if settings.sync_folder
            else None
        )
        self.otlp_export: OtlpExportService | None = None
        if settings.otlp_export is not None:  # the OpenTelemetry SDK loads only when asked for
            from spendtray.otlp_export.service import OtlpExportService

            self.otlp_export = self._worker(
                OtlpExportService(
                    settings.otlp_export,
                    machine_id(settings.home),
                    settings.machine_name,
                    self.reader,
                    self.writer,
                )
            )
        # New parts register here, one line each, after the parts they use — a part with a
        # thread of its own as ``self.part = self._worker(Part(...))`` — and their routes go
        # in server/routes.py.

        self.runner: ServerRunner | None = None
        self.watcher: ImportWatcher | None = None
        self._warmup: threading.Thread | None = None
        self._prices_loading: threading.Thread | None = None
        self._started = False

    @cached_property
    def routes(self) -> list[Endpoint]:
        """Every HTTP route (``server/routes.py``), built when the server is: commands that
        only store (``spendtray import``) skip the receivers' protobuf and OTLP modules."""
        from spendtray.server.routes import route_table

        return route_table(self)

    @cached_property
    def batcher(self) -> CommitBatcher:
        """One group-commit point for every route that stores events on the event loop,
        built with the routes (it loads asyncio, which commands that only store skip)."""
        from spendtray.server.commit_batcher import CommitBatcher

        return CommitBatcher(self.writer)

    @cached_property
    def proxy(self) -> Proxy:
        """The proxy's part (``proxy/``), built with the routes: its HTTP stack (httpx,
        Starlette) is ~0.03 s of the start of commands that only store."""
        from spendtray.proxy.routes import Proxy

        proxy = Proxy(self._upstreams, self.ingest, self.budgets, self.settings.proxy_include_usage)
        proxy.rate_limits_seen = self.limits.headers_seen
        return proxy

    def _worker(self, part: W) -> W:
        self._workers.append(part)
        return part

    # -- lifecycle ------------------------------------------------------------------------

    def start_store(
        self, *, folds: bool = True, checkpoint_bursts: bool = False, remember_keys: bool = False
    ) -> None:
        """Open (and migrate) the database and start the writer thread; ``folds=False`` for
        a command beside the running app, whose writer folds the rollups; ``checkpoint_bursts``
        and ``remember_keys`` for an import storing itself (``Writer.start``)."""
        if not self.writer.running:
            self.writer.start(
                folds=folds, checkpoint_bursts=checkpoint_bursts, remember_keys=remember_keys
            )

    def start(self) -> None:
        """The store, then every worker (webhook, budget evaluation), then the tokenizer
        warm-up."""
        self.start_store()
        if self._started:
            return
        self._started = True
        for worker in self._workers:
            worker.start()
        if not self.prices.loaded:
            # The price table answers at once, but the first event of a model it lacks (or
            # the estimator's model list) would load genai-prices on the thread that asks: the
            # server's event loop for a single POST (~0.2 s for every request). The app loads
            # it behind the table instead; the import command, which never calls start, does
            # not. Its code is imported here first, so that the thread never imports while
            # this one does (see import_catalogue_code).
            import_catalogue_code()
            self._prices_loading = threading.Thread(
                target=self._load_prices_behind, name="spendtray-prices", daemon=True
            )
            self._prices_loading.start()
        if self.warm_tokenizers:
            from spendtray.estimator import tokenizers

            self._warmup = tokenizers.warm_up()

    def _load_prices_behind(self) -> None:
        """The "spendtray-prices" thread: genai-prices loaded ahead of need. A failure here
        (once in CI, when this thread still imported while the main thread did: its traceback
        was the server's first line of stderr) must not take the start-up's place: the book
        stays deferred and loads on first need, where a failure that lasts reaches the caller
        as any pricing error does."""
        try:
            self.prices.load_catalogue()
        except Exception:
            log.info(
                "price catalogue not loaded ahead of need; it loads when first needed",
                exc_info=True,
            )

    def build_server(self) -> ServerRunner:
        """Start every part and bind the HTTP server (run it with ``runner.run()``)."""
        from spendtray.server.app import build_app
        from spendtray.server.runner import ServerRunner

        self.start()
        self.runner = ServerRunner(build_app(self), self.settings.host, self.settings.port)
        return self.runner

    def start_background(self) -> ServerRunner:
        """Every part, with the HTTP server on its own thread (GUI process, tests)."""
        runner = self.build_server()
        runner.start_in_thread()
        if not runner.wait_started():
            raise RuntimeError("the HTTP server did not start")
        log.info("listening on %s", runner.url)
        return runner

    def follow_agent_logs(
        self,
        kinds: Sequence[str] | None = None,
        interval: float | None = None,
        prepare: Callable[[ImportWatcher], None] | None = None,
    ) -> ImportWatcher:
        """Start following every agent log source (``importers.registry``) on a watcher thread; the
        core stops it with everything else. ``prepare`` sees the watcher before its first
        pass (the GUI adds its bridge as a listener). Returns the running watcher."""
        from spendtray.importers.registry import KINDS
        from spendtray.importers.watcher import DEFAULT_INTERVAL, ImportWatcher

        if self.watcher is None:
            watcher = ImportWatcher(
                self, kinds=kinds or KINDS, interval=interval or DEFAULT_INTERVAL
            )
            if prepare is not None:
                prepare(watcher)
            watcher.start()
            self.watcher = watcher
        return self.watcher

    def stop_following_agent_logs(self) -> None:
        """Join the watcher thread: the pass in progress finishes and its events commit."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def stop(self) -> None:
        """Stop in reverse order: log watcher, server (no new requests), workers (budget
        evaluation, webhook), the writer (drains every acknowledged event), then close every
        read connection. Safe to call twice, and on a core that never started."""
        self.stop_following_agent_logs()
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        for worker in reversed(self._workers):
            worker.stop()
        if self._warmup is not None:
            self._warmup.join()
            self._warmup = None
        if self._prices_loading is not None:
            self._prices_loading.join()
            self._prices_loading = None
        self.writer.stop()
        self.reader.close()
        self._started = False

    @property
    def url(self) -> str:
        if self.runner is None:
            return loopback_url(self.settings.host, self.settings.port)
        return self.runner.url
