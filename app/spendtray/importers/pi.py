"""pi coding agent sessions (``~/.pi/agent/sessions/<project>/<time>_<session>.jsonl``, and the
``oh-my-pi`` fork's ``~/.omp/agent/sessions``) -> usage records. Runs on the importer's thread.

Each ``type: message`` line whose ``message.role`` is ``assistant`` carries that call's
``usage``: ``input`` EXCLUDES the cache (``cacheRead`` / ``cacheWrite`` apart), ``output``, and
``cost.total``, the cost pi computed — kept as reported cost. Key: ``pi:<session>:<line id>``
(the entry's own ``id``; its timestamp when it has none), so a branch of the session tree copied
into another file is stored once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, line_objects, provider_of, text, whole
from spendtray.importers.source import FileJob, LogSource, split_paths, suffix
from spendtray.ingest.event import (
    DEFAULT_PROJECT,
    EventError,
    UsageEvent,
    parse_timestamp,
    parse_usd,
)
from spendtray.prices.calc import TokenCounts

PI = "pi"
_MARKS = (b'"usage"',)


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$PI_AGENT_DIR`` (a comma list of session folders) else ``~/.pi/agent/sessions`` and
    ``~/.omp/agent/sessions``."""
    configured = env.get("PI_AGENT_DIR", "").strip()
    if configured:
        return split_paths(configured)
    return [home / ".pi" / "agent" / "sessions", home / ".omp" / "agent" / "sessions"]


def _session_and_project(path: str) -> tuple[str, str]:
    file = Path(path)
    stem = file.stem
    session = stem.split("_", 1)[1] if "_" in stem else stem
    parts = file.parts
    project = DEFAULT_PROJECT
    if "sessions" in parts[:-1]:
        index = len(parts) - 1 - parts[::-1].index("sessions")
        if index + 1 < len(parts) - 1:
            project = parts[index + 1].strip("-").rsplit("-", 1)[-1] or DEFAULT_PROJECT
    return session, project


class PiParser:
    """pi's line format; OpenClaw (built on pi) reuses it with its own names."""

    source = PI
    marks: tuple[bytes, ...] = _MARKS

    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []
        self.session, self.project = _session_and_project(job.path)
        self.agent = self.source

    def model_hint(self) -> str | None:
        return None

    def feed(self, lines: list[bytes], offset: int) -> None:
        stats = self.job.stats
        for here, obj in line_objects(lines, offset, self.marks, self.job.path, stats):
            try:
                self._line(obj)
            except EventError as exc:
                stats.bad(self.job.path, here, str(exc))

    def _line(self, obj: dict[str, Any]) -> None:
        message = obj.get("message")
        if obj.get("type", "message") != "message" or not isinstance(message, dict):
            return
        usage = message.get("usage")
        if message.get("role") != "assistant" or not isinstance(usage, dict):
            return
        self.job.stats.usage_lines += 1
        fresh = whole(usage.get("input"), "usage.input")
        output = whole(usage.get("output"), "usage.output")
        read = whole(usage.get("cacheRead"), "usage.cacheRead")
        write = whole(usage.get("cacheWrite"), "usage.cacheWrite")
        if fresh + output + read + write == 0:
            return
        stamp = obj.get("timestamp")
        if stamp is None:
            raise EventError("timestamp", "is missing")
        model = (
            text(message.get("modelId"), "message.modelId")
            or text(message.get("model"), "message.model")
            or self.model_hint()
            or "unknown"
        )
        cost = usage.get("cost")
        total = cost.get("total") if isinstance(cost, dict) else None
        line_id = text(obj.get("id"), "id") or str(stamp)
        provider = text(message.get("provider"), "message.provider")
        event = UsageEvent(
            model=model,
            provider=provider_of(model, provider or "unknown"),
            counts=TokenCounts(
                input_tokens=fresh + read + write,
                output_tokens=output,
                cache_read_tokens=read,
                cache_write_tokens=write,
            ),
            timestamp=parse_timestamp(stamp, self.job.now),
            project=self.project,
            agent=self.agent,
            session=self.session,
            request_id=f"{self.source}:{self.session}:{line_id}",
            source=self.source,
            reported_cost_nanos=(
                parse_usd(total, "usage.cost.total")
                if isinstance(total, int | float) and not isinstance(total, bool) and total > 0
                else None
            ),
            raw_usage=usage,
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=PI,
    label="pi",
    places=places,
    wants=suffix(".jsonl"),
    parser=PiParser,
    env=("PI_AGENT_DIR",),
)
