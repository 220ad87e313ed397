"""OpenCode message files (``~/.local/share/opencode/storage/message/<session>/<message>.json``)
-> usage records. Runs on the importer's thread.

OpenCode writes one JSON document per message and rewrites it while the reply streams; an
assistant message carries ``modelID``, ``providerID``, ``time.created`` (epoch ms), ``tokens``
and the ``cost`` OpenCode computed. ``tokens.input`` EXCLUDES the cache (``tokens.cache.read`` /
``write`` are apart, as Anthropic counts), so the canonical input is their sum; ``tokens.output``
is taken as the total output with ``tokens.reasoning`` inside it when it fits. OpenCode's own
cost is kept as reported cost. Sub-agent sessions (OpenCode's ``task`` tool runs them as child
sessions) carry the agent's ``mode`` (e.g. ``general``), stored as ``opencode/<mode>`` when it is
not the primary ``build``/``plan`` mode. Key: ``opencode:<message id>``.

Releases that keep messages in ``opencode.db`` (SQLite) instead of these files are not read
yet; ``spendtray sources`` says so when it finds such a database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, project_name, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or, xdg_data
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


def _homes(env: Mapping[str, str], home: Path) -> list[Path]:
    return env_or(env, "OPENCODE_DATA_DIR", xdg_data(env, home) / "opencode")


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$OPENCODE_DATA_DIR`` (a comma list) else ``$XDG_DATA_HOME/opencode``: its
    ``storage/message/``."""
    return [folder / "storage" / "message" for folder in _homes(env, home)]


def warnings(env: Mapping[str, str], home: Path) -> list[str]:
    found = [str(f / "opencode.db") for f in _homes(env, home) if (f / "opencode.db").exists()]
    if not found:
        return []
    return [
        f"{', '.join(found)}: messages kept in OpenCode's SQLite database are not imported yet "
        "(only storage/message/*.json files are)"
    ]


def wants(path: str) -> bool:
    return path.endswith(".json") and "/message/" in path.replace("\\", "/")


class OpenCodeParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        stats.lines += 1
        try:
            message = json.loads(data)
        except ValueError as exc:
            stats.bad(self.job.path, 0, f"not valid JSON ({exc})")
            return
        if not isinstance(message, dict):
            stats.bad(self.job.path, 0, "not a JSON object")
            return
        try:
            self._message(message)
        except EventError as exc:
            stats.bad(self.job.path, 0, str(exc))

    def _message(self, message: dict[str, Any]) -> None:
        event = message_event(
            message,
            self.job,
            source=OPENCODE,
            primary_modes=PRIMARY_MODES,
            message_id=Path(self.job.path).stem,
            session=Path(self.job.path).parent.name,
            total_fallback=False,
        )
        if event is not None:
            self.records.append(Record(event))


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
    elif fresh + read + write + output == 0:
        return None
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
    tags: dict[str, Any] = {}
    if reasoning > output:
        tags["reasoning_tokens"] = reasoning  # reported beside output, not inside it
    return UsageEvent(
        model=model,
        provider=provider_of(model, provider or "unknown"),
        counts=TokenCounts(
            input_tokens=fresh + read + write,
            output_tokens=output,
            cache_read_tokens=read,
            cache_write_tokens=write,
            reasoning_tokens=reasoning if reasoning <= output else 0,
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
        tags=tags or None,
        raw_usage=tokens,
    )


SOURCE = LogSource(
    name=OPENCODE,
    label="OpenCode",
    places=places,
    wants=wants,
    parser=OpenCodeParser,
    mode=DOCUMENT,
    env=("OPENCODE_DATA_DIR", "XDG_DATA_HOME"),
    warnings=warnings,
)
