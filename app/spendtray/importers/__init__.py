"""Importers for the usage logs coding agents keep on disk (Claude Code, Codex CLI).

They read the agents' JSONL logs incrementally (only bytes not read before), turn usage lines
into ``UsageEvent``s with ``source`` = the agent's name, and store them through the core's
ingest service, so the usage outlives the agents' own log clean-up. ``Importer.run`` does one
pass on the calling thread; ``ImportWatcher`` repeats passes on its own thread. Nothing here
imports Qt.
"""

from __future__ import annotations

from spendtray.importers.registry import KINDS
from spendtray.importers.runner import Importer, ImportReport
from spendtray.importers.watcher import ImportWatcher

__all__ = ["KINDS", "ImportReport", "ImportWatcher", "Importer"]
