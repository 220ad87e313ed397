"""Subscription limits (SPEC §12): rolling-window readings from Claude Code's statusline, Codex's
logs and the proxy's rate-limit headers; estimated 5-hour blocks from the Claude Code logs;
``/v1/limits``; window alerts. Qt-free.

Kept import-light on purpose: ``spendtray statusline`` (which runs on every Claude Code update)
imports ``limits.model`` and ``limits.statusline_payload`` only, so this file imports nothing at
module level. ``Core`` creates the one ``LimitsService`` (``core.limits``); ``server/routes.py``
lists its routes (``api.limit_handlers``).
"""
