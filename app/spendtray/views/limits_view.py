"""What the tray and the dashboard show about subscription windows: one row per window (a bar,
the time to reset, the pace sentence), the most urgent window's line, and the state the tray
icon takes. Pure (no Qt, no SQL); any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from spendtray.limits.blocks import Block
from spendtray.limits.model import (
    Observation,
    duration,
    pace,
    pace_text,
    urgency,
    window_label,
)
from spendtray.limits.service import provider_name
from spendtray.money import format_usd

WINDOW_STATES = ("ok", "warning", "exceeded")


@dataclass(frozen=True)
class WindowRow:
    key: tuple[str, str, str]
    title: str  # "Claude 5h (subscription)"
    used_percent: float
    bar_percent: int  # 0–100, what the bar draws
    resets: str  # "resets in 2 h 10 m" / "reset since this reading" / "reset time unknown"
    pace: str  # "at this rate you reach 100 % in 1 h 20 m, 40 min before reset"
    state: str  # ok | warning | exceeded
    stale: bool
    source: str  # official | estimated
    full_in: str | None = None  # "1 h 32 m" when the pace reaches 100 % before the reset

    def line(self) -> str:
        """``Claude 5h: 72 % · resets in 1 h 20 m``"""
        text = f"{self.title}: {self.used_percent:.0f} % · {self.resets}"
        return text + (" (old reading)" if self.stale else "")


@dataclass(frozen=True)
class LimitsView:
    rows: tuple[WindowRow, ...] = ()
    urgent: WindowRow | None = None
    state: str = "ok"  # the worst fresh official window: ok | warning | exceeded
    estimate: str | None = None  # the estimated 5-hour block, one line

    def urgent_line(self) -> str | None:
        """The tooltip's line: ``Claude 5h: 62 % · resets in 2 h 30 m · 100 % in 1 h 32 m``."""
        if self.urgent is None:
            return None
        text = self.urgent.line()
        if self.urgent.full_in:
            text += f" · 100 % in {self.urgent.full_in}"
        return text

    def pace_line(self) -> str | None:
        """The menu's pace sentence for the most urgent window, when it runs out early."""
        if self.urgent is None or not self.urgent.full_in:
            return None
        return f"{self.urgent.title}: {self.urgent.pace}"


API_NAMES = {"anthropic": "Anthropic API", "openai": "OpenAI API"}


def _title(obs: Observation) -> str:
    """``Claude 5h``, ``Codex 7d`` for subscriptions; ``OpenAI API tokens`` for a key's bucket."""
    if obs.account == "api":
        return f"{API_NAMES.get(obs.provider, obs.provider + ' API')} {obs.window}"
    title = f"{provider_name(obs.provider)} {window_label(obs)}"
    if obs.account != "subscription":
        title += f" ({obs.account})"
    return title


def window_row(obs: Observation, now_ms: int, thresholds: tuple[float, ...]) -> WindowRow:
    p = pace(obs, now_ms)
    if p.state == "reset":
        resets = "reset since this reading"
    elif p.resets_in_seconds is not None:
        resets = f"resets in {duration(p.resets_in_seconds)}"
    else:
        resets = "reset time unknown"
    warn_at = min(thresholds) if thresholds else 70.0
    if obs.used_percent >= 100:
        state = "exceeded"
    elif obs.used_percent >= warn_at:
        state = "warning"
    else:
        state = "ok"
    return WindowRow(
        key=obs.key,
        title=_title(obs),
        used_percent=obs.used_percent,
        bar_percent=max(0, min(100, round(obs.used_percent))),
        resets=resets,
        pace=pace_text(p),
        state=state,
        stale=obs.stale(now_ms),
        source=obs.source,
        full_in=duration(p.full_in_seconds)
        if p.state == "ahead" and p.full_in_seconds is not None
        else None,
    )


def build(
    observations: list[Observation],
    now_ms: int,
    thresholds: tuple[float, ...] = (70.0, 90.0),
    block: Block | None = None,
) -> LimitsView:
    """Subscription windows first, most used first; API-key buckets after them."""
    ordered = sorted(
        observations,
        key=lambda o: (o.account != "subscription", -urgency(o, now_ms), o.key),
    )
    rows = tuple(window_row(o, now_ms, thresholds) for o in ordered)
    live = [
        (o, r)
        for o, r in zip(ordered, rows, strict=True)
        if o.account == "subscription" and urgency(o, now_ms) >= 0
    ]
    urgent = max(live, key=lambda pair: urgency(pair[0], now_ms))[1] if live else None
    state = max(
        (r.state for o, r in live if pace(o, now_ms).state != "reset"),
        key=WINDOW_STATES.index,
        default="ok",
    )
    estimate = None
    if block is not None:
        data = block.to_json(now_ms)
        estimate = (
            f"Claude Code 5-hour block (estimated from logs): {format_usd(block.cost_nanos)}, "
            f"{block.total_tokens:,} tokens, ends in {duration((block.end_ms - now_ms) // 1000)}"
        )
        if data["projection"]:
            estimate += f" · ≈ {format_usd(round(data['projection']['cost_usd'] * 1e9))} by then"
    return LimitsView(rows, urgent, state, estimate)
