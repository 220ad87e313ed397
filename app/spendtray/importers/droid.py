"""Factory Droid sessions (``~/.factory/sessions/<session>.settings.json``) -> usage records.
Runs on the importer's thread.

Droid does not log its calls one by one: each session's ``.settings.json`` carries the
session's running ``tokenUsage`` (``inputTokens`` without the cache, ``cacheCreationTokens``,
``cacheReadTokens``, ``outputTokens``, ``thinkingTokens`` billed as output), the ``model`` and
``providerLock`` / ``providerLockTimestamp``. Spendtray stores one event per session, keyed
``droid:<session>``, dated when the session started (``providerLockTimestamp``); as the session
goes on the file is read again and the stored event is replaced by the bigger total. A day's
figure for Droid is therefore the usage of the sessions that started that day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, json_document, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

DROID = "droid"
SUFFIX = ".settings.json"


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$DROID_SESSIONS_DIR`` (a comma list) else ``~/.factory/sessions``."""
    return env_or(env, "DROID_SESSIONS_DIR", home / ".factory" / "sessions")


def _model(value: Any) -> str | None:
    """``custom:Claude-Sonnet-4.5-[Proxy]`` -> ``claude-sonnet-4-5`` (Droid's display names)."""
    name = text(value, "model")
    if name is None:
        return None
    name = name.removeprefix("custom:")
    kept, depth = [], 0
    for ch in name:
        depth += ch == "["
        if depth == 0:
            kept.append(ch)
        depth -= ch == "]" and depth > 0
    cleaned = "".join(kept).strip().lower().replace(".", "-").replace(" ", "-")
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "-")
    return cleaned.strip("-") or None


class DroidParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        stats.lines += 1
        settings = json_document(data, self.job.path, stats, dict)
        if settings is None:
            return
        try:
            self._session(settings)
        except EventError as exc:
            stats.bad(self.job.path, 0, str(exc))

    def _session(self, settings: dict[str, Any]) -> None:
        usage = settings.get("tokenUsage")
        if usage is None:
            return
        if not isinstance(usage, dict):
            raise EventError("tokenUsage", "must be an object")
        self.job.stats.usage_lines += 1
        fresh = whole(usage.get("inputTokens"), "tokenUsage.inputTokens")
        write = whole(usage.get("cacheCreationTokens"), "tokenUsage.cacheCreationTokens")
        read = whole(usage.get("cacheReadTokens"), "tokenUsage.cacheReadTokens")
        output = whole(usage.get("outputTokens"), "tokenUsage.outputTokens")
        thinking = whole(usage.get("thinkingTokens"), "tokenUsage.thinkingTokens")
        if fresh + write + read + output + thinking == 0:
            return
        session = Path(self.job.path).name.removesuffix(SUFFIX)
        model = _model(settings.get("model")) or "unknown"
        provider = text(settings.get("providerLock"), "providerLock")
        started = settings.get("providerLockTimestamp")
        if started is None:  # older sessions: the file's own time
            started = dt.datetime.fromtimestamp(os.stat(self.job.path).st_mtime, dt.UTC).isoformat()
        event = UsageEvent(
            model=model,
            provider=provider_of(model, (provider or "unknown").lower()),
            counts=TokenCounts(
                input_tokens=fresh + write + read,
                output_tokens=output + thinking,
                cache_read_tokens=read,
                cache_write_tokens=write,
                reasoning_tokens=thinking,
            ),
            timestamp=parse_timestamp(started, self.job.now, "providerLockTimestamp"),
            agent=DROID,
            session=session,
            request_id=f"droid:{session}",
            source=DROID,
            tags={"granularity": "session total"},
            raw_usage=usage,
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=DROID,
    label="Factory Droid",
    places=places,
    wants=lambda path: path.endswith(SUFFIX),
    parser=DroidParser,
    mode=DOCUMENT,
    env=("DROID_SESSIONS_DIR",),
)
