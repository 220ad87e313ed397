"""The one object through which worker threads reach the GUI: Qt signals, nothing else.

Created on the GUI thread. The writer thread (commit listener), budget notifiers, the
single-instance server and the agent-log watcher emit here; because the bridge lives on the GUI
thread, Qt queues each emission and delivers it there, so no widget is ever touched from another
thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from spendtray.importers import ImportReport, ImportWatcher
from spendtray.store.writer import CommitInfo, Writer


class Bridge(QObject):
    committed = Signal(object)  # CommitInfo: events were stored
    alert = Signal(object)  # a budget alert to show as a desktop notification
    activate = Signal()  # another launch asked this instance to show itself
    budgets_changed = Signal(str)  # the budgets' worst state after an evaluation
    imported = Signal(object, object)  # list[ImportReport], error text or None: a log pass

    def __init__(self) -> None:
        super().__init__()
        self._open = True

    def attach(self, writer: Writer) -> None:
        writer.add_listener(self._on_commit)

    def _on_commit(self, info: CommitInfo) -> None:
        # Writer thread or the server loop. Listeners cannot be removed, so a closed bridge
        # just stops relaying.
        if self._open and info.stored + info.duplicates > 0:
            self.committed.emit(info)

    def follow(self, watcher: ImportWatcher) -> None:
        """Relay each import pass of ``watcher`` (its reports and any error) to the GUI."""

        def relay(reports: list[ImportReport]) -> None:
            # Watcher thread; last_error is set by the same pass just before listeners run.
            if self._open:
                self.imported.emit(reports, watcher.last_error)

        watcher.add_listener(relay)

    def close(self) -> None:
        self._open = False
