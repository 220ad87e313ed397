"""The canonical usage event (SPEC §5) and its validation. Pure; any thread.

``normalize_event`` takes one JSON object as posted and returns a ``UsageEvent`` or raises
``EventError`` naming the field and the problem. Raw provider usage objects are converted by
``spendtray.ingest.provider_usage``; this module owns the canonical names and invariants:
inputs and outputs are totals, cache and reasoning counts are their subsets.
A valid event costs one pass over its own fields (ingest's hot path); an invalid one is then
checked field by field in a fixed order, so which error is reported never depends on the
order of the keys.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from spendtray.fields import EVENT_FIELDS, TEXT_FIELDS
from spendtray.fields import MAX_TEXT as MAX_TEXT  # re-exported (receivers, importers)
from spendtray.fields import TOKEN_FIELDS as TOKEN_FIELDS  # re-exported (importers.remote)
from spendtray.prices.calc import TokenCounts, to_nanos
from spendtray.prices.names import canonical_provider, infer_provider

# The posted fields (spendtray.fields: the client checks against the same set).
KNOWN_FIELDS = EVENT_FIELDS
MAX_TOKENS = 10**12
MAX_LATENCY_MS = 10**12
DEFAULT_PROJECT = "default"
ALL_PROJECTS = "*"  # the global budget's key, never a call's project
# Oldest timestamp we accept: before LLM APIs were sold per token it is a unit mistake.
_EARLIEST = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)


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
    # Set by importers and receivers, never posted: see spendtray.ingest.call_keys.
    call_key: str | None = None
    # The machine the event was first stored on; None: this one (sync sets other machines').
    machine: str | None = None

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


# Text fields a number is taken for (an id a sender keeps as an integer); a number in any
# other (model 123, project 7) is a type error, like any other.
_NUMERIC_IDS = frozenset({"user", "session", "trace_id", "request_id"})


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if type(value) is not str and (type(value) is not int or name not in _NUMERIC_IDS):
        raise EventError(name, f"must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise EventError(name, f"longer than {MAX_TEXT} characters")
    # isprintable() is false for every character _CONTROL matches, and is far cheaper than
    # the search for the usual printable text.
    if not text.isprintable() and _CONTROL.search(text):
        raise EventError(name, "contains control characters")
    return text or None


def _finite(value: int | float) -> bool:
    # An int is finite however large; math.isfinite would overflow converting a huge one.
    return isinstance(value, int) or math.isfinite(value)


def _latency(value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not _finite(value)
        or value < 0
    ):
        raise EventError("latency_ms", "must be a number of milliseconds ≥ 0")
    if value > MAX_LATENCY_MS:
        raise EventError("latency_ms", f"{value!r} is implausibly large")
    return float(value)


def _status(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError("status", "must be a string or an HTTP status number")
    return str(value)


def parse_timestamp(value: Any, now: dt.datetime, name: str = "timestamp") -> dt.datetime:
    """ISO-8601 (naive = UTC) or epoch seconds (epoch milliseconds accepted when > 1e11)."""
    if value is None:
        return now
    return _timestamp(value, now + FUTURE_SLACK, name)


def _timestamp(value: Any, latest: dt.datetime, name: str = "timestamp") -> dt.datetime:
    """``parse_timestamp`` of a value that is not None, with ``latest`` = now + the slack."""
    # Text first: it is what clients send most (the types tested are disjoint).
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            raise EventError(name, f"{value!r} is not ISO-8601 or epoch seconds") from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        elif stamp.tzinfo is not dt.UTC:
            stamp = stamp.astimezone(dt.UTC)
    elif isinstance(value, bool):
        raise EventError(name, "must be ISO-8601 text or epoch seconds")
    elif isinstance(value, int | float):
        if not _finite(value):
            raise EventError(name, "must be a finite number")
        try:
            seconds = value / 1000 if value > 1e11 else value
            stamp = dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise EventError(name, f"{value!r} is out of range") from None
    else:
        raise EventError(name, "must be ISO-8601 text or epoch seconds")
    if stamp < _EARLIEST:
        raise EventError(name, f"{value!r} is before 2015; epoch seconds expected")
    if stamp > latest:
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
    return normalize_at(raw, now, now + FUTURE_SLACK, source)


def normalize_at(
    raw: Any, now: dt.datetime, latest: dt.datetime, source: str = "api"
) -> UsageEvent:
    """``normalize_event`` with ``latest`` = ``now`` + the future slack, computed once per
    batch by the caller."""
    if type(raw) is dict:
        try:
            event = _normalize_common(raw, now, latest, source)
        except EventError:
            event = None
        if event is not None:
            return event
    # Anything the single pass does not take, and every invalid event: the checks in their
    # documented order, so the error names the same field whatever else is wrong.
    return _normalize_ordered(raw, now, latest, source)


# What _normalize_common does with each field, as one small int so that a field costs one
# dict look-up and a comparison or two: token counts are their TOKEN_FIELDS index, text fields
# _TEXT_BASE + their _TEXT_SLOTS index, the others from _OTHER_BASE. "response" is absent: it
# goes through _normalize_ordered.
_TEXT_SLOTS = (*TEXT_FIELDS, "provider", "model", "source")
_TEXT_BASE = 10
_OTHER_BASE = 20
_TIMESTAMP, _BATCH, _LATENCY, _STATUS, _TAGS, _COST, _USAGE = range(_OTHER_BASE, _OTHER_BASE + 7)
_FIELD_SLOT: dict[str, int] = {
    **{name: i for i, name in enumerate(TOKEN_FIELDS)},
    **{name: i + _TEXT_BASE for i, name in enumerate(_TEXT_SLOTS)},
    "timestamp": _TIMESTAMP,
    "batch": _BATCH,
    "latency_ms": _LATENCY,
    "status": _STATUS,
    "tags": _TAGS,
    "cost_usd": _COST,
    "usage": _USAGE,
}


def _normalize_common(
    raw: dict[str, Any], now: dt.datetime, latest: dt.datetime, source: str
) -> UsageEvent | None:
    """One pass over the fields the event has, with the same rules as ``_normalize_ordered``;
    None for what it leaves to that (a "response" body, an unknown field, a null "batch").
    An ``EventError`` raised here only says the event is invalid: the caller asks
    ``_normalize_ordered`` which error to report."""
    texts: list[str | None] = [None] * len(_TEXT_SLOTS)
    explicit: dict[str, int] = {}
    given = [0] * len(TOKEN_FIELDS)  # the same counts by TOKEN_FIELDS index
    in_order = True  # explicit counts met in TOKEN_FIELDS order (raw_usage keeps that order)
    last_token = -1
    timestamp = now
    batch = False
    latency = status = tags = cost = usage = None
    slot_of = _FIELD_SLOT.get
    for name, value in raw.items():
        slot = slot_of(name)
        if slot is None:
            return None
        if value is None:
            if slot == _BATCH:
                return None
            continue
        if slot < _TEXT_BASE:
            if type(value) is not int or value < 0 or value > MAX_TOKENS:
                value = _token(value, name)
            explicit[name] = given[slot] = value
            if slot < last_token:
                in_order = False
            last_token = slot
        elif slot < _OTHER_BASE:
            if type(value) is str:
                # _text inline, for the usual value: text is most of what an event has.
                text = value.strip()
                if len(text) > MAX_TEXT or (not text.isprintable() and _CONTROL.search(text)):
                    return None
                texts[slot - _TEXT_BASE] = text or None
            else:
                texts[slot - _TEXT_BASE] = _text(value, name)
        elif slot == _TIMESTAMP:
            timestamp = _timestamp(value, latest)
        elif slot == _BATCH:
            if type(value) is not bool:
                return None
            batch = value
        elif slot == _LATENCY:
            latency = _latency(value)
        elif slot == _STATUS:
            status = _status(value)
        elif slot == _TAGS:
            tags = _tags(value)
        elif slot == _COST:
            cost = parse_usd(value, "cost_usd")
        else:
            usage = value
    project, agent, user, session, trace_id, request_id, service_tier, provider, model, own = texts
    provider = canonical_provider(provider)
    if not model or project == ALL_PROJECTS:
        return None
    if usage is not None:
        if type(usage) is not dict:
            return None
        tokens = provider_usage.from_provider_usage(usage, provider or infer_provider(model))
        tokens.update(explicit)
        counts = _consistent_counts(tokens)
        raw_usage: dict[str, Any] | None = usage
    else:
        inp, out, read, write, write_5m, write_1h, reasoning = given
        given_write = write if "cache_write_tokens" in explicit else None
        counts = _checked_counts(inp, out, read, given_write, write_5m, write_1h, reasoning)
        if not in_order:
            explicit = {name: explicit[name] for name in TOKEN_FIELDS if name in explicit}
        raw_usage = explicit or None
    if service_tier:
        service_tier = service_tier.lower()
    # Positional: keyword arguments cost a third more; the order is UsageEvent's fields.
    return UsageEvent(
        model,
        provider or infer_provider(model) or "unknown",
        counts,
        timestamp,
        project or DEFAULT_PROJECT,
        agent,
        user,
        session,
        trace_id,
        request_id,
        service_tier,
        batch or service_tier == "batch",
        own or source,
        cost,
        latency,
        status,
        tags,
        raw_usage,
    )


def _normalize_ordered(raw: Any, now: dt.datetime, latest: dt.datetime, source: str) -> UsageEvent:
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
        extracted = provider_usage.from_response(
            response, provider or (infer_provider(model) if model else None)
        )
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
        tokens.update(provider_usage.from_provider_usage(usage, provider or infer_provider(model)))
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
    latency = _latency(raw.get("latency_ms"))
    status = _status(raw.get("status"))
    texts = {name: _text(v, name) for name in TEXT_FIELDS if (v := raw.get(name)) is not None}
    if texts.get("project") == ALL_PROJECTS:
        # The proxy and `spendtray run` refuse it too: budgets read it as every project.
        raise EventError("project", "'*' means all projects in budgets; name a real project")
    service_tier = texts.get("service_tier")
    service_tier = service_tier.lower() if service_tier else None
    stamp = raw.get("timestamp")
    return UsageEvent(
        model=model,
        provider=provider,
        counts=counts,
        timestamp=now if stamp is None else _timestamp(stamp, latest),
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
        latency_ms=latency,
        status=status,
        tags=_tags(raw.get("tags")),
        raw_usage=raw_usage,
    )


def _consistent_counts(tokens: dict[str, int]) -> TokenCounts:
    """Enforce SPEC §5's subset rules and fill the generic cache-write total."""
    get = tokens.get
    return _checked_counts(
        get("input_tokens", 0),
        get("output_tokens", 0),
        get("cache_read_tokens", 0),
        get("cache_write_tokens"),
        get("cache_write_5m_tokens", 0),
        get("cache_write_1h_tokens", 0),
        get("reasoning_tokens", 0),
    )


def _checked_counts(
    input_tokens: int,
    output_tokens: int,
    cache_read: int,
    cache_write: int | None,
    write_5m: int,
    write_1h: int,
    reasoning: int,
) -> TokenCounts:
    """``_consistent_counts`` of counts in TOKEN_FIELDS order (``cache_write`` None: not
    given)."""
    split = write_5m + write_1h
    if cache_write is None:
        cache_write = split
    elif cache_write < split:
        raise EventError(
            "cache_write_tokens",
            f"{cache_write} is less than cache_write_5m_tokens + cache_write_1h_tokens ({split})",
        )
    cached = cache_read + cache_write
    if cached > input_tokens:
        raise EventError(
            "input_tokens",
            f"{input_tokens} is less than cache_read_tokens + cache_write_tokens "
            f"({cached}); input_tokens is the TOTAL input, cached tokens included",
        )
    if reasoning > output_tokens:
        raise EventError(
            "reasoning_tokens",
            f"{reasoning} exceeds output_tokens ({output_tokens}); "
            "output_tokens is the TOTAL output, reasoning included",
        )
    return TokenCounts(
        input_tokens, output_tokens, cache_read, cache_write, write_5m, write_1h, reasoning
    )


# At the end: provider_usage imports EventError from here.
from spendtray.ingest import provider_usage  # noqa: E402
