"""A worker thread that runs only the newest job: typing ahead replaces work not yet started.

Qt-free; its own daemon thread runs the jobs, any thread may submit. The estimator window sends
one job per debounced edit: a job still waiting when a newer one arrives is dropped unrun, and
each result carries its sequence number so the receiver can drop one that finished after a
newer job was submitted (``is_current``). ``nice`` lowers the thread's CPU priority on Linux
(threads it starts, such as tiktoken's encoders, inherit it), so on a busy machine the GUI
thread is scheduled first.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

Job = Callable[[], Any]
Deliver = Callable[[int, Any, BaseException | None], None]


class LatestOnlyWorker:
    """Runs submitted jobs one at a time on a daemon thread, skipping superseded ones."""

    def __init__(self, deliver: Deliver, name: str = "spendtray-estimator", nice: int = 0) -> None:
        self._deliver = deliver
        self._nice = nice
        self._wake = threading.Condition()
        self._pending: tuple[int, Job] | None = None
        self._seq = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> int:
        """Queue ``job`` in place of any job not yet started; returns its sequence number."""
        with self._wake:
            self._seq += 1
            self._pending = (self._seq, job)
            self._wake.notify()
            return self._seq

    def is_current(self, seq: int) -> bool:
        """Whether ``seq`` is the newest job submitted (its result is not stale)."""
        with self._wake:
            return seq == self._seq

    def close(self, timeout: float | None = None) -> None:
        """Stop after the running job (if any); pending work is dropped."""
        with self._wake:
            self._closed = True
            self._pending = None
            self._wake.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        if self._nice and sys.platform == "linux":
            # Linux keeps a nice value per thread; elsewhere it would renice the whole process
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self._nice)
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                assert self._pending is not None
                seq, job = self._pending
                self._pending = None
            try:
                result = job()
            except Exception as exc:  # delivered to the receiver, which shows it
                self._deliver(seq, None, exc)
            else:
                self._deliver(seq, result, None)
