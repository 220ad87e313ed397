"""The ingest hot path (one pass over the event's fields, cached price look-ups, direct JSON)
stores exactly what the straightforward validation and pricing it replaced stored.

``reference_row`` below is that earlier code, kept here as the specification: every field
checked in a fixed order, ``PriceBook.resolve`` per event, costing through the genai-prices
usage dict, ``json.dumps`` per event. Events of many shapes — and invalid ones — must give
the same stored values, or the same error (field and problem).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sharedkit import reference_cost
from spendtray.fields import TOKEN_FIELDS
from spendtray.ingest import provider_usage
from spendtray.ingest.event import (
    KNOWN_FIELDS,
    TEXT_FIELDS,
    EventError,
    UsageEvent,
    _tags,
    normalize_event,
    parse_usd,
)
from spendtray.ingest.service import BatchError, IngestService
from spendtray.machine import default_machine_name
from spendtray.prices.book import PriceBook, UnknownModel
from spendtray.prices.calc import PricingError, TokenCounts
from spendtray.prices.names import canonical_provider, infer_provider
from spendtray.store.rows import COLUMN_INDEX, EVENT_COLUMNS
from spendtray.store.writer import Writer

NOW = dt.datetime(2026, 11, 22, 12, 30, 15, 123456, tzinfo=dt.UTC)
_CONTROL = re.compile(r"[\x00-\x1f]")


# -- the reference: validation ------------------------------------------------------------


def ref_token(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise EventError(name, f"must be a whole number ≥ 0, got {value!r}")
    if value < 0:
        raise EventError(name, f"must be ≥ 0, got {value}")
    if value > 10**12:
        raise EventError(name, f"{value} is implausibly large")
    return int(value)


def ref_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    # A number is taken only for ids (issue 21: model 123 was stored as "123").
    numeric_id = name in ("user", "session", "trace_id", "request_id")
    if type(value) is not str and (type(value) is not int or not numeric_id):
        raise EventError(name, f"must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > 256:
        raise EventError(name, "longer than 256 characters")
    if _CONTROL.search(text):
        raise EventError(name, "contains control characters")
    return text or None


def ref_timestamp(value: Any, now: dt.datetime) -> dt.datetime:
    name = "timestamp"
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
    if stamp < dt.datetime(2015, 1, 1, tzinfo=dt.UTC):
        raise EventError(name, f"{value!r} is before 2015; epoch seconds expected")
    if stamp > now + dt.timedelta(days=1):
        raise EventError(name, f"{value!r} is more than a day in the future")
    return stamp


def ref_counts(tokens: dict[str, int]) -> TokenCounts:
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


def ref_normalize(raw: Any, now: dt.datetime, source: str = "api") -> UsageEvent:
    if not isinstance(raw, dict):
        raise EventError("(event)", f"must be a JSON object, got {type(raw).__name__}")
    if not KNOWN_FIELDS.issuperset(raw):
        unknown = sorted(set(raw) - KNOWN_FIELDS)
        raise EventError(unknown[0], "is not a usage event field (put extra data in 'tags')")
    # Each field's own check first, in the documented order ...
    provider = canonical_provider(ref_text(raw.get("provider"), "provider"))
    model = ref_text(raw.get("model"), "model")
    response = raw.get("response")
    if response is not None and not isinstance(response, dict):
        raise EventError("response", "must be the provider's JSON response object")
    usage = raw.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise EventError("usage", "must be the provider's usage object")
    explicit = {n: ref_token(v, n) for n in TOKEN_FIELDS if (v := raw.get(n)) is not None}
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
    texts = {n: ref_text(v, n) for n in TEXT_FIELDS if (v := raw.get(n)) is not None}
    timestamp = ref_timestamp(raw.get("timestamp"), now)
    own_source = ref_text(raw["source"], "source") if "source" in raw else None
    cost = parse_usd(raw["cost_usd"], "cost_usd") if raw.get("cost_usd") is not None else None
    tags = _tags(raw.get("tags"))
    # ... then the rules between fields.
    tokens: dict[str, int] = {}
    raw_usage: dict[str, Any] | None = None
    if response is not None:
        extracted = provider_usage.from_response(
            response, provider or (infer_provider(model) if model else None)
        )
        model = model or extracted.model
        tokens.update(extracted.tokens)
        raw_usage = extracted.raw_usage
        if texts.get("request_id") is None and extracted.response_id:
            texts["request_id"] = extracted.response_id
    if usage is not None:
        if not model:
            raise EventError("model", "is required")
        tokens.update(provider_usage.from_provider_usage(usage, provider or infer_provider(model)))
        raw_usage = usage
    if not model:
        raise EventError("model", "is required")
    provider = provider or infer_provider(model) or "unknown"
    tokens.update(explicit)
    if raw_usage is None and explicit:
        raw_usage = dict(explicit)
    counts = ref_counts(tokens)
    service_tier = texts.get("service_tier")
    service_tier = service_tier.lower() if service_tier else None
    return UsageEvent(
        model=model,
        provider=provider,
        counts=counts,
        timestamp=timestamp,
        project=texts.get("project") or "default",
        agent=texts.get("agent"),
        user=texts.get("user"),
        session=texts.get("session"),
        trace_id=texts.get("trace_id"),
        request_id=texts.get("request_id"),
        service_tier=service_tier,
        batch=batch or service_tier == "batch",
        source=own_source or source,
        reported_cost_nanos=cost,
        latency_ms=float(latency) if latency is not None else None,
        status=str(status) if status is not None else None,
        tags=tags,
        raw_usage=raw_usage,
    )


# -- the reference: pricing ---------------------------------------------------------------


def _ms(stamp: dt.datetime) -> int:
    return int(stamp.timestamp() * 1000)


def ref_row(book: PriceBook, event: UsageEvent, received: dt.datetime) -> list[object]:
    cost: int | None = None
    reason: str | None = None
    unit_prices = source = date = price_model = price_provider = None
    try:
        resolved = book.resolve(
            event.model, event.provider, event.timestamp, event.service_tier, event.batch
        )
        cost = reference_cost(resolved.compiled, event.counts)
    except UnknownModel as exc:
        reason = exc.reason
    except PricingError as exc:
        reason = f"cannot price this usage: {exc}"
    else:
        unit_prices = json.dumps(resolved.unit_prices_json(), separators=(",", ":"))
        source, date = resolved.source, resolved.price_date
        price_model, price_provider = resolved.model_id, resolved.provider_id
        if resolved.price_context:
            source = f"{source} ({resolved.price_context})"
    c = event.counts
    return [
        None,
        _ms(event.timestamp),
        _ms(received),
        event.project,
        event.model,
        event.provider,
        event.agent or "",
        event.user,
        event.session,
        event.trace_id,
        event.request_id,
        event.source,
        event.service_tier,
        1 if event.batch else 0,
        c.input_tokens,
        c.output_tokens,
        c.cache_read_tokens,
        c.cache_write_tokens,
        c.cache_write_5m_tokens,
        c.cache_write_1h_tokens,
        c.reasoning_tokens,
        cost,
        1 if cost is not None else 0,
        reason,
        # The price goes to prices_used; the row carries its fields until the writer stores it.
        None if cost is None else (price_model, price_provider, unit_prices, source, date),
        event.reported_cost_nanos,
        event.latency_ms,
        event.status,
        json.dumps(event.tags, separators=(",", ":")) if event.tags else None,
        json.dumps(event.raw_usage, separators=(",", ":")) if event.raw_usage else None,
        None,  # call_key: set by importers and receivers only
        default_machine_name(),  # the service's machine: this one's name by default
        None,  # origin: stored here first
    ]


# -- the comparison -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> IngestService:
    # prepare never writes: the writer is only there because the service carries one.
    writer = Writer(Path(tmp_path_factory.mktemp("unused")) / "never-opened.db")
    return IngestService(PriceBook.load(), writer, clock=lambda: NOW)


@pytest.fixture(scope="module")
def ref_book() -> PriceBook:
    return PriceBook.load()


Outcome = tuple[str, Any]


def expected(book: PriceBook, raw: Any, source: str = "api") -> Outcome:
    try:
        event = ref_normalize(raw, NOW, source)
    except EventError as exc:
        return "error", (exc.field, exc.problem)
    return "row", ref_row(book, event, NOW)


def actual(service: IngestService, raw: Any, source: str = "api") -> Outcome:
    try:
        rows = service.prepare([raw], source)
    except BatchError as exc:
        return "error", (exc.error.field, exc.error.problem)
    return "row", list(rows[0])


def assert_same(got: Outcome, want: Outcome, raw: Any) -> None:
    if got[0] == "row" and want[0] == "row":
        diff = {
            EVENT_COLUMNS[i]: (g, w)
            for i, (g, w) in enumerate(zip(got[1], want[1], strict=True))
            if g != w or type(g) is not type(w)
        }
        assert not diff, (raw, diff)
    assert got == want, raw


ISO = "2026-11-20T08:15:30.250000+00:00"
EPOCH = dt.datetime(2026, 11, 20, 8, 15, 30, 250000, tzinfo=dt.UTC).timestamp()
CANONICAL = {"model": "gpt-4o", "input_tokens": 1200, "output_tokens": 300, "project": "bench"}

SHAPES: list[Any] = [
    CANONICAL,
    {**CANONICAL, "timestamp": ISO},
    {**CANONICAL, "timestamp": "2026-11-20T08:15:30Z"},
    {**CANONICAL, "timestamp": "2026-11-20 08:15:30"},
    {**CANONICAL, "timestamp": "2026-11-20T17:15:30+09:00"},
    {**CANONICAL, "timestamp": "  2026-11-20T08:15:30z  "},
    {**CANONICAL, "timestamp": EPOCH},
    {**CANONICAL, "timestamp": int(EPOCH)},
    {**CANONICAL, "timestamp": int(EPOCH * 1000)},
    {**CANONICAL, "timestamp": None},
    {**CANONICAL, "agent": "coder"},
    {**CANONICAL, "agent": "  "},
    {**CANONICAL, "request_id": "req-1"},
    {**CANONICAL, "cache_read_tokens": 500},
    {**CANONICAL, "provider": "openai"},
    {**CANONICAL, "provider": " OpenAI "},
    {**CANONICAL, "provider": "azure_openai"},
    {**CANONICAL, "user": 7, "session": "s", "trace_id": 99, "project": "p42"},
    {**CANONICAL, "service_tier": "Flex"},
    {**CANONICAL, "service_tier": "batch"},
    {**CANONICAL, "service_tier": "priority", "batch": False},
    {**CANONICAL, "batch": True},
    {**CANONICAL, "source": "cli"},
    {**CANONICAL, "source": ""},
    {**CANONICAL, "latency_ms": 812},
    {**CANONICAL, "latency_ms": 812.25, "status": 200},
    {**CANONICAL, "status": "ok"},
    {**CANONICAL, "tags": {"team": "ml", "n": 3, "x": None, "ok": True, "é": "ü"}},
    {**CANONICAL, "tags": {}},
    {**CANONICAL, "cost_usd": 0.1},
    {**CANONICAL, "cost_usd": "0.000123"},
    {**CANONICAL, "input_tokens": 1200.0},
    {"output_tokens": 300, "model": "gpt-4o", "input_tokens": 1200},
    {"reasoning_tokens": 10, "output_tokens": 300, "input_tokens": 1200, "model": "o3"},
    {**CANONICAL, "project": "naïve café", "agent": "tab\u00a0here", "user": "\x7fdel"},
    {**CANONICAL, "model": "local-thing"},
    {**CANONICAL, "model": "local-thing", "provider": "ollama"},
    {"model": "llama3.1:70b", "provider": "ollama", "input_tokens": 10, "output_tokens": 5},
    {"model": "gpt-4o"},
    {"model": "gpt-4o", "input_tokens": 0, "output_tokens": 0},
    {
        "model": "claude-sonnet-4-5",
        "input_tokens": 300_000,
        "output_tokens": 300,
        "cache_read_tokens": 2000,
        "cache_write_tokens": 1000,
        "cache_write_5m_tokens": 400,
        "cache_write_1h_tokens": 600,
    },
    {"model": "claude-sonnet-4-5", "input_tokens": 5000, "cache_write_1h_tokens": 600},
    {"model": "gemini-2.5-pro", "input_tokens": 250_000, "output_tokens": 10, "timestamp": ISO},
    {"model": "deepseek-chat", "input_tokens": 1000, "output_tokens": 10, "timestamp": ISO},
    {"model": "deepseek-chat", "input_tokens": 1000, "timestamp": "2026-11-20T17:00:00Z"},
    {"model": "openai/gpt-4o-2024-08-06", "input_tokens": 10},
    {"model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "provider": "bedrock"},
    {"model": "gpt-4o", "usage": {"prompt_tokens": 1200, "completion_tokens": 300}},
    # Non-ASCII text in a usage object is stored escaped, as json writes it.
    {"model": "gpt-4o", "usage": {"prompt_tokens": 9, "completion_tokens": 2, "tier": "é"}},
    {
        "model": "o3",
        "usage": {
            "prompt_tokens": 1200,
            "completion_tokens": 800,
            "prompt_tokens_details": {"cached_tokens": 1000},
            "completion_tokens_details": {"reasoning_tokens": 600},
        },
        "request_id": "stc-1",
        "timestamp": ISO,
        "latency_ms": 1.5,
        "status": 200,
        "source": "python-client",
    },
    {"model": "gpt-5", "usage": {"input_tokens": 900, "output_tokens": 50}},
    {"model": "gpt-4o", "usage": {"input_tokens": 900, "output_tokens": 50}, "input_tokens": 1000},
    {
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 2000,
            "cache_read_input_tokens": 5000,
            "output_tokens": 300,
            "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1500},
        },
    },
    {
        "model": "gemini-2.5-flash",
        "usage": {"promptTokenCount": 100, "candidatesTokenCount": 10, "thoughtsTokenCount": 3},
    },
    {
        "provider": "openai",
        "response": {
            "id": "chatcmpl-1",
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"message": {"content": "secret"}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7},
        },
    },
    {
        "provider": "google",
        "request_id": "mine",
        "response": {
            "modelVersion": "gemini-2.5-pro",
            "responseId": "abc",
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10},
        },
    },
]

BAD: list[tuple[Any, str]] = [
    (["not", "an", "object"], "(event)"),
    ({"input_tokens": 1}, "model"),
    ({"model": None, "input_tokens": 1}, "model"),
    ({"model": "  ", "input_tokens": 1}, "model"),
    ({"model": "gpt-4o", "input_tokens": -1}, "input_tokens"),
    ({"model": "gpt-4o", "input_tokens": 1.5}, "input_tokens"),
    ({"model": "gpt-4o", "input_tokens": "12"}, "input_tokens"),
    ({"model": "gpt-4o", "input_tokens": 10**13}, "input_tokens"),
    ({"model": "gpt-4o", "output_tokens": True}, "output_tokens"),
    ({"model": "gpt-4o", "input_tokens": 10, "cache_read_tokens": 11}, "input_tokens"),
    ({"model": "gpt-4o", "output_tokens": 1, "reasoning_tokens": 2}, "reasoning_tokens"),
    (
        {"model": "gpt-4o", "input_tokens": 9, "cache_write_tokens": 1, "cache_write_1h_tokens": 2},
        "cache_write_tokens",
    ),
    ({"model": "gpt-4o", "timestamp": "yesterday-ish"}, "timestamp"),
    ({"model": "gpt-4o", "timestamp": 12345}, "timestamp"),
    ({"model": "gpt-4o", "timestamp": float("nan")}, "timestamp"),
    ({"model": "gpt-4o", "timestamp": 1e300}, "timestamp"),
    ({"model": "gpt-4o", "timestamp": True}, "timestamp"),
    ({"model": "gpt-4o", "timestamp": ["2026"]}, "timestamp"),
    ({"model": "gpt-4o", "timestamp": "2030-01-01T00:00:00Z"}, "timestamp"),
    ({"model": "gpt-4o", "cost_usd": "NaN"}, "cost_usd"),
    ({"model": "gpt-4o", "cost_usd": -1}, "cost_usd"),
    ({"model": "gpt-4o", "cost_usd": True}, "cost_usd"),
    ({"model": "gpt-4o", "tags": ["a"]}, "tags"),
    ({"model": "gpt-4o", "tags": {"k": [1]}}, "tags.k"),
    ({"model": "gpt-4o", "input_token": 5}, "input_token"),
    ({"model": "gpt-4o", "zzz": 1, "aaa": 2}, "aaa"),
    ({"model": "gpt-4o", "usage": {"foo": 1}}, "usage"),
    ({"model": "gpt-4o", "usage": {}}, "usage"),
    ({"model": "gpt-4o", "usage": [1]}, "usage"),
    ({"usage": {"prompt_tokens": 1}}, "model"),
    ({"model": "gpt-4o", "usage": {"prompt_tokens": -3}}, "usage.prompt_tokens"),
    ({"model": "gpt-4o", "response": "text"}, "response"),
    ({"model": "gpt-4o", "response": {"id": "x"}}, "response.usage"),
    ({"model": "x" * 300}, "model"),
    ({"model": "gpt-4o", "agent": "a\nb"}, "agent"),
    ({"model": "gpt-4o", "project": "a\x1fb"}, "project"),
    ({"model": "gpt-4o", "project": True}, "project"),
    ({"model": "gpt-4o", "user": 1.5}, "user"),
    ({"model": "gpt-4o", "provider": ["openai"]}, "provider"),
    ({"model": "gpt-4o", "source": {"x": 1}}, "source"),
    ({"model": "gpt-4o", "batch": "yes"}, "batch"),
    ({"model": "gpt-4o", "batch": None}, "batch"),
    ({"model": "gpt-4o", "latency_ms": -1}, "latency_ms"),
    ({"model": "gpt-4o", "latency_ms": "5"}, "latency_ms"),
    ({"model": "gpt-4o", "latency_ms": float("inf")}, "latency_ms"),
    ({"model": "gpt-4o", "status": False}, "status"),
    ({"model": "gpt-4o", "status": 2.5}, "status"),
    # Several wrong fields: the error names the first in the documented order.
    ({"timestamp": "bad", "tags": 1, "input_tokens": -1, "model": "gpt-4o"}, "input_tokens"),
    ({"status": True, "batch": 1, "model": "gpt-4o"}, "batch"),
    ({"project": "\x00", "latency_ms": -1, "model": "gpt-4o"}, "latency_ms"),
    ({"cost_usd": -1, "source": 1.5, "timestamp": "bad", "model": "gpt-4o"}, "timestamp"),
    ({"model": "gpt-4o", "tags": 1, "cost_usd": -1, "source": 1.5}, "source"),
    ({"model": 5.5, "provider": 5.5}, "provider"),
]


@pytest.mark.parametrize("raw", SHAPES, ids=range(len(SHAPES)))
def test_each_shape_stores_what_the_reference_stores(
    service: IngestService, ref_book: PriceBook, raw: Any
) -> None:
    want = expected(ref_book, raw)
    assert want[0] == "row", want
    assert_same(actual(service, raw), want, raw)
    assert normalize_event(raw, NOW) == ref_normalize(raw, NOW)


@pytest.mark.parametrize(("raw", "field"), BAD, ids=range(len(BAD)))
def test_each_bad_event_fails_like_the_reference(
    service: IngestService, ref_book: PriceBook, raw: Any, field: str
) -> None:
    want = expected(ref_book, raw)
    assert want == ("error", (field, want[1][1])), want
    assert_same(actual(service, raw), want, raw)
    with pytest.raises(EventError) as info:
        normalize_event(raw, NOW)
    assert (info.value.field, info.value.problem) == want[1]


def _random_event(rng: random.Random) -> dict[str, Any]:
    def pick(*options: Any) -> Any:
        return rng.choice(options)

    def count() -> Any:
        return pick(0, 1, rng.randint(0, 400_000), rng.randint(0, 5000), 2.0, -1, "3", None)

    base = NOW - dt.timedelta(seconds=rng.randint(-2 * 86400, 40 * 86400))
    pool: dict[str, Callable[[], Any]] = {
        "model": lambda: pick(
            "gpt-4o", "claude-sonnet-4-5", "deepseek-chat", "gemini-2.5-pro", "no-such-x", None
        ),
        "provider": lambda: pick("openai", "Anthropic", "bedrock", "ollama", "", 3, None),
        **{name: count for name in TOKEN_FIELDS},
        **{
            name: lambda: pick("a", " b ", "", "x" * 257, "é\u00a0", 7, None)
            for name in TEXT_FIELDS
        },
        "service_tier": lambda: pick("batch", "FLEX", "default", None),
        "timestamp": lambda: pick(
            base.isoformat(),
            base.replace(tzinfo=None).isoformat(),
            base.strftime("%Y-%m-%dT%H:%M:%SZ"),
            base.timestamp(),
            int(base.timestamp() * 1000),
            "soon",
            None,
        ),
        "batch": lambda: pick(True, False, None, 1),
        "source": lambda: pick("cli", "", None, 2),
        "latency_ms": lambda: pick(5, 2.5, -1, None),
        "status": lambda: pick(200, "error", True, None),
        "tags": lambda: pick({"a": 1}, {}, None, "x"),
        "cost_usd": lambda: pick(0.25, "1", -2, None),
        "usage": lambda: pick(
            {"prompt_tokens": rng.randint(0, 9000), "completion_tokens": 3},
            {"input_tokens": 50, "output_tokens": 5, "cache_read_input_tokens": 7},
            {"promptTokenCount": 40, "candidatesTokenCount": 2},
            {"nope": 1},
        ),
        "bogus": lambda: 1,
    }
    names = list(pool)
    chosen = rng.sample(names, rng.randint(1, 9))
    if "model" not in chosen and rng.random() < 0.9:
        chosen.insert(rng.randrange(len(chosen) + 1), "model")
    # Mostly valid events: wrong values are rarer than in the pools above.
    event: dict[str, Any] = {}
    for name in chosen:
        for _ in range(4):
            value = pool[name]()
            if expected_ok(name, value):
                break
        event[name] = value
    return event


def expected_ok(name: str, value: Any) -> bool:
    """A cheap guess at a valid value, used only to skew the random events towards valid."""
    if name == "bogus":
        return False
    if name in TOKEN_FIELDS:
        return value is None or (type(value) is int and value >= 0)
    return not (isinstance(value, str) and len(value) > 256)


def test_random_events_match_the_reference(service: IngestService, ref_book: PriceBook) -> None:
    rng = random.Random(20261122)
    rows = errors = 0
    for _ in range(4000):
        raw = _random_event(rng)
        want = expected(ref_book, raw)
        assert_same(actual(service, raw), want, raw)
        if want[0] == "row":
            rows += 1
        else:
            errors += 1
    assert rows > 500 and errors > 500, (rows, errors)


def test_a_batch_matches_event_by_event(service: IngestService, ref_book: PriceBook) -> None:
    """The batch path shares the receive time and the look-up caches across events."""
    rng = random.Random(5)
    batch = [
        raw
        for raw in (_random_event(rng) for _ in range(3000))
        if expected(ref_book, raw)[0] == "row"
    ]
    rows = service.prepare(batch)
    assert len(rows) == len(batch) > 200
    for raw, row in zip(batch, rows, strict=True):
        want = expected(ref_book, raw)
        assert_same(("row", list(row)), want, raw)
        assert row.received_at == _ms(NOW)
    assert COLUMN_INDEX["received_at"] == 2
