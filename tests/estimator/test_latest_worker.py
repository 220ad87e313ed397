"""LatestOnlyWorker: jobs superseded before they start never run; results carry their number."""

from __future__ import annotations

import queue
import threading

from spendtray.estimator.latest_worker import LatestOnlyWorker


def test_only_the_newest_waiting_job_runs() -> None:
    delivered: queue.Queue[tuple[int, object, BaseException | None]] = queue.Queue()
    worker = LatestOnlyWorker(lambda seq, result, error: delivered.put((seq, result, error)))
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def first() -> str:
        started.set()
        release.wait(10)
        ran.append("first")
        return "first"

    try:
        one = worker.submit(first)
        assert started.wait(10)
        worker.submit(lambda: ran.append("second") or "second")
        three = worker.submit(lambda: ran.append("third") or "third")
        assert worker.is_current(three) and not worker.is_current(one)
        release.set()
        assert delivered.get(timeout=10) == (one, "first", None)
        assert delivered.get(timeout=10) == (three, "third", None)
        assert ran == ["first", "third"]
    finally:
        worker.close(timeout=10)


def test_errors_are_delivered_not_raised() -> None:
    delivered: queue.Queue[tuple[int, object, BaseException | None]] = queue.Queue()
    worker = LatestOnlyWorker(lambda seq, result, error: delivered.put((seq, result, error)))
    try:
        seq = worker.submit(lambda: 1 / 0)
        got_seq, result, error = delivered.get(timeout=10)
        assert got_seq == seq and result is None and isinstance(error, ZeroDivisionError)
    finally:
        worker.close(timeout=10)
