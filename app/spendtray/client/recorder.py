"""The background sender: one queue, one daemon thread, batches, the spool, flush at exit.

``submit`` runs on the caller's thread (or event loop) and only puts an item on a queue; it
never blocks and never raises. The daemon thread "spendtray-client" takes everything queued,
turns captured SDK answers into events, POSTs them in batches and, when the app does not
answer, appends them to the spool and retries with backoff. At its start, and whenever a POST
succeeds while something is spooled, it delivers the spool.

``flush(timeout)`` waits until everything submitted before it has been delivered or spooled.
At interpreter exit an ``atexit`` hook flushes with a short timeout; if the sender is stuck
(an app that accepts connections but does not answer), the main thread spools what is left,
including the batch in flight, which is harmless if it did arrive: request ids are idempotent.
A forked child starts with an empty queue and its own thread.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import threading
import time
import weakref
from typing import Any

from spendtray.client.capture import Captured
from spendtray.client.settings import ClientSettings
from spendtray.client.spool import Spool

log = logging.getLogger("spendtray.client")

QUEUE_SIZE = 100_000
BATCH = 500
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0

Item = dict[str, Any] | Captured


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.delivered = False


class _Stop:
    pass


class Recorder:
    """Owns the queue, the sender thread, the spool and the HTTP delivery."""

    def __init__(self, settings: ClientSettings | None = None) -> None:
        self.settings = settings or ClientSettings()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Item | _Flush | _Stop] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._spool: Spool | None = None
        self._inflight: list[dict[str, Any]] = []
        self._retry_at = 0.0
        self._backoff = BACKOFF_FIRST
        self._closed = False
        self._abandoned = False  # close() gave up on the thread and spooled its work
        self._dropped = 0
        self._refused_seen = 0  # Delivery.refused at the last flush
        _LIVE.add(self)

    # -- caller side ---------------------------------------------------------------------

    def submit(self, item: Item) -> None:
        """Queue an event or a captured call. Never blocks, never raises."""
        try:
            if self._closed:
                return
            self._ensure_started()
            self._queue.put_nowait(item)
        except queue.Full:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.warning(
                    "spendtray: %d usage event(s) dropped: the client queue is full "
                    "(%d waiting to be sent)",
                    self._dropped,
                    QUEUE_SIZE,
                )
        except Exception as exc:
            log.debug("spendtray: could not queue a usage event: %s", exc)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is stored by the app (True); False when some
        of it is spooled, was refused by the app, or the wait timed out."""
        if self._closed:
            return False
        try:
            self._ensure_started()
            marker = _Flush()
            self._queue.put(marker, timeout=timeout)
            if not marker.done.wait(timeout):
                return False
            return marker.delivered
        except Exception as exc:
            log.debug("spendtray: flush failed: %s", exc)
            return False

    def close(self, timeout: float | None = None) -> None:
        """Flush, then stop the thread; events still not sent are left in the spool."""
        if self._closed:
            return
        timeout = self.settings.exit_timeout if timeout is None else timeout
        thread = self._thread
        if thread is not None and thread.is_alive():
            deadline = time.monotonic() + timeout
            self.flush(timeout)
            self._closed = True
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_Stop())
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                self._spool_leftovers()
        self._closed = True
        if self._spool is not None:
            self._spool.seal()

    # -- thread management ---------------------------------------------------------------

    def start(self) -> None:
        """Start the sender now (it first delivers what earlier processes left spooled)."""
        try:
            if not self._closed:
                self._ensure_started()
        except Exception as exc:
            log.debug("spendtray: could not start the sender: %s", exc)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._spool = Spool(self.settings.spool_folder(), self.settings.spool_max_bytes)
                thread = threading.Thread(target=self._run, name="spendtray-client", daemon=True)
                thread.start()
                self._thread = thread

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._queue = queue.Queue(QUEUE_SIZE)
        self._thread = None
        self._spool = None
        self._inflight = []
        self._retry_at = 0.0
        self._abandoned = False

    # -- the sender thread ---------------------------------------------------------------

    def _run(self) -> None:
        from spendtray.client.delivery import Delivery

        delivery = Delivery(self.settings)
        try:
            try:
                self._drain(delivery)
            except Exception as exc:
                log.debug("spendtray: could not deliver the spool: %s", exc, exc_info=True)
            while True:
                items = self._take()
                if items is None:
                    return
                try:
                    self._handle(delivery, items)
                except Exception as exc:  # never let the thread die
                    log.debug("spendtray: sender error: %s", exc, exc_info=True)
        finally:
            delivery.close()

    def _take(self) -> list[Item | _Flush] | None:
        """Block for the next item (waking to retry the spool), then take what else is there."""
        wait = None
        if self._spool is not None and self._retry_at and self._spool.pending():
            wait = max(0.05, self._retry_at - time.monotonic())
        try:
            first = self._queue.get(timeout=wait)
        except queue.Empty:
            return []  # time to retry the spool
        if isinstance(first, _Stop):
            return None
        items: list[Item | _Flush] = [first]
        while len(items) < BATCH:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(more, _Stop):
                self._queue.put_nowait(more)  # handled after this batch
                break
            items.append(more)
        return items

    def _handle(self, delivery: Any, items: list[Item | _Flush]) -> None:
        events: list[dict[str, Any]] = []
        flushes: list[_Flush] = []
        for item in items:
            if isinstance(item, _Flush):
                flushes.append(item)
                continue
            event = _to_event(item)
            if event is not None:
                events.append(event)
        force = bool(flushes)
        delivered = True
        if events:
            delivered = self._deliver(delivery, events, force)
        due = self._retry_at == 0.0 or time.monotonic() >= self._retry_at
        if delivered and (force or due) and self._spool is not None and self._spool.pending():
            self._drain(delivery)
        # Events the app refused since the last flush were not stored: this flush fails.
        refused = delivery.refused != self._refused_seen
        if flushes:
            self._refused_seen = delivery.refused
        for marker in flushes:
            marker.delivered = (
                self._retry_at == 0.0
                and not refused
                and not (self._spool is not None and self._spool.pending())
            )
            marker.done.set()

    def _deliver(self, delivery: Any, events: list[dict[str, Any]], force: bool) -> bool:
        """POST new events, or spool them while the app is down; True when all arrived."""
        assert self._spool is not None
        if self._retry_at and not force and time.monotonic() < self._retry_at:
            self._spool.append(events)  # the app is down: don't knock on every batch
            return False
        self._inflight = events
        try:
            left = delivery.send(events)
            if left and self._abandoned:
                return False  # close() already wrote this batch to the spool
            if left:
                self._spool.append(left)
                self._failed()
                return False
            self._succeeded()
            return True
        finally:
            self._inflight = []

    def _drain(self, delivery: Any) -> None:
        """Deliver the spool, file by file, until it is empty or the app stops answering."""
        assert self._spool is not None
        for claim in self._spool.claims():
            left = delivery.send(claim.events)
            if len(left) < len(claim.events):
                claim.keep(left)
            if left:
                claim.release()
                self._failed()
                return
            self._succeeded()

    def _failed(self) -> None:
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(BACKOFF_MAX, self._backoff * 2)

    def _succeeded(self) -> None:
        self._retry_at = 0.0
        self._backoff = BACKOFF_FIRST

    # -- exit ----------------------------------------------------------------------------

    def _spool_leftovers(self) -> None:
        """The sender is stuck: write the batch in flight and everything queued to disk."""
        spool = self._spool
        if spool is None:
            return
        self._abandoned = True
        events = list(self._inflight)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Flush | _Stop):
                continue
            event = _to_event(item)
            if event is not None:
                events.append(event)
        if spool.lock.acquire(timeout=1.0):
            try:
                spool.append(events)
                spool.seal()
            except Exception as exc:
                log.debug("spendtray: could not spool at exit: %s", exc)
            finally:
                spool.lock.release()


def _to_event(item: Item) -> dict[str, Any] | None:
    if isinstance(item, dict):
        return item
    try:
        return item.to_event()
    except Exception as exc:
        log.debug("spendtray: could not read the usage of a call: %s", exc)
        return None


_LIVE: weakref.WeakSet[Recorder] = weakref.WeakSet()


def _close_all() -> None:
    for recorder in list(_LIVE):
        try:
            recorder.close()
        except Exception as exc:
            log.debug("spendtray: close at exit failed: %s", exc)


def _reset_in_child() -> None:
    for recorder in list(_LIVE):
        recorder._after_fork()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)


_default: Recorder | None = None
_default_lock = threading.Lock()


def default_recorder() -> Recorder:
    """The process-wide recorder ``record``/``track``/``flush`` use (made on first use)."""
    global _default
    recorder = _default
    if recorder is None:
        with _default_lock:
            if _default is None:
                _default = Recorder()
            recorder = _default
    return recorder


def replace_default(settings: ClientSettings) -> Recorder:
    """Flush and stop the current default recorder, and start using one with ``settings``."""
    global _default
    with _default_lock:
        old, _default = _default, Recorder(settings)
        new = _default
    if old is not None:
        old.close()
    return new
