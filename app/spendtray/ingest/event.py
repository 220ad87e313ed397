"""The canonical usage event (SPEC §5) and its validation. Pure; any thread.

``normalize_event`` takes one JSON object as posted and returns a ``UsageEvent`` or raises
``EventError`` naming the field and the problem. Raw provider usage objects are converted by
``spendtray.ingest.provider_usage``; this module owns the canonical names and invariants:
inputs and outputs are totals, cache and reasoning counts are their subsets.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from spendtray.fields import TOKEN_FIELDS as TOKEN_FIELDS  # re-exported (importers.remote)
from spendtray.prices.calc import TokenCounts, to_nanos
from spendtray.prices.names import canonical_provider, infer_provider

TEXT_FIELDS = ("project", "agent", "user", "session", "trace_id", "request_id", "service_tier")
KNOWN_FIELDS = frozenset(
    {
        "model",
        "provider",
        *TOKEN_FIELDS,
        *TEXT_FIELDS,
        "timestamp",
        "batch",
        "cost_usd",
        "latency_ms",
        "status",
        "tags",
        "usage",
        "response",
        "source",
    }
)
MAX_TEXT = 256
MAX_TOKENS = 10**12
DEFAULT_PROJECT = "default"
# Oldest timestamp we accept: before LLM APIs were sold per token it is a unit mistake.
_EARLIEST = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
_FUTURE_SLACK = dt.timedelta(days=1)


_CONTROL = re.compile(r"[\x00-\x1f]")


class EventError(ValueError):
    """One field of one event is wrong."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(slots=True)
class UsageEvent:
    """A validated event, before pricing."""

    model: str
    provider: str
    counts: TokenCounts
    timestamp: dt.datetime
    project: str = DEFAULT_PROJECT
    agent: str | None = None
    user: str | None = None
    session: str | None = None
    trace_id: str | None = None
    request_id: str | None = None
    service_tier: str | None = None
    batch: bool = False
    source: str = "api"
    reported_cost_nanos: int | None = None
    latency_ms: float | None = None
    status: str | None = None
    tags: dict[str, Any] | None = None
    raw_usage: dict[str, Any] | None = field(default=None)

    @property
    def total_tokens(self) -> int:
        return self.counts.input_tokens + self.counts.output_tokens


def _token(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise EventError(name, f"must be a whole number ≥ 0, got {value!r}")
    if value < 0:
        raise EventError(name, f"must be ≥ 0, got {value}")
    if value > MAX_TOKENS:
        raise EventError(name, f"{value} is implausibly large")
    return int(value)


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError(name, f"must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise EventError(name, f"longer than {MAX_TEXT} characters")
    if _CONTROL.search(text):
        raise EventError(name, "contains control characters")
    return text or None


def parse_timestamp(value: Any, now: dt.datetime, name: str = "timestamp") -> dt.datetime:
    """ISO-8601 (naive = UTC) or epoch seconds (epoch milliseconds accepted when > 1e11)."""
    if value is None:
        return now
    if isinstance(value, bool):
        raise EventError(name, "must be ISO-8601 text or epoch seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise EventError(name, "must be a finite number")
        seconds = value / 1000 if value > 1e11 else value
        try:
            stamp = dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise EventError(name, f"{value!r} is out of range") from None
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            raise EventError(name, f"{value!r} is not ISO-8601 or epoch seconds") from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        stamp = stamp.astimezone(dt.UTC)
    else:
        raise EventError(name, "must be ISO-8601 text or epoch seconds")
    if stamp < _EARLIEST:
        raise EventError(name, f"{value!r} is before 2015; epoch seconds expected")
    if stamp > now + _FUTURE_SLACK:
        raise EventError(name, f"{value!r} is more than a day in the future")
    return stamp


def parse_usd(value: Any, name: str) -> int:
    """A non-negative USD amount -> integer nano-dollars, without float rounding."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError(name, "must be a number of US dollars")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise EventError(name, f"{value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise EventError(name, f"must be a finite amount ≥ 0, got {value!r}")
    if amount > 10**9:
        raise EventError(name, f"{value!r} is implausibly large")
    return to_nanos(amount)


def _tags(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EventError("tags", "must be an object of string keys to scalar values")
    if len(value) > 64:
        raise EventError("tags", "more than 64 tags")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > 64:
            raise EventError("tags", f"key {key!r} must be a string of at most 64 characters")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise EventError(f"tags.{key}", "must be a string, number, boolean or null")
        if isinstance(item, str) and len(item) > MAX_TEXT:
            raise EventError(f"tags.{key}", f"longer than {MAX_TEXT} characters")
        out[key] = item
    return out


def normalize_event(raw: Any, now: dt.datetime, source: str = "api") -> UsageEvent:
    """Validate one posted object into a ``UsageEvent``."""
    from spendtray.ingest.provider_usage import from_provider_usage, from_response

    if not isinstance(raw, dict):
        raise EventError("(event)", f"must be a JSON object, got {type(raw).__name__}")
    if not KNOWN_FIELDS.issuperset(raw):
        unknown = sorted(set(raw) - KNOWN_FIELDS)
        raise EventError(unknown[0], "is not a usage event field (put extra data in 'tags')")

    provider = canonical_provider(_text(raw.get("provider"), "provider"))
    model = _text(raw.get("model"), "model")
    tokens: dict[str, int] = {}
    raw_usage: dict[str, Any] | None = None
    response = raw.get("response")
    if response is not None:
        if not isinstance(response, dict):
            raise EventError("response", "must be the provider's JSON response object")
        extracted = from_response(response, provider or (infer_provider(model) if model else None))
        model = model or extracted.model
        tokens.update(extracted.tokens)
        raw_usage = extracted.raw_usage
        if raw.get("request_id") is None and extracted.response_id:
            raw = {**raw, "request_id": extracted.response_id}
    usage = raw.get("usage")
    if usage is not None:
        if not isinstance(usage, dict):
            raise EventError("usage", "must be the provider's usage object")
        if not model:
            raise EventError("model", "is required")
        tokens.update(from_provider_usage(usage, provider or infer_provider(model)))
        raw_usage = usage
    if not model:
        raise EventError("model", "is required")
    provider = provider or infer_provider(model) or "unknown"

    explicit = {name: _token(v, name) for name in TOKEN_FIELDS if (v := raw.get(name)) is not None}
    tokens.update(explicit)
    if raw_usage is None and explicit:
        raw_usage = dict(explicit)
    counts = _consistent_counts(tokens)

    batch = raw.get("batch", False)
    if not isinstance(batch, bool):
        raise EventError("batch", "must be true or false")
    latency = raw.get("latency_ms")
    if latency is not None and (
        isinstance(latency, bool)
        or not isinstance(latency, int | float)
        or not math.isfinite(latency)
        or latency < 0
    ):
        raise EventError("latency_ms", "must be a number of milliseconds ≥ 0")
    status = raw.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, str | int)):
        raise EventError("status", "must be a string or an HTTP status number")
    texts = {name: _text(v, name) for name in TEXT_FIELDS if (v := raw.get(name)) is not None}
    service_tier = texts.get("service_tier")
    service_tier = service_tier.lower() if service_tier else None
    return UsageEvent(
        model=model,
        provider=provider,
        counts=counts,
        timestamp=parse_timestamp(raw.get("timestamp"), now),
        project=texts.get("project") or DEFAULT_PROJECT,
        agent=texts.get("agent"),
        user=texts.get("user"),
        session=texts.get("session"),
        trace_id=texts.get("trace_id"),
        request_id=texts.get("request_id"),
        service_tier=service_tier,
        batch=batch or service_tier == "batch",
        source=(_text(raw["source"], "source") if "source" in raw else None) or source,
        reported_cost_nanos=(
            parse_usd(raw["cost_usd"], "cost_usd") if raw.get("cost_usd") is not None else None
        ),
        latency_ms=float(latency) if latency is not None else None,
        status=str(status) if status is not None else None,
        tags=_tags(raw.get("tags")),
        raw_usage=raw_usage,
    )


def _consistent_counts(tokens: dict[str, int]) -> TokenCounts:
    """Enforce SPEC §5's subset rules and fill the generic cache-write total."""
    split = tokens.get("cache_write_5m_tokens", 0) + tokens.get("cache_write_1h_tokens", 0)
    cache_write = tokens.get("cache_write_tokens")
    if cache_write is None:
        cache_write = split
    elif cache_write < split:
        raise EventError(
            "cache_write_tokens",
            f"{cache_write} is less than cache_write_5m_tokens + cache_write_1h_tokens ({split})",
        )
    counts = TokenCounts(
        input_tokens=tokens.get("input_tokens", 0),
        output_tokens=tokens.get("output_tokens", 0),
        cache_read_tokens=tokens.get("cache_read_tokens", 0),
        cache_write_tokens=cache_write,
        cache_write_5m_tokens=tokens.get("cache_write_5m_tokens", 0),
        cache_write_1h_tokens=tokens.get("cache_write_1h_tokens", 0),
        reasoning_tokens=tokens.get("reasoning_tokens", 0),
    )
    cached = counts.cache_read_tokens + counts.cache_write_tokens
    if cached > counts.input_tokens:
        raise EventError(
            "input_tokens",
            f"{counts.input_tokens} is less than cache_read_tokens + cache_write_tokens "
            f"({cached}); input_tokens is the TOTAL input, cached tokens included",
        )
    if counts.reasoning_tokens > counts.output_tokens:
        raise EventError(
            "reasoning_tokens",
            f"{counts.reasoning_tokens} exceeds output_tokens ({counts.output_tokens}); "
            "output_tokens is the TOTAL output, reasoning included",
        )
    return counts
