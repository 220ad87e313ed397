"""Builds the Qt-free core with every capability plugged in (composition root helper).

Used by `spendtray serve`, the GUI (which adds its Qt bridge on top) and tests. Later
capabilities (budgets, estimator, receivers) register their routes and hooks here.
"""

from __future__ import annotations

from spendtray.config import Settings
from spendtray.core import Core


def build_core(settings: Settings, warm_tokenizers: bool = True) -> Core:
    """``warm_tokenizers``: load the tiktoken files now on a daemon thread so the first
    estimate does not wait ~0.6 s. They cost ~50 MB resident, so the tray app (whose memory
    budget is tight) passes False and loads them when the estimator is first used."""
    core = Core(settings)
    from spendtray.estimator import tokenizers
    from spendtray.server.estimate_routes import estimate_routes

    core.extra_routes.extend(estimate_routes(core))
    from spendtray.receivers import receiver_routes

    core.extra_routes.extend(receiver_routes(core))
    if warm_tokenizers:
        tokenizers.warm_up()
    from spendtray.budgets import install_budgets

    install_budgets(core)
    from spendtray.limits import install_limits

    install_limits(core)  # after budgets: the statusline's reply names the project's budget
    from spendtray.proxy import install_proxy

    install_proxy(core)  # after budgets: the proxy refuses calls when a hard budget is spent
    return core
