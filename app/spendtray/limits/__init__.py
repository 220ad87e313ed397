"""Subscription limits (SPEC §12): rolling-window readings from Claude Code's statusline, Codex's
logs and the proxy's rate-limit headers; estimated 5-hour blocks from the Claude Code logs;
``/v1/limits``; window alerts. Qt-free.

Kept import-light on purpose: ``spendtray statusline`` (which runs on every Claude Code update)
imports ``limits.model`` and ``limits.statusline_payload`` only, so this file imports nothing at
module level. ``install_limits(core)`` is the one place limits are wired into a ``Core``;
``limits_of(core)`` gives the running ``LimitsService`` to the GUI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spendtray.core import Core
    from spendtray.limits.service import LimitsService

_ATTR = "limits"


def install_limits(core: Core) -> LimitsService:
    """Create the limits service for ``core`` and add its routes (caller's thread, before the
    server starts). Uses the budget service, when installed, for the statusline's budget."""
    from spendtray.limits.api import limit_routes
    from spendtray.limits.service import LimitsService
    from spendtray.server.guard import Guard

    settings = core.settings
    service = LimitsService(core.writer, core.reader, settings, core.clock)
    budgets = getattr(core, "budgets", None)
    guard = Guard(core.token, settings.require_token, settings.allowed_origins)
    core.extra_routes.extend(limit_routes(service, guard, budgets))
    setattr(core, _ATTR, service)
    return service


def limits_of(core: Core) -> LimitsService | None:
    """The limits service installed on ``core``, or None."""
    from spendtray.limits.service import LimitsService

    service = getattr(core, _ATTR, None)
    return service if isinstance(service, LimitsService) else None
