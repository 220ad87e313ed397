"""Subscription-window readings (SPEC §12): the observation, its validation, its JSON, and its
pace. Pure stdlib; any thread.

An observation is one reading of one rolling window ("five_hour" of the Anthropic subscription,
"primary" of Codex's, "tokens" of an API key...): how much of it is used, when it resets, when it
was seen, and whether the figure is ``official`` (the provider said so) or ``estimated`` (worked
out from local logs). A reading older than ``STALE_AFTER`` is ``stale``.
"""

from __future__ import annotations

import math

# Not ``typing.TYPE_CHECKING``: ``spendtray statusline`` imports this module on every Claude
# Code update, and importing typing (and dataclasses) costs more than the rest of its start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STALE_AFTER_MS = 10 * 60 * 1000
SOURCES = ("official", "estimated")
ORIGINS = ("statusline", "codex", "proxy", "api", "logs")
MAX_NAME = 64
# A window that resets later than this is not a rolling usage window (or the value is garbage).
MAX_WINDOW_MINUTES = 366 * 24 * 60


class LimitError(ValueError):
    """An observation that cannot be stored, naming the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class Observation:
    """One reading; immutable by convention (a plain class: see ``TYPE_CHECKING`` above)."""

    __slots__ = (
        "account",
        "observed_at",
        "origin",
        "provider",
        "resets_at",
        "source",
        "used_percent",
        "window",
        "window_minutes",
    )

    def __init__(
        self,
        provider: str,
        account: str,
        window: str,
        window_minutes: int | None,
        used_percent: float,
        resets_at: int | None,  # epoch seconds UTC
        observed_at: int,  # epoch milliseconds UTC
        source: str = "official",
        origin: str = "api",
    ) -> None:
        self.provider = provider
        self.account = account
        self.window = window
        self.window_minutes = window_minutes
        self.used_percent = used_percent
        self.resets_at = resets_at
        self.observed_at = observed_at
        self.source = source
        self.origin = origin

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Observation) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Observation({inner})"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.provider, self.account, self.window)

    def stale(self, now_ms: int) -> bool:
        return now_ms - self.observed_at > STALE_AFTER_MS

    def to_json(self, now_ms: int) -> dict[str, Any]:
        """SPEC §12's shape, times as ISO-8601 UTC; plus ``origin`` and the pace."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "account": self.account,
            "window": self.window,
            "window_minutes": self.window_minutes,
            "used_percent": self.used_percent,
            "resets_at": iso(self.resets_at * 1000) if self.resets_at is not None else None,
            "observed_at": iso(self.observed_at),
            "source": self.source,
            "stale": self.stale(now_ms),
            "origin": self.origin,
        }
        out["pace"] = pace(self, now_ms).to_json()
        return out


def iso(epoch_ms: int) -> str:
    import datetime as dt

    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _name(data: dict[str, Any], field: str, default: str | None = None) -> str:
    value = data.get(field, default)
    if not isinstance(value, str) or not value.strip():
        raise LimitError(field, "must be a non-empty string")
    value = value.strip()
    if len(value) > MAX_NAME or not value.isprintable():
        raise LimitError(field, f"must be at most {MAX_NAME} printable characters")
    return value


def percent(value: Any, field: str) -> float:
    """A used share in percent, 0–100 (a few providers overshoot 100 briefly: capped at 1000)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LimitError(field, f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or number > 1000:
        raise LimitError(field, f"must be a percentage between 0 and 1000, got {value!r}")
    return round(number, 3)


def epoch_seconds(value: Any, field: str) -> int:
    """Epoch seconds from a number (seconds, or milliseconds when it is that large) or an
    ISO-8601 string."""
    if isinstance(value, bool):
        raise LimitError(field, f"must be a time, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number) or number <= 0:
            raise LimitError(field, f"must be a time after 1970, got {value!r}")
        if number > 1e11:  # milliseconds
            number /= 1000
        if number > 4e9:
            raise LimitError(field, f"is too far in the future: {value!r}")
        return round(number)
    if isinstance(value, str):
        import datetime as dt

        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                return epoch_seconds(float(text), field)
            except ValueError:
                problem = f"must be epoch seconds or ISO-8601, got {value!r}"
                raise LimitError(field, problem) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return epoch_seconds(moment.timestamp(), field)
    raise LimitError(field, f"must be epoch seconds or ISO-8601, got {value!r}")


def window_minutes(value: Any, field: str = "window_minutes") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LimitError(field, f"must be a whole number of minutes, got {value!r}")
    minutes = int(value)
    if minutes != value or not 0 < minutes <= MAX_WINDOW_MINUTES:
        raise LimitError(field, f"must be a whole number of minutes > 0, got {value!r}")
    return minutes


def observation_from_json(data: Any, now_ms: int, origin: str = "api") -> Observation:
    """One observation as a sender posts it (``POST /v1/limits``); raises ``LimitError``."""
    if not isinstance(data, dict):
        raise LimitError("(observation)", "must be a JSON object")
    source = data.get("source", "official")
    if source not in SOURCES:
        raise LimitError("source", f"must be one of {', '.join(SOURCES)}")
    resets = data.get("resets_at")
    observed = data.get("observed_at")
    observed_ms = now_ms if observed is None else epoch_seconds(observed, "observed_at") * 1000
    if observed_ms > now_ms + 5 * 60 * 1000:
        raise LimitError("observed_at", "is in the future")
    return Observation(
        provider=_name(data, "provider").lower(),
        account=_name(data, "account", "subscription"),
        window=_name(data, "window"),
        window_minutes=window_minutes(data.get("window_minutes")),
        used_percent=percent(data.get("used_percent"), "used_percent"),
        resets_at=None if resets is None else epoch_seconds(resets, "resets_at"),
        observed_at=observed_ms,
        source=str(source),
        origin=origin,
    )


class Pace:
    """Where the window is heading at its average rate since it started.

    ``state``: ``unknown`` (no reset time or window length), ``reset`` (the reset time passed:
    the reading is from the previous window), ``full`` (at or over 100 %), ``on_pace`` (at this
    rate it ends below 100 %), ``ahead`` (at this rate it reaches 100 % before the reset, after
    ``full_in_seconds``, ``margin_seconds`` before it)."""

    __slots__ = (
        "full_in_seconds",
        "margin_seconds",
        "projected_percent",
        "resets_in_seconds",
        "state",
    )

    def __init__(
        self,
        state: str,
        resets_in_seconds: int | None = None,
        full_in_seconds: int | None = None,
        margin_seconds: int | None = None,
        projected_percent: float | None = None,
    ) -> None:
        self.state = state
        self.resets_in_seconds = resets_in_seconds
        self.full_in_seconds = full_in_seconds
        self.margin_seconds = margin_seconds
        self.projected_percent = projected_percent

    def __repr__(self) -> str:
        return f"Pace({self.to_json()!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "resets_in_seconds": self.resets_in_seconds,
            "full_in_seconds": self.full_in_seconds,
            "margin_seconds": self.margin_seconds,
            "projected_percent": self.projected_percent,
        }


def pace(obs: Observation, now_ms: int) -> Pace:
    """The window's average use rate since it began (``resets_at - window_minutes``), applied
    to the time left. Rates are taken up to the reading, not up to now: between readings
    nothing is known."""
    if obs.resets_at is None:
        return Pace("full" if obs.used_percent >= 100 else "unknown")
    now = now_ms / 1000
    left = obs.resets_at - now
    if left <= 0:
        return Pace("reset", resets_in_seconds=0)
    resets_in = int(left)
    if obs.used_percent >= 100:
        return Pace("full", resets_in_seconds=resets_in)
    if not obs.window_minutes:
        return Pace("unknown", resets_in_seconds=resets_in)
    start = obs.resets_at - obs.window_minutes * 60
    elapsed = obs.observed_at / 1000 - start
    if elapsed <= 60:  # a minute into a window says nothing about its rate
        return Pace("unknown", resets_in_seconds=resets_in)
    rate = obs.used_percent / elapsed  # percent per second
    since_reading = max(now - obs.observed_at / 1000, 0.0)
    projected = obs.used_percent + rate * (left + since_reading)
    if rate <= 0 or projected < 100:
        return Pace("on_pace", resets_in_seconds=resets_in, projected_percent=round(projected, 1))
    full_in = max((100 - obs.used_percent) / rate - since_reading, 0.0)
    return Pace(
        "ahead",
        resets_in_seconds=resets_in,
        full_in_seconds=int(full_in),
        margin_seconds=int(left - full_in),
        projected_percent=round(projected, 1),
    )


def duration(seconds: int, compact: bool = False) -> str:
    """``1 h 20 m``, ``40 min``, ``2 d 3 h``; ``compact``: ``1h20m``, ``40m``, ``2d3h`` (the
    statusline). Minutes round up: "resets in 1 min" until it has."""
    minutes = (max(int(seconds), 0) + 59) // 60
    if minutes < 60:
        return f"{minutes}m" if compact else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if not minutes:
            return f"{hours}h" if compact else f"{hours} h"
        return f"{hours}h{minutes:02d}m" if compact else f"{hours} h {minutes} m"
    days, hours = divmod(hours, 24)
    if not hours:
        return f"{days}d" if compact else f"{days} d"
    return f"{days}d{hours}h" if compact else f"{days} d {hours} h"


def pace_text(p: Pace) -> str:
    """The sentence the tray and dashboard show under a window's bar."""
    if p.state == "ahead" and p.full_in_seconds is not None and p.margin_seconds is not None:
        return (
            f"at this rate you reach 100 % in {duration(p.full_in_seconds)}, "
            f"{duration(p.margin_seconds)} before reset"
        )
    if p.state == "on_pace":
        return f"on pace (≈ {p.projected_percent:.0f} % at reset)"
    if p.state == "full":
        return "limit reached" + (
            f", resets in {duration(p.resets_in_seconds)}" if p.resets_in_seconds else ""
        )
    if p.state == "reset":
        return "window has reset since this reading"
    return "pace unknown"


def window_label(obs: Observation) -> str:
    """``5h``, ``7d``, or the window's own name."""
    names = {"five_hour": "5h", "seven_day": "7d"}
    if obs.window in names:
        return names[obs.window]
    if obs.window_minutes:
        if obs.window_minutes % 1440 == 0:
            return f"{obs.window_minutes // 1440}d"
        if obs.window_minutes % 60 == 0:
            return f"{obs.window_minutes // 60}h"
        return f"{obs.window_minutes}m"
    return obs.window


def urgency(obs: Observation, now_ms: int) -> float:
    """Sort key, larger is more urgent: the use, raised when the pace runs out before reset.
    Stale and reset readings rank last."""
    if obs.stale(now_ms):
        return -1.0
    p = pace(obs, now_ms)
    if p.state == "reset":
        return -1.0
    score = obs.used_percent
    if p.state == "ahead" and p.projected_percent is not None:
        score = max(score, min(p.projected_percent, 99.0) * 0.9)
    return score
