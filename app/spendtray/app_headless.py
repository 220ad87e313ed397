"""Builds the Qt-free core with every capability plugged in (composition root helper).

Used by `spendtray serve`, the GUI (which adds its Qt bridge on top) and tests. Later
capabilities (budgets, estimator, receivers) register their routes and hooks here.
"""

from __future__ import annotations

from spendtray.config import Settings
from spendtray.core import Core


def build_core(settings: Settings) -> Core:
    core = Core(settings)
    from spendtray.estimator import tokenizers
    from spendtray.server.estimate_routes import estimate_routes

    core.extra_routes.extend(estimate_routes(core))
    # loads the tiktoken files on a daemon thread so the first estimate does not wait ~0.8 s
    tokenizers.warm_up()
    from spendtray.budgets import install_budgets

    install_budgets(core)
    return core
