"""One background job runner for a window: the newest job only, results back on the GUI thread.

``Background`` wraps a ``LatestOnlyWorker`` (started on first use, stopped by ``close`` and
restarted by the next ``submit``) and a relay object living on the GUI thread: the worker
emits the relay's signal and Qt queues the call, so ``on_result`` runs on the GUI thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from spendtray.estimator.latest_worker import LatestOnlyWorker

# counting a megabyte keeps both cores busy for a few hundred ms; typing must not wait for it
WORKER_NICE = 10


class _Relay(QObject):
    done = Signal(int, object, object)  # sequence, result, error


class Background:
    def __init__(self, name: str, on_result: Callable[[Any, BaseException | None], None]) -> None:
        self.name = name
        self._relay = _Relay()
        self._relay.done.connect(lambda _seq, result, error: on_result(result, error))
        self._worker: LatestOnlyWorker | None = None

    def start(self) -> None:
        if self._worker is None:
            signal = self._relay.done

            def deliver(seq: int, result: Any, error: BaseException | None) -> None:
                # RuntimeError: the window was deleted while the job ran; nobody is left to tell
                with contextlib.suppress(RuntimeError):
                    signal.emit(seq, result, error)

            self._worker = LatestOnlyWorker(deliver, name=self.name, nice=WORKER_NICE)

    def submit(self, job: Callable[[], Any]) -> None:
        self.start()
        assert self._worker is not None
        self._worker.submit(job)

    def close(self) -> None:
        if self._worker is not None:
            # no join: a job in progress finishes on its own and its result is dropped
            self._worker.close(timeout=0)
            self._worker = None
