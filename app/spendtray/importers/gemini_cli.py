"""Gemini CLI chat recordings (``~/.gemini/tmp/<project hash>/chats/``) -> usage records. Runs on
the importer's thread.

Two shapes: ``session-*.json`` (≤ 0.39), one JSON document the CLI rewrites after every turn,
with ``messages``; and ``*.jsonl`` (≥ 0.40), a header line (``sessionId``, ``kind``,
``directories``), one line per message, ``{"$set": …}`` updates and ``{"$rewindTo": id}``
markers, appended. A message of ``type`` ``gemini`` carries ``tokens``: ``input`` is Gemini's
``promptTokenCount`` and INCLUDES ``cached`` (so the canonical input is input + ``tool``, the
tool-use prompt, and cache reads are ``cached``); ``thoughts`` are billed as output. When a
log's ``total`` shows the cached tokens were counted apart (total = input + output + thoughts +
tool + cached), they are added to the input instead. A rewound message was still a call that
was paid for: it stays counted.

Keys: ``gemini:<sessionId>:<message id>`` — a message rewritten later (the same id) or the same
session re-read replaces, never adds. Sub-agent sessions (header ``kind: subagent``) are stored
with ``agent`` = ``gemini-cli/sub-agent``. The call key (``ingest.call_keys``) matches the same
call sent as Gemini CLI's telemetry: the CLI's session — for a sub-agent's recording, the parent
session its folder is named after, which the telemetry names — and the logged counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import (
    Record,
    json_document,
    line_objects,
    project_name,
    provider_of,
    text,
    whole,
)
from spendtray.importers.source import FileJob, LogSource, env_or
from spendtray.ingest.call_keys import gemini_call_key
from spendtray.ingest.event import DEFAULT_PROJECT, EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

GEMINI_CLI = "gemini-cli"
AGENT = "gemini-cli"
_MARKS = (b'"tokens"', b'"sessionId"', b'"kind"')


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$GEMINI_DATA_DIR`` (a comma list) else ``~/.gemini/tmp``."""
    return env_or(env, "GEMINI_DATA_DIR", home / ".gemini" / "tmp")


def wants(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return "chats" in parts[:-1] and path.endswith((".json", ".jsonl"))


def gemini_counts(tokens: Any, where: str = "tokens") -> TokenCounts:
    """A Gemini CLI ``tokens`` object in the canonical shape (see the module docstring)."""
    if not isinstance(tokens, dict):
        raise EventError(where, "must be an object")
    prompt = whole(tokens.get("input"), f"{where}.input")
    output = whole(tokens.get("output"), f"{where}.output")
    cached = whole(tokens.get("cached"), f"{where}.cached")
    thoughts = whole(tokens.get("thoughts"), f"{where}.thoughts")
    tool = whole(tokens.get("tool"), f"{where}.tool")
    total = tokens.get("total")
    apart = cached > 0 and total == prompt + output + thoughts + tool + cached
    if not apart and cached > prompt:
        raise EventError(f"{where}.cached", "is larger than input, which includes it")
    return TokenCounts(
        input_tokens=prompt + tool + (cached if apart else 0),
        output_tokens=output + thoughts,
        cache_read_tokens=cached,
        reasoning_tokens=thoughts,
    )


class GeminiParser:
    """One chat file; ``context`` keeps the JSONL header's facts between reads."""

    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []
        ctx = job.context
        ctx.setdefault("session", Path(job.path).stem)
        ctx.setdefault("project", None)
        ctx.setdefault("model", None)
        # chats/<parent session>/<sub-agent session>.jsonl
        nested = "/" in job.path.replace("\\", "/").split("/chats/", 1)[-1]
        ctx.setdefault("subagent", nested)
        # the session the CLI's telemetry names: for a nested sub-agent file, its parent's
        self.parent_session = Path(job.path).parent.name if nested else None

    def feed(self, lines: list[bytes], offset: int) -> None:
        stats = self.job.stats
        for here, obj in line_objects(lines, offset, _MARKS, self.job.path, stats):
            try:
                self._line(obj)
            except EventError as exc:
                stats.bad(self.job.path, here, str(exc))
        self._one_copy_each()

    def _one_copy_each(self) -> None:
        """The JSONL appends a message again as it grows (after its tool calls): of the copies
        read together, only the biggest is a call. Stored, an earlier copy would take the
        telemetry's place by its request id before the call key could match the final one."""
        best: dict[object, Record] = {}
        for record in self.records:
            key: object = record.event.request_id or id(record)
            known = best.get(key)
            if known is None or record.event.total_tokens >= known.event.total_tokens:
                best[key] = record
        if len(best) < len(self.records):
            self.records[:] = list(best.values())

    def document(self, data: bytes) -> None:
        obj = json_document(data, self.job.path, self.job.stats, dict)
        if obj is None:
            return
        self._header(obj)
        messages = obj.get("messages")
        if not isinstance(messages, list):
            return
        self.job.stats.lines += len(messages)
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                continue
            try:
                self._message(message)
            except EventError as exc:
                self.job.stats.bad(self.job.path, 0, f"messages[{index}]: {exc}")

    def _header(self, obj: dict[str, Any]) -> None:
        ctx = self.job.context
        ctx["session"] = text(obj.get("sessionId"), "sessionId") or ctx["session"]
        model = obj.get("model")
        meta = obj.get("meta")
        if model is None and isinstance(meta, dict):
            model = meta.get("model")
        ctx["model"] = text(model, "model") or ctx["model"]
        folders = obj.get("directories")
        if isinstance(folders, list) and folders:
            ctx["project"] = project_name(folders[0]) or ctx["project"]
        if obj.get("kind") == "subagent":
            ctx["subagent"] = True

    def _line(self, obj: dict[str, Any]) -> None:
        if "sessionId" in obj and "type" not in obj:
            self._header(obj)
        elif obj.get("type") == "gemini":
            self._message(obj)

    def _message(self, message: dict[str, Any]) -> None:
        if message.get("type") != "gemini" or message.get("tokens") is None:
            return
        ctx = self.job.context
        self.job.stats.usage_lines += 1
        counts = gemini_counts(message.get("tokens"))
        if counts.input_tokens == counts.output_tokens == 0:
            return
        model = text(message.get("model"), "model") or ctx["model"] or "unknown"
        message_id = text(message.get("id"), "id")
        stamp = message.get("timestamp")
        if stamp is None:
            raise EventError("timestamp", "is missing")
        key = f"gemini:{ctx['session']}:{message_id or stamp}"
        tokens = message["tokens"]
        event = UsageEvent(
            model=model,
            provider=provider_of(model, "google"),
            counts=counts,
            timestamp=parse_timestamp(stamp, self.job.now),
            project=ctx["project"] or DEFAULT_PROJECT,
            agent=f"{AGENT}/sub-agent" if ctx["subagent"] else AGENT,
            session=ctx["session"],
            request_id=key,
            source=GEMINI_CLI,
            raw_usage=tokens,
            call_key=gemini_call_key(
                self.parent_session or ctx["session"],
                tokens.get("input") or 0,
                tokens.get("output") or 0,
                tokens.get("cached") or 0,
                tokens.get("thoughts") or 0,
                tokens.get("tool") or 0,
            ),
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=GEMINI_CLI,
    label="Gemini CLI",
    places=places,
    wants=wants,
    parser=GeminiParser,
    documents=lambda path: path.endswith(".json"),
    env=("GEMINI_DATA_DIR",),
)
