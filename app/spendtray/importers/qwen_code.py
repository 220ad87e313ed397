"""Qwen Code chat recordings (``~/.qwen/projects/<encoded cwd>/chats/<session>.jsonl``) -> usage
records. Runs on the importer's thread.

Qwen Code (a Gemini CLI fork) appends one JSON line per message; ``type: assistant`` lines carry
the Gemini-shaped ``usageMetadata`` of their model call: ``promptTokenCount`` INCLUDES
``cachedContentTokenCount`` (Qwen Code converts an OpenAI-compatible ``prompt_tokens`` into it),
``thoughtsTokenCount`` is billed as output. Keys: ``qwen:<sessionId>:<uuid>`` (the line's own
id), so a re-read file or a resumed session's copy of a line is stored once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import (
    Record,
    line_objects,
    project_name,
    provider_of,
    text,
    whole,
)
from spendtray.importers.source import FileJob, LogSource, env_or
from spendtray.ingest.event import DEFAULT_PROJECT, EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

QWEN_CODE = "qwen-code"
_MARKS = (b'"usageMetadata"',)


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$QWEN_DATA_DIR`` (a comma list; each a ``~/.qwen``-like folder) else ``~/.qwen``: its
    ``projects/`` (current) and ``tmp/`` (older releases) folders."""
    return [
        folder / name
        for folder in env_or(env, "QWEN_DATA_DIR", home / ".qwen")
        for name in ("projects", "tmp")
    ]


def wants(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return "chats" in parts[:-1] and path.endswith(".jsonl")


def usage_metadata_counts(usage: Any, where: str = "usageMetadata") -> TokenCounts:
    """Gemini API ``usageMetadata`` in the canonical shape."""
    if not isinstance(usage, dict):
        raise EventError(where, "must be an object")
    prompt = whole(usage.get("promptTokenCount"), f"{where}.promptTokenCount")
    output = whole(usage.get("candidatesTokenCount"), f"{where}.candidatesTokenCount")
    thoughts = whole(usage.get("thoughtsTokenCount"), f"{where}.thoughtsTokenCount")
    cached = whole(usage.get("cachedContentTokenCount"), f"{where}.cachedContentTokenCount")
    tool = whole(usage.get("toolUsePromptTokenCount"), f"{where}.toolUsePromptTokenCount")
    if cached > prompt:
        raise EventError(f"{where}.cachedContentTokenCount", "is larger than the prompt")
    return TokenCounts(
        input_tokens=prompt + tool,
        output_tokens=output + thoughts,
        cache_read_tokens=cached,
        reasoning_tokens=thoughts,
    )


class QwenParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def feed(self, lines: list[bytes], offset: int) -> None:
        stats = self.job.stats
        for here, obj in line_objects(lines, offset, _MARKS, self.job.path, stats):
            try:
                self._line(obj)
            except EventError as exc:
                stats.bad(self.job.path, here, str(exc))

    def _line(self, obj: dict[str, Any]) -> None:
        if obj.get("type") != "assistant" or obj.get("usageMetadata") is None:
            return
        self.job.stats.usage_lines += 1
        counts = usage_metadata_counts(obj["usageMetadata"])
        if counts.input_tokens == counts.output_tokens == 0:
            return
        stamp = obj.get("timestamp")
        if stamp is None:
            raise EventError("timestamp", "is missing")
        session = text(obj.get("sessionId"), "sessionId") or Path(self.job.path).stem
        line_id = text(obj.get("uuid"), "uuid") or text(obj.get("id"), "id") or str(stamp)
        model = text(obj.get("model"), "model") or "unknown"
        event = UsageEvent(
            model=model,
            provider=provider_of(model),
            counts=counts,
            timestamp=parse_timestamp(stamp, self.job.now),
            project=project_name(obj.get("cwd")) or DEFAULT_PROJECT,
            agent=QWEN_CODE,
            session=session,
            request_id=f"qwen:{session}:{line_id}",
            source=QWEN_CODE,
            raw_usage=obj["usageMetadata"],
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=QWEN_CODE,
    label="Qwen Code",
    places=places,
    wants=wants,
    parser=QwenParser,
    env=("QWEN_DATA_DIR",),
)
