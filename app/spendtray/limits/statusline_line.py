"""The one line ``spendtray statusline`` prints. Pure stdlib; main thread.

``Opus 4.6 · $0.42 session · $12.30 today · acme $8.10/$20 day · 5h 45 % ↻2h10m · 7d 12 % ↻3d4h``

From Claude Code's JSON alone when the app is not running (model, session cost, the windows
the JSON carries), plus the app's answer when it is (today's spend, the project's tightest
budget, windows other sources recorded when the JSON has none). A window that at its pace fills
before the reset shows when: ``5h 82 % ↻1h10m full in 40m``.
"""

from __future__ import annotations

from spendtray.limits.model import Observation, duration, pace
from spendtray.money import format_usd

TYPE_CHECKING = False  # see limits.model: typing is not imported on the statusline's path
if TYPE_CHECKING:
    from typing import Any

    from spendtray.limits.statusline_payload import StatuslineInput

SEP = " · "


def money(usd: float) -> str:
    return format_usd(round(usd * 1_000_000_000))


def short(seconds: int) -> str:
    return duration(seconds, compact=True)


def _window(label: str, used: float, resets_in: int | None, full_in: int | None) -> str:
    text = f"{label} {used:.0f} %"
    if resets_in:
        text += f" ↻{short(resets_in)}"
    if full_in is not None:
        text += f" full in {short(full_in)}"
    return text


def _from_observation(label: str, obs: Observation, now_ms: int) -> str:
    p = pace(obs, now_ms)
    if p.state == "reset":
        return f"{label} reset"
    return _window(
        label,
        obs.used_percent,
        p.resets_in_seconds,
        p.full_in_seconds if p.state == "ahead" else None,
    )


def _from_reply(label: str, row: dict[str, Any]) -> str | None:
    used = row.get("used_percent")
    if not isinstance(used, int | float):
        return None
    p = row.get("pace") or {}
    if p.get("state") == "reset":
        return f"{label} reset"
    full = p.get("full_in_seconds") if p.get("state") == "ahead" else None
    return _window(label, float(used), p.get("resets_in_seconds"), full)


LABELS = {"five_hour": "5h", "seven_day": "7d"}


def compose(
    parsed: StatuslineInput,
    reply: dict[str, Any] | None,
    now_ms: int,
    no_reply: str = "spendtray not running",
) -> str:
    parts: list[str] = []
    if parsed.model_name:
        parts.append(parsed.model_name)
    if parsed.cost_usd is not None:
        parts.append(f"{money(parsed.cost_usd)} session")
    if reply is not None:
        today = reply.get("today_usd")
        if isinstance(today, int | float):
            parts.append(f"{money(float(today))} today")
        budget = reply.get("budget")
        if isinstance(budget, dict) and isinstance(budget.get("limit_usd"), int | float):
            spent = budget.get("spent_usd") or 0.0
            who = reply.get("project") or budget.get("budget_project") or ""
            if budget.get("budget_project") == "*":
                who = "all"
            mark = " ⚠" if budget.get("state") in ("warning", "exceeded") else ""
            parts.append(
                f"{who} {money(float(spent))}/{money(float(budget['limit_usd']))} "
                f"{budget.get('period', '')}{mark}".strip()
            )
    seen = {o.window: o for o in parsed.observations}
    for window, label in LABELS.items():
        if window in seen:
            parts.append(_from_observation(label, seen[window], now_ms))
            continue
        # The JSON has no figure (an older Claude Code, an API-key login): use what the app
        # recorded recently from another statusline or the proxy's headers.
        for row in (reply or {}).get("limits") or []:
            if (
                isinstance(row, dict)
                and row.get("provider") == "anthropic"
                and row.get("window") == window
                and row.get("source") == "official"
            ):
                text = _from_reply(label, row)
                if text:
                    parts.append(text)
                break
    if reply is None:
        parts.append(no_reply)
    return SEP.join(parts) if parts else "spendtray"
