"""Rate-limit response headers seen by the proxy -> window readings. Pure; runs on the server's
event loop (it only reads header values).

- Anthropic subscription (Claude Code signed in with Pro/Max): ``anthropic-ratelimit-unified-
  <claim>-utilization`` (a 0–1 fraction) and ``-<claim>-reset`` (epoch seconds) for the claims
  ``5h``, ``7d`` and model-specific weekly ones (``7d_sonnet``, ``7d_opus`` ...) -> account
  ``subscription``, windows ``five_hour``, ``seven_day``, ``seven_day_<model>``.
- Codex with a ChatGPT plan: ``x-codex-<primary|secondary>-used-percent`` (0–100),
  ``-window-minutes``, ``-reset-at`` (epoch seconds) or ``-reset-after-seconds`` -> account
  ``subscription``, windows ``primary`` / ``secondary``.
- API keys: Anthropic's ``anthropic-ratelimit-<requests|tokens|input-tokens|output-tokens>-
  <limit|remaining|reset>`` (token buckets, reset in RFC 3339) and OpenAI's
  ``x-ratelimit-<limit|remaining|reset>-<requests|tokens>`` (reset as a duration, ``6m0s``) ->
  account ``api``, windows ``requests``, ``tokens`` ..., used = (limit − remaining) / limit.
  These refill continuously, so they have no window length (no pace) and never notify.

A header that does not parse is ignored: the call itself is what matters to the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spendtray.limits.model import LimitError, Observation, epoch_seconds

Lookup = Callable[[str], str | None]

_UNIFIED = re.compile(r"^anthropic-ratelimit-unified-([a-z0-9_]+)-utilization$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
ANTHROPIC_BUCKETS = ("requests", "tokens", "input-tokens", "output-tokens")
OPENAI_BUCKETS = ("requests", "tokens")


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _epoch(text: str | None) -> int | None:
    if not text or not text.strip():
        return None
    try:
        return epoch_seconds(text.strip(), "reset")
    except LimitError:
        return None


def duration_seconds(text: str | None) -> float | None:
    """OpenAI's reset durations: ``1s``, ``6m0s``, ``20ms``, ``1h2m3.5s``."""
    if not text:
        return None
    text = text.strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _claim_window(claim: str) -> tuple[str, int | None]:
    if claim == "5h":
        return "five_hour", 300
    if claim == "7d":
        return "seven_day", 7 * 24 * 60
    if claim.startswith("7d_"):
        return "seven_day_" + claim[3:], 7 * 24 * 60
    return claim, None


def _used(limit: float | None, remaining: float | None) -> float | None:
    if limit is None or remaining is None or limit <= 0 or remaining < 0:
        return None
    return round(max(limit - remaining, 0.0) / limit * 100, 3)


def observations_from_headers(
    names: list[str], get: Lookup, provider: str, now_ms: int
) -> list[Observation]:
    """Readings in one response's headers (``names``: the lower-case header names; ``get``:
    their values). ``provider`` is the upstream's (whose account the API key is)."""
    out: list[Observation] = []

    def add(
        prov: str, account: str, window: str, minutes: int | None, used: float, resets: int | None
    ) -> None:
        if 0 <= used <= 1000:
            reading = Observation(prov, account, window, minutes, used, resets, now_ms)
            reading.origin = "proxy"
            out.append(reading)

    for name in names:
        match = _UNIFIED.match(name)
        if match is None:
            continue
        claim = match.group(1)
        fraction = _number(get(name))
        if fraction is None:
            continue
        window, minutes = _claim_window(claim)
        resets = _epoch(get(f"anthropic-ratelimit-unified-{claim}-reset"))
        add("anthropic", "subscription", window, minutes, round(fraction * 100, 3), resets)
    for window in ("primary", "secondary"):
        used = _number(get(f"x-codex-{window}-used-percent"))
        if used is None:
            continue
        minutes_value = _number(get(f"x-codex-{window}-window-minutes"))
        minutes = int(minutes_value) if minutes_value and minutes_value > 0 else None
        resets = _epoch(get(f"x-codex-{window}-reset-at"))
        if resets is None:
            after = _number(get(f"x-codex-{window}-reset-after-seconds"))
            if after is not None and after >= 0:
                resets = round(now_ms / 1000 + after)
        add("openai", "subscription", window, minutes, used, resets)
    for bucket in ANTHROPIC_BUCKETS:
        used = _used(
            _number(get(f"anthropic-ratelimit-{bucket}-limit")),
            _number(get(f"anthropic-ratelimit-{bucket}-remaining")),
        )
        if used is not None:
            resets = _epoch(get(f"anthropic-ratelimit-{bucket}-reset"))
            add(provider, "api", bucket.replace("-", "_"), None, used, resets)
    for bucket in OPENAI_BUCKETS:
        used = _used(
            _number(get(f"x-ratelimit-limit-{bucket}")),
            _number(get(f"x-ratelimit-remaining-{bucket}")),
        )
        if used is not None:
            after = duration_seconds(get(f"x-ratelimit-reset-{bucket}"))
            resets = None if after is None else round(now_ms / 1000 + after)
            add(provider, "api", bucket, None, used, resets)
    return out
