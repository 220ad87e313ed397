"""Builds the Qt-free core with every capability plugged in (composition root helper).

Used by `spendtray serve`, the GUI (which adds its Qt bridge on top) and tests. Later
capabilities (budgets, estimator, receivers) register their routes and hooks here.
"""

from __future__ import annotations

from spendtray.config import Settings
from spendtray.core import Core


def build_core(settings: Settings) -> Core:
    core = Core(settings)
    return core
