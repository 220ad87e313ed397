"""Garbage-collector settings: for a long-running server process, and paused for an import.
Runs on the thread that calls it.

``tune_for_serving`` is called once by each process entry point (``spendtray serve``, the tray
app) when everything is built, just before serving — not by ``Core``, which tests build by the
dozen in one process. Two measured problems with the defaults on the ingest path:
- The price catalogue, the routes and the modules are a few hundred thousand objects that live
  for the whole process, and every full collection walked them again. ``gc.freeze`` moves what
  exists at start-up out of the collector's sight.
- A 1,000-event POST keeps ~10k container objects alive until it is answered; with the default
  gen-0 threshold of 700 that is a dozen young collections per request, each promoting the
  live objects a generation and soon forcing a full one.
Together they were about a fifth of the server's CPU time on batch ingest.

``collector_paused`` turns the collector off while an import runs (each pass, and the whole
``spendtray import`` command from its start-up imports to its last commit);
``no_collection_at_exit`` spares a short command the interpreter's last collections.
"""

from __future__ import annotations

import atexit
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

GEN0_THRESHOLD = 10_000


def tune_for_serving() -> None:
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


_paused = 0  # holders of collector_paused in this process
_resume = False  # whether the collector was on when the first of them paused it
_paused_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block: an import makes millions of
    short-lived dicts and no cycles, and each young collection also walked the records
    waiting for the store (measured: a fifth of a 313 MB first import's CPU time); the
    command's start-up (modules, the price catalogue) makes hundreds of thousands of objects
    that live until it ends. Reference counting still frees everything; the collector resumes
    when the last holder in the process (the watcher's pass, the CLI's) leaves."""
    global _paused, _resume
    with _paused_lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _resume:
                _resume_collector()


def _resume_collector() -> None:
    """``gc.enable()``, with what survived the pause moved to the oldest generation first.
    The young generation's count kept growing while the collector was off (all of the
    command's modules and caches), so the first allocation after ``enable`` walked every one
    of those objects: 22-51 ms after a small import, more after a big one. ``freeze`` then
    ``unfreeze`` is two list merges that put them in the oldest generation (the next full
    collection still sees them) and zero the young count. Not in a process that froze its
    heap on purpose (``tune_for_serving``): ``unfreeze`` would undo that."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
    gc.enable()


_exit_registered = False


def no_collection_at_exit() -> None:
    """At interpreter exit, before it finalizes, hide every object left from the collections
    it runs then: they walked the whole heap (the modules, the price catalogue, ~0.15 s after
    a first import) only to free memory the process is about to give back. Harmless in a
    process that goes on (tests): ``atexit`` runs only at its end."""
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(gc.freeze)
