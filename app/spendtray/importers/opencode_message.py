"""One OpenCode-shaped message document -> its usage event. OpenCode keeps these documents as
files (``opencode.py``) and, since 1.2, in its SQLite store (``opencode_db.py``); Kilo CLI, an
OpenCode fork, keeps them in ``kilo.db`` (``kilo.py``). Pure; runs on the importer's thread.

An assistant message carries ``modelID``, ``providerID``, ``time.created`` (epoch ms),
``tokens`` and the ``cost`` the agent computed. ``tokens.input`` EXCLUDES the cache
(``tokens.cache.read`` / ``write`` are apart, as Anthropic counts), so the canonical input is
their sum. Whether ``tokens.reasoning`` is inside ``tokens.output`` changed over time: OpenCode
first logged the SDK's output (which holds OpenAI's reasoning), later the output less the
reasoning (both priced at the output rate). Newer documents carry ``tokens.total``, which says
which: when it equals input + cache + output + reasoning (or the reasoning exceeds the output)
the reasoning is apart and the canonical output is output + reasoning; otherwise (older
documents without a total) it is inside. The agent's own cost is kept as reported cost.
Sub-agent sessions carry their agent's ``mode`` (e.g. ``general``), stored as
``<source>/<mode>`` when it is not a primary mode. Key: ``<source>:<message id>``.
"""

from __future__ import annotations

from typing import Any

from spendtray.importers.parsing import project_name, provider_of, text, whole
from spendtray.importers.source import FileJob
from spendtray.ingest.event import (
    DEFAULT_PROJECT,
    EventError,
    UsageEvent,
    parse_timestamp,
    parse_usd,
)
from spendtray.prices.calc import TokenCounts

OPENCODE = "opencode"
PRIMARY_MODES = ("build", "plan")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def message_event(
    message: dict[str, Any],
    job: FileJob,
    *,
    source: str,
    primary_modes: tuple[str, ...],
    message_id: str | None,
    session: str | None,
    total_fallback: bool,
) -> UsageEvent | None:
    """The usage event of one OpenCode-shaped message document (OpenCode's files; Kilo CLI keeps
    the same documents in SQLite), None when it is not an assistant message with tokens.
    ``message_id``/``session`` are the fallbacks where the document names none;
    ``total_fallback`` counts a bare ``tokens.total`` as output when the parts are missing (and
    counts a usage line only for messages with tokens)."""
    tokens = message.get("tokens")
    if message.get("role") != "assistant" or tokens is None:
        return None
    if not isinstance(tokens, dict):
        raise EventError("tokens", "must be an object")
    if not total_fallback:
        job.stats.usage_lines += 1
    cache = _dict(tokens.get("cache"))
    fresh = whole(tokens.get("input"), "tokens.input")
    read = whole(cache.get("read"), "tokens.cache.read")
    write = whole(cache.get("write"), "tokens.cache.write")
    output = whole(tokens.get("output"), "tokens.output")
    reasoning = whole(tokens.get("reasoning"), "tokens.reasoning")
    if total_fallback:
        if fresh + read + write + output + reasoning == 0:
            output = whole(tokens.get("total"), "tokens.total")  # only a total was logged
        if fresh + read + write + output + reasoning == 0:
            return None
        job.stats.usage_lines += 1
    elif fresh + read + write + output + reasoning == 0:
        return None
    total = tokens.get("total")
    apart = reasoning > output or (
        reasoning > 0
        and isinstance(total, int)
        and not isinstance(total, bool)
        and total == fresh + read + write + output + reasoning
    )
    model = text(message.get("modelID"), "modelID", required=True)
    assert model is not None
    created = _dict(message.get("time")).get("created")
    if created is None:
        raise EventError("time.created", "is missing")
    own_id = text(message.get("id"), "id") or text(message_id, "id", required=True)
    own_session = text(message.get("sessionID"), "sessionID") or text(session, "session_id")
    provider = text(message.get("providerID"), "providerID")
    cost = message.get("cost")
    mode = message.get("mode")
    return UsageEvent(
        model=model,
        provider=provider_of(model, provider or "unknown"),
        counts=TokenCounts(
            input_tokens=fresh + read + write,
            output_tokens=output + reasoning if apart else output,
            cache_read_tokens=read,
            cache_write_tokens=write,
            reasoning_tokens=reasoning,
        ),
        timestamp=parse_timestamp(created, job.now, "time.created"),
        project=project_name(_dict(message.get("path")).get("root")) or DEFAULT_PROJECT,
        agent=(
            f"{source}/{mode}"
            if isinstance(mode, str) and mode and mode not in primary_modes
            else source
        ),
        session=own_session,
        request_id=f"{source}:{own_id}",
        source=source,
        reported_cost_nanos=(
            parse_usd(cost, "cost")
            if isinstance(cost, int | float) and not isinstance(cost, bool) and cost > 0
            else None
        ),
        raw_usage=tokens,
    )
