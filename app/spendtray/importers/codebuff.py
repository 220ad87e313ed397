"""Codebuff chats (``~/.config/manicode/projects/<project>/chats/<chat>/chat-messages.json``) ->
usage records. Runs on the importer's thread.

Codebuff rewrites each chat's ``chat-messages.json`` (a JSON array). An assistant message's
``metadata.usage`` holds that reply's ``inputTokens`` (without the cache),
``cacheCreationInputTokens``, ``cacheReadInputTokens`` and ``outputTokens``, its
``metadata.model`` the model; the message's ``credits`` (Codebuff's own billing unit, not
dollars) are kept in the event's tags. Key: ``codebuff:<message id>``. Older chats that carry
usage only inside the agent's saved run state are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, json_document, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, split_paths, xdg_config
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

CODEBUFF = "codebuff"


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$CODEBUFF_DATA_DIR`` (a comma list) else ``$XDG_CONFIG_HOME/manicode`` (and the dev
    channel's ``manicode-dev``): their ``projects/``."""
    configured = env.get("CODEBUFF_DATA_DIR", "").strip()
    homes = (
        split_paths(configured)
        if configured
        else [xdg_config(env, home) / "manicode", xdg_config(env, home) / "manicode-dev"]
    )
    return [folder / "projects" for folder in homes]


class CodebuffParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []
        folder = Path(job.path).parent
        self.session = folder.name
        self.project = folder.parent.parent.name if folder.parent.name == "chats" else "default"

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        messages = json_document(data, self.job.path, stats, list)
        if messages is None:
            return
        stats.lines += len(messages)
        for index, message in enumerate(messages):
            if isinstance(message, dict) and message.get("role") == "assistant":
                try:
                    self._message(message)
                except EventError as exc:
                    stats.bad(self.job.path, 0, f"[{index}]: {exc}")

    def _message(self, message: dict[str, Any]) -> None:
        meta = message.get("metadata")
        usage = meta.get("usage") if isinstance(meta, dict) else None
        if not isinstance(usage, dict):
            return
        assert isinstance(meta, dict)
        self.job.stats.usage_lines += 1
        fresh = whole(usage.get("inputTokens"), "usage.inputTokens")
        write = whole(usage.get("cacheCreationInputTokens"), "usage.cacheCreationInputTokens")
        read = whole(usage.get("cacheReadInputTokens"), "usage.cacheReadInputTokens")
        output = whole(usage.get("outputTokens"), "usage.outputTokens")
        if fresh + write + read + output == 0:
            return
        stamp = message.get("timestamp")
        if stamp is None:
            raise EventError("timestamp", "is missing")
        model = text(meta.get("model"), "metadata.model") or "unknown"
        message_id = text(message.get("id"), "id") or f"{self.session}:{stamp}"
        credits = message.get("credits")
        event = UsageEvent(
            model=model,
            provider=provider_of(model),
            counts=TokenCounts(
                input_tokens=fresh + write + read,
                output_tokens=output,
                cache_read_tokens=read,
                cache_write_tokens=write,
            ),
            timestamp=parse_timestamp(stamp, self.job.now),
            project=self.project,
            agent=CODEBUFF,
            session=self.session,
            request_id=f"codebuff:{message_id}",
            source=CODEBUFF,
            tags=(
                {"credits": credits}
                if isinstance(credits, int | float) and not isinstance(credits, bool)
                else None
            ),
            raw_usage=usage,
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=CODEBUFF,
    label="Codebuff",
    places=places,
    wants=lambda path: path.endswith("chat-messages.json"),
    parser=CodebuffParser,
    mode=DOCUMENT,
    env=("CODEBUFF_DATA_DIR", "XDG_CONFIG_HOME"),
)
