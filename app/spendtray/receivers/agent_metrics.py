"""Coding agents' native OTLP token and cost counters -> usage events, one per agent, session,
model and export window (SPEC §11). Pure; runs where ``otlp_signals`` ran.

Counters a usage event can be built from (names and attributes as each agent documents them):

- Claude Code ``claude_code.token.usage`` (``type`` = ``input`` uncached, ``cacheRead``,
  ``cacheCreation``, ``output``; ``model``; ``session.id``) and ``claude_code.cost.usage``
  (USD, kept as the reported cost).
- Gemini CLI ``gemini_cli.token.usage`` (``type`` = ``input`` cached included, ``cache``,
  ``output``, ``thought`` billed as output, ``tool`` billed as input).
- The GenAI semantic-convention histogram ``gen_ai.client.token.usage``
  (``gen_ai.token.type`` = ``input``/``output``; Copilot CLI and others): its sum.

Counters are a fallback, not a second copy: per-request events (log events, spans, log files)
carry the same calls one by one. The route drops the windows of a session that already has
per-request events (``store.telemetry``), so turning on both an agent's logs and its metrics
counts each call once.

Keys: the delta points of one export are one window (``otlpm:<agent>:<session>:<model>:
<start>:<end>``, the earliest start of its streams): an exporter's retry is a duplicate.
Cumulative streams are one event for their whole life (``otlpm:<agent>:<session>:<model>:
<earliest start>``) that each export replaces with the larger total
(the store keeps the copy with more tokens), dated at the latest export; nothing is counted
twice across a Spendtray restart because no state lives in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from spendtray.ingest.event import MAX_TEXT, MAX_TOKENS, EventError, UsageEvent, normalize_event
from spendtray.receivers.otlp_signals import CUMULATIVE, MetricPoint
from spendtray.receivers.otlp_wire import Scalar

SOURCE = "otlp"
KEY_PREFIX = "otlpm:"


@dataclass(frozen=True, slots=True)
class CounterKind:
    """How one agent's counters read: which metric, which attribute names the token type."""

    agent: str
    provider: str | None
    type_attribute: str
    model_attributes: tuple[str, ...]
    # token type -> canonical bucket: input (uncached or total, see ``input_includes_cache``),
    # cache_read, cache_write, output, reasoning (billed as output, added to it)
    types: dict[str, str]
    input_includes_cache: bool


CLAUDE_CODE = CounterKind(
    "claude-code",
    "anthropic",
    "type",
    ("model",),
    {
        "input": "input",
        "cacheRead": "cache_read",
        "cacheCreation": "cache_write",
        "output": "output",
    },
    input_includes_cache=False,
)
GEMINI_CLI = CounterKind(
    "gemini-cli",
    "google",
    "type",
    ("model",),
    {
        "input": "input",
        "tool": "input",
        "cache": "cache_read",
        "output": "output",
        "thought": "reasoning",
    },
    input_includes_cache=True,
)
GENAI = CounterKind(
    "",
    None,
    "gen_ai.token.type",
    ("gen_ai.response.model", "gen_ai.request.model"),
    {"input": "input", "output": "output"},
    input_includes_cache=True,
)
TOKEN_METRICS: dict[str, CounterKind] = {
    "claude_code.token.usage": CLAUDE_CODE,
    "gemini_cli.token.usage": GEMINI_CLI,
    "gen_ai.client.token.usage": GENAI,
}
COST_METRICS: dict[str, CounterKind] = {"claude_code.cost.usage": CLAUDE_CODE}


@dataclass
class Window:
    """The sums of one agent, session and model over one export window."""

    agent: str
    provider: str | None
    session: str | None
    model: str
    project: str | None
    start_ns: int
    time_ns: int
    cumulative: bool
    input_includes_cache: bool
    tokens: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None

    @property
    def key(self) -> str:
        base = f"{KEY_PREFIX}{self.agent}:{self.session or ''}:{self.model}:{self.start_ns}"
        return (base if self.cumulative else f"{base}:{self.time_ns}")[:MAX_TEXT]


def _text(attrs: dict[str, Scalar], *keys: str) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_TEXT]
    return None


def _agent(kind: CounterKind, point: MetricPoint) -> str:
    if kind.agent:
        return kind.agent
    service = (_text(point.resource, "service.name") or "").lower()
    for hint, agent in (("copilot", "copilot-cli"), ("gemini", "gemini-cli"), ("codex", "codex")):
        if hint in service:
            return agent
    return service[:MAX_TEXT] or "otlp"


def windows_from_points(points: Sequence[MetricPoint]) -> tuple[list[Window], list[str]]:
    """The usage windows in these points, and a reason per point that could not be used."""
    windows: dict[tuple[str, str | None, str, int, bool], Window] = {}
    rejected: list[str] = []
    for point in points:
        kind = TOKEN_METRICS.get(point.name) or COST_METRICS.get(point.name)
        if kind is None:
            continue
        attrs = point.attributes
        model = _text(attrs, *kind.model_attributes)
        if model is None:
            rejected.append(f"{point.name}: no {kind.model_attributes[0]} attribute")
            continue
        cumulative = point.temporality == CUMULATIVE
        agent = _agent(kind, point)
        session = _text(attrs, "session.id", "gen_ai.conversation.id") or _text(
            point.resource, "session.id"
        )
        # One export collects every stream at the same time; a cumulative stream keeps its start
        # (each token type's stream may have started at its own first use).
        ident = (agent, session, model, 0 if cumulative else point.time_ns, cumulative)
        window = windows.get(ident)
        if window is None:
            window = windows[ident] = Window(
                agent,
                kind.provider or _text(attrs, "gen_ai.provider.name", "gen_ai.system"),
                session,
                model,
                _text(attrs, "spendtray.project")
                or _text(point.resource, "spendtray.project", "project.name"),
                point.start_ns,
                point.time_ns,
                cumulative,
                kind.input_includes_cache,
            )
        window.time_ns = max(window.time_ns, point.time_ns)
        if point.start_ns and (not window.start_ns or point.start_ns < window.start_ns):
            window.start_ns = point.start_ns
        if point.value < 0 or point.value != point.value:
            rejected.append(f"{point.name}: value {point.value} is not a count")
            continue
        if point.name in COST_METRICS:
            window.cost_usd = (window.cost_usd or 0.0) + point.value
            continue
        bucket = kind.types.get(str(attrs.get(kind.type_attribute, "")))
        if bucket is None:
            continue  # a token type that is not billed (or not known): not usage
        if point.value > MAX_TOKENS:
            rejected.append(f"{point.name}: {point.value:.0f} tokens is implausibly large")
            continue
        window.tokens[bucket] = window.tokens.get(bucket, 0) + round(point.value)
    return [w for w in windows.values() if w.tokens], rejected


def window_event(window: Window, now: dt.datetime) -> UsageEvent:
    """The usage event of one window; ``EventError`` names what is wrong."""
    tokens = window.tokens
    cache_read = tokens.get("cache_read", 0)
    cache_write = tokens.get("cache_write", 0)
    reasoning = tokens.get("reasoning", 0)
    input_tokens = tokens.get("input", 0)
    if not window.input_includes_cache:
        input_tokens += cache_read + cache_write
    output = tokens.get("output", 0) + reasoning
    if window.time_ns <= 0:
        raise EventError("timeUnixNano", "missing on a usage counter point")
    fields: dict[str, object] = {
        "model": window.model,
        "agent": window.agent,
        "session": window.session,
        "input_tokens": max(input_tokens, cache_read + cache_write),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": output,
        "reasoning_tokens": reasoning,
        "timestamp": window.time_ns / 1e9,
        "request_id": window.key,
        "tags": {"telemetry": "metrics"},
    }
    if window.provider:
        fields["provider"] = window.provider
    if window.project:
        fields["project"] = window.project
    if window.cost_usd is not None:
        fields["cost_usd"] = window.cost_usd
    return normalize_event(fields, now, SOURCE)
