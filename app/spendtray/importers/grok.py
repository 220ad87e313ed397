"""Grok Build CLI sessions (``~/.grok/sessions/<project>/<session>/updates.jsonl``) -> usage
records. Runs on the importer's thread.

Each model turn ends with an update line ``params.update.sessionUpdate == "turn_completed"``
whose ``usage`` holds the turn's ``inputTokens``, ``cachedReadTokens``, ``outputTokens`` and
``reasoningTokens`` (billed as output), per model in ``usage.modelUsage`` when several answered.
The cached tokens are read as apart from ``inputTokens``, as ccusage reads them. The model, when
a turn does not name one, is the session's ``current_model_id`` in the sibling
``summary.json``. Keys: ``grok:<_meta.eventId>:<model>`` (``grok:<session>:<timestamp>:<model>``
without an event id). A sub-agent's session sits beside its parent's and counts on its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from spendtray.importers.parsing import Record, line_objects, project_name, provider_of, text, whole
from spendtray.importers.source import FileJob, LogSource, env_or
from spendtray.ingest.event import DEFAULT_PROJECT, EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

GROK = "grok"
_MARKS = (b'"turn_completed"',)


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$GROK_HOME`` (a comma list) else ``~/.grok``: its ``sessions/``."""
    return [folder / "sessions" for folder in env_or(env, "GROK_HOME", home / ".grok")]


def _summary(folder: Path) -> tuple[str | None, str | None]:
    """(current model, working directory) from the session's summary.json, when present."""
    try:
        summary = json.loads((folder / "summary.json").read_bytes())
    except (OSError, ValueError):
        return None, None
    if not isinstance(summary, dict):
        return None, None
    info = summary.get("info") if isinstance(summary.get("info"), dict) else {}
    model = summary.get("current_model_id")
    cwd = (info or {}).get("cwd") or summary.get("git_root_dir")
    return (model if isinstance(model, str) else None), (cwd if isinstance(cwd, str) else None)


class GrokParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []
        folder = Path(job.path).parent
        self.session = folder.name
        self.model, cwd = _summary(folder)
        self.project = project_name(cwd or unquote(folder.parent.name)) or DEFAULT_PROJECT

    def feed(self, lines: list[bytes], offset: int) -> None:
        stats = self.job.stats
        for here, obj in line_objects(lines, offset, _MARKS, self.job.path, stats):
            try:
                self._line(obj)
            except EventError as exc:
                stats.bad(self.job.path, here, str(exc))

    def _line(self, obj: dict[str, Any]) -> None:
        params = obj.get("params")
        update = params.get("update") if isinstance(params, dict) else None
        if not isinstance(update, dict) or update.get("sessionUpdate") != "turn_completed":
            return
        usage = update.get("usage")
        if not isinstance(usage, dict):
            return
        assert isinstance(params, dict)
        self.job.stats.usage_lines += 1
        session = text(params.get("sessionId"), "params.sessionId") or self.session
        meta = params.get("_meta")
        event_id = text(meta.get("eventId"), "_meta.eventId") if isinstance(meta, dict) else None
        stamp = obj.get("timestamp")
        if stamp is None:
            raise EventError("timestamp", "is missing")
        per_model = usage.get("modelUsage")
        rows = (
            sorted(per_model.items())
            if isinstance(per_model, dict) and per_model
            else [(self.model or "unknown", usage)]
        )
        for model, row in rows:
            if not isinstance(row, dict):
                continue
            fresh = whole(row.get("inputTokens"), "inputTokens")
            read = whole(row.get("cachedReadTokens"), "cachedReadTokens")
            output = whole(row.get("outputTokens"), "outputTokens")
            reasoning = whole(row.get("reasoningTokens"), "reasoningTokens")
            if fresh + read + output + reasoning == 0:
                continue
            call = f"{event_id}:{model}" if event_id else f"{session}:{stamp}:{model}"
            event = UsageEvent(
                model=str(model),
                provider=provider_of(str(model), "xai"),
                counts=TokenCounts(
                    input_tokens=fresh + read,
                    output_tokens=output + reasoning,
                    cache_read_tokens=read,
                    reasoning_tokens=reasoning,
                ),
                timestamp=parse_timestamp(stamp, self.job.now),
                project=self.project,
                agent=GROK,
                session=session,
                request_id=f"grok:{call}",
                source=GROK,
                raw_usage={k: v for k, v in row.items() if k.endswith("Tokens")},
            )
            self.records.append(Record(event))


SOURCE = LogSource(
    name=GROK,
    label="Grok Build CLI",
    places=places,
    wants=lambda path: path.endswith("updates.jsonl"),
    parser=GrokParser,
    env=("GROK_HOME",),
)
