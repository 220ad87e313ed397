"""The canonical usage event (SPEC §5) and its validation. Pure; any thread.

``normalize_event`` takes one JSON object as posted and returns a ``UsageEvent`` or raises
``EventError`` naming the field and the problem. Raw provider usage objects are converted by
``spendtray.ingest.provider_usage``; this module owns the canonical names and invariants:
inputs and outputs are totals, cache and reasoning counts are their subsets.
Validation is one table, ``RULES``: a check per posted field, in the order errors are
reported. A valid event costs one pass over its own fields (ingest's hot path); for an invalid
one the same rules run again in their order, so which error is reported never depends on the
order of the keys. The rules between fields follow (``_event``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

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


class PostedEvent(NamedTuple):
    """A validated posted event: ``UsageEvent``'s fields in its order, as a tuple.

    What ``IngestService.prepare`` prices: building the dataclass (twenty attributes set
    one by one) cost about a tenth of preparing a posted event; a tuple is built at once.
    ``normalize_event`` turns it into the ``UsageEvent`` other callers get."""

    model: str
    provider: str
    counts: TokenCounts
    timestamp: dt.datetime
    project: str
    agent: str | None
    user: str | None
    session: str | None
    trace_id: str | None
    request_id: str | None
    service_tier: str | None
    batch: bool
    source: str
    reported_cost_nanos: int | None
    latency_ms: float | None
    status: str | None
    tags: dict[str, Any] | None
    raw_usage: dict[str, Any] | None
    call_key: str | None = None  # never posted
    machine: str | None = None  # never posted


assert PostedEvent._fields == tuple(f.name for f in fields(UsageEvent)), "same fields, same order"

# A named tuple built from a tuple of all its values without a Python-level call (its
# constructor and ``_make`` are Python functions): ingest's hot path builds several an event.
_new_tuple = tuple.__new__


# Each rule takes the posted value (never None, except for "batch"), the field's name for the
# error, and the latest timestamp accepted (now + the slack), and returns the clean value.


def _token(value: Any, name: str, latest: dt.datetime) -> int:
    if type(value) is int and 0 <= value <= MAX_TOKENS:
        return value
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


def _text(value: Any, name: str, latest: dt.datetime) -> str | None:
    if type(value) is str:
        text = value.strip()
    elif type(value) is int and name in _NUMERIC_IDS:
        text = str(value)
    else:
        raise EventError(name, f"must be a string, got {type(value).__name__}")
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


def _latency(value: Any, name: str, latest: dt.datetime) -> float:
    # What senders post (whole or fractional milliseconds, in range) first, in one test.
    kind = type(value)
    if (kind is int or (kind is float and math.isfinite(value))) and 0 <= value <= MAX_LATENCY_MS:
        return float(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not _finite(value)
        or value < 0
    ):
        raise EventError(name, "must be a number of milliseconds ≥ 0")
    if value > MAX_LATENCY_MS:
        raise EventError(name, f"{value!r} is implausibly large")
    return float(value)


def _status(value: Any, name: str, latest: dt.datetime) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError(name, "must be a string or an HTTP status number")
    return str(value)


def parse_timestamp(value: Any, now: dt.datetime, name: str = "timestamp") -> dt.datetime:
    """ISO-8601 (naive = UTC) or epoch seconds (epoch milliseconds accepted when > 1e11)."""
    if value is None:
        return now
    return _timestamp(value, name, now + FUTURE_SLACK)


def _timestamp(value: Any, name: str, latest: dt.datetime) -> dt.datetime:
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


def _object(problem: str) -> Check:
    def check(value: Any, name: str, latest: dt.datetime) -> dict[str, Any]:
        if type(value) is not dict:
            raise EventError(name, problem)
        return value

    return check


def _batch(value: Any, name: str, latest: dt.datetime) -> bool:
    if type(value) is not bool:
        raise EventError(name, "must be true or false")
    return value


# Every field a posted event may have, with the check that turns the posted value into the
# clean one (or raises ``EventError`` naming the field). The order is the order errors are
# reported in when several fields are wrong, whatever the order of the keys in the JSON.
# Rules between fields (model required, usage/response conversion, the token subset rules,
# project "*") come after every field's own check, in ``_event``.
Check = Callable[[Any, str, dt.datetime], Any]
RULES: dict[str, Check] = {
    "provider": _text,
    "model": _text,
    "response": _object("must be the provider's JSON response object"),
    "usage": _object("must be the provider's usage object"),
    **dict.fromkeys(TOKEN_FIELDS, _token),
    "batch": _batch,
    "latency_ms": _latency,
    "status": _status,
    **dict.fromkeys(TEXT_FIELDS, _text),
    "timestamp": _timestamp,
    "source": _text,
    "cost_usd": lambda value, name, latest: parse_usd(value, name),
    "tags": lambda value, name, latest: _tags(value),
}
assert set(RULES) == KNOWN_FIELDS, "every posted field has exactly one rule"
# The token count fields, to see at once that an event posted none (it sent a usage object).
_TOKEN_KEYS = frozenset(TOKEN_FIELDS)
# A null is an absent field, except for "batch" (true or false only).
_NULL_IS_ABSENT = frozenset(RULES) - {"batch"}


def normalize_event(raw: Any, now: dt.datetime, source: str = "api") -> UsageEvent:
    """Validate one posted object into a ``UsageEvent``."""
    return normalize_at(raw, now, now + FUTURE_SLACK, source)


def normalize_at(
    raw: Any, now: dt.datetime, latest: dt.datetime, source: str = "api"
) -> UsageEvent:
    """``normalize_event`` with ``latest`` = ``now`` + the future slack, computed once per
    batch by the caller."""
    return UsageEvent(*posted_event(raw, now, latest, source))


def posted_event(
    raw: Any, now: dt.datetime, latest: dt.datetime, source: str = "api"
) -> PostedEvent:
    """``normalize_at``'s validated event as a ``PostedEvent`` (ingest's hot path).

    One pass over the fields the event has, each through its rule in ``RULES``; when one is
    wrong, ``_first_error`` finds the error to report by the rules' order, so which field is
    named never depends on the order of the keys."""
    if type(raw) is not dict:
        raise EventError("(event)", f"must be a JSON object, got {type(raw).__name__}")
    clean: dict[str, Any] = {}
    rule_of = RULES.get
    try:
        for name, value in raw.items():
            rule = rule_of(name)
            kind = type(value)
            # What senders post nearly always, in one test each instead of a call to the rule:
            # printable text within the length (``_text``'s result for it), a count in range.
            if kind is str and rule is _text and len(value) <= MAX_TEXT and value.isprintable():
                clean[name] = value.strip() or None
            elif kind is int and rule is _token and 0 <= value <= MAX_TOKENS:
                clean[name] = value
            elif rule is None:
                raise EventError(name, "is not a usage event field")
            elif value is not None or name not in _NULL_IS_ABSENT:
                clean[name] = rule(value, name, latest)
    except EventError:
        raise _first_error(raw, latest) from None
    return _event(clean, now, source)


def _first_error(raw: dict[str, Any], latest: dt.datetime) -> EventError:
    """The error to report for an event with at least one wrong field: an unknown field
    first, then the rules in their order."""
    if not KNOWN_FIELDS.issuperset(raw):
        unknown = sorted(set(raw) - KNOWN_FIELDS)
        return EventError(unknown[0], "is not a usage event field (put extra data in 'tags')")
    for name, rule in RULES.items():
        value = raw.get(name)
        if value is None and (name in _NULL_IS_ABSENT or name not in raw):
            continue
        try:
            rule(value, name, latest)
        except EventError as exc:
            return exc
    raise AssertionError("no rule failed twice")  # pragma: no cover


def _event(clean: dict[str, Any], now: dt.datetime, source: str) -> PostedEvent:
    """The rules between fields, on fields that each passed their own rule."""
    get = clean.get
    provider = canonical_provider(get("provider"))
    model: str | None = get("model")
    tokens: dict[str, int] = {}
    raw_usage: dict[str, Any] | None = None
    request_id: str | None = get("request_id")
    response = get("response")
    if response is not None:
        extracted = provider_usage.from_response(
            response, provider or (infer_provider(model) if model else None)
        )
        model = model or extracted.model
        tokens.update(extracted.tokens)
        raw_usage = extracted.raw_usage
        request_id = request_id or extracted.response_id
    usage = get("usage")
    if usage is not None:
        if not model:
            raise EventError("model", "is required")
        tokens.update(provider_usage.from_provider_usage(usage, provider or infer_provider(model)))
        raw_usage = usage
    if not model:
        raise EventError("model", "is required")
    explicit = (
        {} if _TOKEN_KEYS.isdisjoint(clean) else {n: clean[n] for n in TOKEN_FIELDS if n in clean}
    )
    if raw_usage is None:
        tokens = explicit
        raw_usage = explicit or None
    else:
        tokens.update(explicit)  # the event's own counts win over its usage object's
    project = get("project")
    if project == ALL_PROJECTS:
        # The proxy and `spendtray run` refuse it too: budgets read it as every project.
        raise EventError("project", "'*' means all projects in budgets; name a real project")
    service_tier = get("service_tier")
    service_tier = service_tier.lower() if service_tier else None
    # A tuple of the values at once: the named tuple's own constructor is a Python function
    # of twenty parameters, and ``_make`` a Python function too.
    return _new_tuple(
        PostedEvent,
        (
            model,
            provider or infer_provider(model) or "unknown",
            _consistent_counts(tokens),
            get("timestamp", now),
            project or DEFAULT_PROJECT,
            get("agent"),
            get("user"),
            get("session"),
            get("trace_id"),
            request_id,
            service_tier,
            get("batch", False) or service_tier == "batch",
            get("source") or source,
            get("cost_usd"),  # reported_cost_nanos
            get("latency_ms"),
            get("status"),
            get("tags"),
            raw_usage,
            None,  # call_key
            None,  # machine
        ),
    )


def _consistent_counts(tokens: dict[str, int]) -> TokenCounts:
    """Enforce SPEC §5's subset rules and fill the generic cache-write total."""
    get = tokens.get
    input_tokens = get("input_tokens", 0)
    output_tokens = get("output_tokens", 0)
    cache_read = get("cache_read_tokens", 0)
    cache_write = get("cache_write_tokens")
    write_5m = get("cache_write_5m_tokens", 0)
    write_1h = get("cache_write_1h_tokens", 0)
    reasoning = get("reasoning_tokens", 0)
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
    return _new_tuple(
        TokenCounts,
        (input_tokens, output_tokens, cache_read, cache_write, write_5m, write_1h, reasoning),
    )


# At the end: provider_usage imports EventError from here.
from spendtray.ingest import provider_usage  # noqa: E402
