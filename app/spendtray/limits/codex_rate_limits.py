"""Codex's ``rate_limits`` -> window readings. Pure; runs on the importer's thread.

Codex (ChatGPT sign-in) writes its plan's windows on ``token_count`` events and, in some
versions, on ``account/rateLimits/updated`` events::

    "rate_limits": {"primary": {"used_percent": 52.0, "window_minutes": 300,
                                "resets_at": 1763422724},
                    "secondary": {"used_percent": 40.0, "window_minutes": 10080,
                                  "resets_in_seconds": 86000}}

``resets_at`` is epoch seconds (older builds: ``reset_at``; others give ``resets_in_seconds``,
counted from the line's time). Newer builds add ``limit_id`` / ``plan_type`` / ``credits`` and
may send ``primary: null`` (no window on that plan): nothing is read then; a reset time of 0
means not known. A window whose figures are unusable is skipped (and named in ``problems``); the
line's usage still counts.
"""

from __future__ import annotations

from typing import Any

from spendtray.limits.model import (
    LimitError,
    Observation,
    epoch_seconds,
    percent,
    window_minutes,
)

WINDOWS = ("primary", "secondary")
JITTER_SECONDS = 5  # Codex writes one window's reset time a second apart from line to line


def codex_observations(
    rate_limits: Any, observed_ms: int, problems: list[str] | None = None
) -> list[Observation]:
    """The readings in one ``rate_limits`` object seen at ``observed_ms``."""
    if not isinstance(rate_limits, dict):
        return []
    limit_id = rate_limits.get("limit_id")
    prefix = f"{limit_id}:" if isinstance(limit_id, str) and limit_id not in ("", "codex") else ""
    out: list[Observation] = []
    for name in WINDOWS:
        entry = rate_limits.get(name)
        if not isinstance(entry, dict):
            continue
        where = f"rate_limits.{name}"
        try:
            used = percent(entry.get("used_percent"), f"{where}.used_percent")
            minutes = window_minutes(entry.get("window_minutes"), f"{where}.window_minutes")
            resets: int | None = None
            for key in ("resets_at", "reset_at"):
                if entry.get(key) == 0:
                    break  # "not known" in some builds
                if entry.get(key) is not None:
                    resets = epoch_seconds(entry[key], f"{where}.{key}")
                    break
            else:
                seconds = entry.get("resets_in_seconds")
                if seconds is not None:
                    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                        raise LimitError(f"{where}.resets_in_seconds", "must be a number")
                    if not 0 <= seconds <= 400 * 86400:
                        raise LimitError(f"{where}.resets_in_seconds", "is out of range")
                    resets = round(observed_ms / 1000 + seconds)
        except LimitError as exc:
            if problems is not None:
                problems.append(str(exc))
            continue
        out.append(
            Observation(
                provider="openai",
                account="subscription",
                window=prefix + name,
                window_minutes=minutes,
                used_percent=used,
                resets_at=resets,
                observed_at=observed_ms,
                source="official",
                origin="codex",
            )
        )
    return out


def collapse(observations: list[Observation]) -> list[Observation]:
    """Drop readings that only repeat the previous one of their window (Codex writes the same
    figures on every turn); the last of each window is kept, so its time moves forward."""
    last: dict[tuple[str, str, str], int] = {}  # window -> its latest index in ``out``
    out: list[Observation] = []
    for obs in sorted(observations, key=lambda o: o.observed_at):
        index = last.get(obs.key)
        if index is not None and _same(out[index], obs):
            out[index] = obs  # the same figures, seen later
        else:
            last[obs.key] = len(out)
            out.append(obs)
    return out


def _same(a: Observation, b: Observation) -> bool:
    if (a.used_percent, a.window_minutes) != (b.used_percent, b.window_minutes):
        return False
    if a.resets_at is None or b.resets_at is None:
        return a.resets_at is b.resets_at
    return abs(a.resets_at - b.resets_at) <= JITTER_SECONDS
