"""Garbage-collector settings for a long-running server process. Called once by each process
entry point (``spendtray serve``, the tray app) when everything is built, just before serving
— not by ``Core``, which tests build by the dozen in one process.

Two measured problems with the defaults on the ingest path:
- The price catalogue, the routes and the modules are a few hundred thousand objects that live
  for the whole process, and every full collection walked them again. ``gc.freeze`` moves what
  exists at start-up out of the collector's sight.
- A 1,000-event POST keeps ~10k container objects alive until it is answered; with the default
  gen-0 threshold of 700 that is a dozen young collections per request, each promoting the
  live objects a generation and soon forcing a full one.
Together they were about a fifth of the server's CPU time on batch ingest.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def tune_for_serving() -> None:
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
