"""Amp threads (``~/.local/share/amp/threads/T-*.json``) -> usage records. Runs on the
importer's thread.

Amp rewrites a thread's JSON document as it goes. Its ``usageLedger.events`` list one entry per
model call (``id``, ``timestamp``, ``model``, ``tokens.input`` / ``output``, ``toMessageId``);
the assistant message the call produced (``messageId``) holds the cache counts
(``usage.cacheCreationInputTokens`` / ``cacheReadInputTokens``). Threads without a ledger carry
the usage on the assistant messages only. ``inputTokens`` EXCLUDES the cache (Anthropic's
convention), so the canonical input is input + cache writes + cache reads. Keys:
``amp:<thread id>:<ledger event id>`` (``…:m<messageId>`` without a ledger).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, json_document, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or, xdg_data
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

AMP = "amp"
RAW_KEYS = (
    "tokens",
    "inputTokens",
    "outputTokens",
    "cacheCreationInputTokens",
    "cacheReadInputTokens",
    "credits",
)


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$AMP_DATA_DIR`` (a comma list) else ``$XDG_DATA_HOME/amp``: its ``threads/``."""
    return [f / "threads" for f in env_or(env, "AMP_DATA_DIR", xdg_data(env, home) / "amp")]


def _usage_counts(fresh: int, output: int, write: int, read: int) -> TokenCounts:
    return TokenCounts(
        input_tokens=fresh + write + read,
        output_tokens=output,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


class AmpParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        thread = json_document(data, self.job.path, stats, dict)
        if thread is None:
            return
        thread_id = text(thread.get("id"), "id") or Path(self.job.path).stem
        messages = [m for m in thread.get("messages") or [] if isinstance(m, dict)]
        ledger = thread.get("usageLedger")
        events = ledger.get("events") if isinstance(ledger, dict) else None
        if isinstance(events, list):
            cache: dict[Any, tuple[int, int]] = {}
            for message in messages:
                usage = message.get("usage")
                if message.get("role") == "assistant" and isinstance(usage, dict):
                    cache[message.get("messageId")] = (
                        whole(usage.get("cacheCreationInputTokens"), "cacheCreationInputTokens"),
                        whole(usage.get("cacheReadInputTokens"), "cacheReadInputTokens"),
                    )
            for index, entry in enumerate(events):
                stats.lines += 1
                try:
                    self._ledger(thread_id, entry, cache)
                except EventError as exc:
                    stats.bad(self.job.path, 0, f"usageLedger.events[{index}]: {exc}")
            return
        for index, message in enumerate(messages):
            stats.lines += 1
            try:
                self._message(thread_id, message)
            except EventError as exc:
                stats.bad(self.job.path, 0, f"messages[{index}]: {exc}")

    def _ledger(self, thread: str, entry: Any, cache: dict[Any, tuple[int, int]]) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("tokens"), dict):
            return
        self.job.stats.usage_lines += 1
        tokens = entry["tokens"]
        write, read = cache.get(entry.get("toMessageId"), (0, 0))
        counts = _usage_counts(
            whole(tokens.get("input"), "tokens.input"),
            whole(tokens.get("output"), "tokens.output"),
            write,
            read,
        )
        event_id = entry.get("id")
        self._add(thread, f"{event_id}", entry.get("model"), entry.get("timestamp"), counts, entry)

    def _message(self, thread: str, message: dict[str, Any]) -> None:
        usage = message.get("usage")
        if message.get("role") != "assistant" or not isinstance(usage, dict):
            return
        self.job.stats.usage_lines += 1
        counts = _usage_counts(
            whole(usage.get("inputTokens"), "usage.inputTokens"),
            whole(usage.get("outputTokens"), "usage.outputTokens"),
            whole(usage.get("cacheCreationInputTokens"), "usage.cacheCreationInputTokens"),
            whole(usage.get("cacheReadInputTokens"), "usage.cacheReadInputTokens"),
        )
        stamp = usage.get("timestamp") or message.get("timestamp")
        model = usage.get("model") or message.get("model")
        self._add(thread, f"m{message.get('messageId')}", model, stamp, counts, usage)

    def _add(
        self, thread: str, call: str, model: Any, stamp: Any, counts: TokenCounts, raw: Any
    ) -> None:
        if counts.input_tokens == counts.output_tokens == 0:
            return
        name = text(model, "model", required=True)
        assert name is not None
        if stamp is None:
            raise EventError("timestamp", "is missing")
        event = UsageEvent(
            model=name,
            provider=provider_of(name),
            counts=counts,
            timestamp=parse_timestamp(stamp, self.job.now),
            agent=AMP,
            session=thread,
            request_id=f"amp:{thread}:{call}",
            source=AMP,
            raw_usage={k: v for k, v in raw.items() if k in RAW_KEYS},
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=AMP,
    label="Amp",
    places=places,
    wants=lambda path: path.endswith(".json"),
    parser=AmpParser,
    mode=DOCUMENT,
    env=("AMP_DATA_DIR", "XDG_DATA_HOME"),
)
