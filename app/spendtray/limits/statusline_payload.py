"""Claude Code's statusline JSON -> what Spendtray records from it. Pure stdlib; any thread.

Claude Code pipes a JSON object to the statusline command on every update: ``session_id``,
``model`` (``id``, ``display_name``), ``workspace`` (``current_dir``, ``project_dir``), ``cwd``,
``cost`` (``total_cost_usd`` ...), ``context_window`` and, for subscribers and only in some
versions, ``rate_limits.five_hour|seven_day`` with ``used_percentage`` and ``resets_at`` (epoch
seconds). Every field may be missing; a bad one is skipped and named in ``ignored``, the rest is
still used — a statusline has to show something.

Used by the server (``POST /v1/statusline``) and, without a server, by the statusline command's
own fallback line; so it imports nothing outside the standard library and ``limits.model``.
"""

from __future__ import annotations

import math
import os

from spendtray.limits.model import LimitError, Observation, epoch_seconds, percent

TYPE_CHECKING = False  # see limits.model: typing is not imported on the statusline's path
if TYPE_CHECKING:
    from typing import Any

CLAUDE_WINDOWS = {"five_hour": 300, "seven_day": 7 * 24 * 60}
MAX_COST_USD = 1_000_000.0


class StatuslineInput:
    def __init__(self) -> None:
        self.session: str | None = None
        self.model: str | None = None
        self.model_name: str | None = None
        self.project: str | None = None
        self.cost_usd: float | None = None
        self.context_percent: float | None = None
        self.observations: list[Observation] = []
        self.ignored: list[dict[str, str]] = []

    def skip(self, name: str, problem: str) -> None:
        self.ignored.append({"field": name, "problem": problem})


def _text(value: Any, limit: int = 200) -> str | None:
    if isinstance(value, str):
        text = value.strip()
        if text and len(text) <= limit and text.isprintable():
            return text
    return None


def _project(path: str | None) -> str | None:
    if not path:
        return None
    name = os.path.basename(path.rstrip("/\\")) or None
    return name if name and len(name) <= 200 and name.isprintable() else None


def parse_statusline(data: Any, now_ms: int) -> StatuslineInput:
    """Everything usable in one statusline payload; never raises for its content."""
    out = StatuslineInput()
    if not isinstance(data, dict):
        out.skip("(body)", "is not a JSON object")
        return out
    out.session = _text(data.get("session_id"))
    model = data.get("model")
    if isinstance(model, dict):
        out.model = _text(model.get("id"))
        out.model_name = _text(model.get("display_name")) or out.model
    elif isinstance(model, str):
        out.model = out.model_name = _text(model)
    workspace = data.get("workspace")
    directory = None
    if isinstance(workspace, dict):
        directory = _text(workspace.get("project_dir"), 4096) or _text(
            workspace.get("current_dir"), 4096
        )
    out.project = _project(directory or _text(data.get("cwd"), 4096))
    cost = data.get("cost")
    if isinstance(cost, dict) and "total_cost_usd" in cost:
        value = cost["total_cost_usd"]
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and 0 <= value <= MAX_COST_USD
        ):
            out.cost_usd = float(value)
        else:
            out.skip("cost.total_cost_usd", f"must be a dollar amount ≥ 0, got {value!r}")
    context = data.get("context_window")
    if isinstance(context, dict):
        used = context.get("used_percentage")
        if isinstance(used, int | float) and not isinstance(used, bool) and math.isfinite(used):
            out.context_percent = float(used)
    limits = data.get("rate_limits")
    if limits is None:
        return out
    if not isinstance(limits, dict):
        out.skip("rate_limits", "must be an object")
        return out
    for window, minutes in CLAUDE_WINDOWS.items():
        entry = limits.get(window)
        if entry is None:
            continue
        where = f"rate_limits.{window}"
        if not isinstance(entry, dict):
            out.skip(where, "must be an object")
            continue
        try:
            used = percent(entry.get("used_percentage"), f"{where}.used_percentage")
            resets_raw = entry.get("resets_at")
            resets = None if resets_raw is None else epoch_seconds(resets_raw, f"{where}.resets_at")
        except LimitError as exc:
            out.skip(exc.field, exc.problem)
            continue
        out.observations.append(
            Observation(
                provider="anthropic",
                account="subscription",
                window=window,
                window_minutes=minutes,
                used_percent=used,
                resets_at=resets,
                observed_at=now_ms,
                source="official",
                origin="statusline",
            )
        )
    return out
