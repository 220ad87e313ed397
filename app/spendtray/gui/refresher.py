"""Live data for the tray and dashboard: coalesced refreshes on a worker QThread.

The GUI thread owns ``Refresher``: it turns bursts of commit signals into at most one query
every ``COALESCE_MS`` and never runs two at once. ``_Worker`` lives on the "spendtray-refresh"
QThread, reads through ``Reader`` (its own SQLite connection there) and sends the finished
``Snapshot`` back by signal.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot

from spendtray.clock import utc_now
from spendtray.store.reader import Reader
from spendtray.views.machines import ThisMachine
from spendtray.views.snapshot import (
    PARTS,
    BudgetLines,
    Snapshot,
    UnpricedMemo,
    ViewFilters,
    collect,
)
from spendtray.views.tray_text import BudgetView

log = logging.getLogger(__name__)

COALESCE_MS = 120  # a burst of commits inside this window costs one refresh
TICK_MS = 60_000  # re-read once a minute so "today" and the hour axis roll over by themselves

BudgetState = Callable[[], BudgetView | None]
# This machine's name, id and sync folder, asked at each refresh (settings can change).
MachineState = Callable[[], ThisMachine]


class _Worker(QObject):
    done = Signal(object)
    failed = Signal(int, str)

    def __init__(
        self,
        reader: Reader,
        budget_lines: BudgetLines | None,
        budget_state: BudgetState | None,
        machine_state: MachineState | None = None,
    ) -> None:
        super().__init__()
        self._machine_state = machine_state
        self._reader = reader
        self._budget_lines = budget_lines
        self._budget_state = budget_state
        self._memo = UnpricedMemo()

    @Slot(int, object, object, bool, object)
    def run(
        self,
        generation: int,
        now: dt.datetime,
        filters: ViewFilters,
        board: bool,
        parts: frozenset[str],
    ) -> None:
        try:
            wanted = filters if board else None
            this = self._machine_state() if self._machine_state and board else None
            snapshot = collect(
                self._reader, generation, now, wanted, parts, self._budget_lines, self._memo, this
            )
            state = self._budget_state() if self._budget_state else None
            self.done.emit((snapshot, state))
        except Exception as exc:  # shown in the dashboard's status line, logged in full
            log.exception("refresh failed")
            self.failed.emit(generation, str(exc))

    @Slot()
    def close(self) -> None:
        # Only this thread's connection: the reader is the core's, which the budget thread and
        # the server go on using until Core.stop.
        self._reader.close_this_thread()


class Refresher(QObject):
    """Ask with ``request()``; results arrive on ``ready((Snapshot, BudgetView | None))``.

    No signal here ever carries a bare ``None``: PySide6 loses a reference to it when it
    crosses threads as ``object`` (the interpreter later dies "deallocating None").
    """

    ready = Signal(object)
    failed = Signal(str)
    _run = Signal(int, object, object, bool, object)

    def __init__(
        self,
        reader: Reader,
        clock: Callable[[], dt.datetime] = utc_now,
        budget_lines: BudgetLines | None = None,
        budget_state: BudgetState | None = None,
        tick_ms: int = TICK_MS,
        machine_state: MachineState | None = None,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.filters = ViewFilters()
        self.dashboard_open = False
        self.visible_parts: frozenset[str] = frozenset({"overview"})
        self._full = True  # the next refresh reads every part, not just the visible one
        self.latest: Snapshot | None = None
        self._generation = 0
        self._in_flight = False
        self._pending = False
        self._thread = QThread()
        self._thread.setObjectName("spendtray-refresh")
        self._worker = _Worker(reader, budget_lines, budget_state, machine_state)
        self._worker.moveToThread(self._thread)
        self._run.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self._start)
        self._tick = QTimer(self)
        self._tick.setInterval(tick_ms)
        self._tick.timeout.connect(self.refresh_full)
        self._thread.start()
        self._tick.start()

    # -- asking ---------------------------------------------------------------------------

    @Slot()
    @Slot(object)
    def request(self, _info: object = None) -> None:
        """Something changed: refresh soon (coalesced with whatever else arrives meanwhile)."""
        if self._in_flight:
            self._pending = True
        elif not self._coalesce.isActive():
            self._coalesce.start()

    def refresh_now(self) -> None:
        """The user changed what is shown: no coalescing delay."""
        self._coalesce.stop()
        if self._in_flight:
            self._pending = True
        else:
            self._start()

    def refresh_full(self) -> None:
        """Read every part of the dashboard (filter choices included), not only the visible."""
        self._full = True
        self.refresh_now()

    def set_filters(self, filters: ViewFilters) -> None:
        self.filters = filters
        self.refresh_full()

    def set_dashboard_open(self, is_open: bool) -> None:
        self.dashboard_open = is_open
        if is_open:
            self.refresh_full()

    def set_visible_part(self, part: str) -> None:
        """The dashboard switched tabs; "" for a tab that shows none of the parts."""
        self.visible_parts = frozenset({part}) if part else frozenset()
        self.refresh_now()

    @property
    def generation(self) -> int:
        return self._generation

    # -- running --------------------------------------------------------------------------

    def _start(self) -> None:
        if not self._thread.isRunning():
            return
        self._generation += 1
        self._in_flight = True
        self._pending = False
        parts = PARTS if self._full else self.visible_parts
        self._full = False
        self._run.emit(self._generation, self.clock(), self.filters, self.dashboard_open, parts)

    def _finish(self) -> None:
        self._in_flight = False
        if self._pending:
            self._pending = False
            self._start()

    @Slot(object)
    def _on_done(self, result: tuple[Snapshot, str | None]) -> None:
        self.latest = result[0]
        # A refresh that finished after a newer one was asked for is still shown: it is
        # never older than what is on screen, and the newer one follows right behind.
        self.ready.emit(result)
        self._finish()

    @Slot(int, str)
    def _on_failed(self, _generation: int, message: str) -> None:
        self.failed.emit(message)
        self._finish()

    def stop(self) -> None:
        """Finish the running query, close the worker's connection, end the thread, then
        delete the worker and the thread now, on the GUI thread: left to Python's cycle
        collector they would be destroyed on whichever thread it next runs (see
        ``GuiApp.shutdown``)."""
        if not shiboken6.isValid(self._thread):
            return
        self._tick.stop()
        self._coalesce.stop()
        if self._thread.isRunning():
            # the worker's SQLite connection belongs to its thread, so close it there
            QMetaObject.invokeMethod(
                self._worker, "close", Qt.ConnectionType.BlockingQueuedConnection
            )
            self._thread.quit()
            self._thread.wait()
        shiboken6.delete(self._worker)
        shiboken6.delete(self._thread)
