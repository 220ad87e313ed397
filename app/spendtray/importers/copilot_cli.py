"""GitHub Copilot CLI session events (``~/.copilot/session-state/<session>/events.jsonl``) -> usage
records. Runs on the importer's thread.

Each line is an event ``{"type", "data", "id", "timestamp", "parentId"}``. Where the CLI
persisted per-call ``assistant.usage`` events (``data.model``, ``inputTokens`` — the whole
prompt, ``cacheReadTokens`` and ``cacheWriteTokens`` INCLUDED, as GitHub's OpenAI-style API
counts it —, ``outputTokens``, ``cost``), each is a call,
keyed ``copilot:<session>:<event id>``. Otherwise the session's ``session.shutdown`` event
carries ``modelMetrics`` — per model, the session's ``usage`` totals — stored as one event per
session and model, keyed ``copilot:<session>:<model>:session`` (a later shutdown of a resumed
session replaces it with the bigger total) and dated at the shutdown.

Copilot CLI's OpenTelemetry export and this log share no documented call id (``call_keys``):
``spendtray sources`` says that a call sent both ways is counted twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, line_objects, provider_of, text, whole
from spendtray.importers.source import FileJob, LogSource, env_or
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

COPILOT_CLI = "copilot-cli"
_MARKS = (b'"assistant.usage"', b'"session.shutdown"', b'"session.start"')


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$COPILOT_HOME`` (a comma list) else ``~/.copilot``: its ``session-state/``."""
    return [f / "session-state" for f in env_or(env, "COPILOT_HOME", home / ".copilot")]


TELEMETRY_NOTE = (
    "if Copilot CLI also exports its OpenTelemetry to Spendtray, each call is counted twice: "
    "its telemetry (gen_ai.response.id) and events.jsonl (apiCallId) share no documented id; "
    "use one of the two"
)


def _counts(usage: dict[str, Any], where: str) -> TokenCounts:
    prompt = whole(usage.get("inputTokens"), f"{where}.inputTokens")
    read = whole(usage.get("cacheReadTokens"), f"{where}.cacheReadTokens")
    write = whole(usage.get("cacheWriteTokens"), f"{where}.cacheWriteTokens")
    if read + write > prompt:
        raise EventError(f"{where}.inputTokens", "is smaller than the cache reads and writes in it")
    return TokenCounts(
        input_tokens=prompt,
        output_tokens=whole(usage.get("outputTokens"), f"{where}.outputTokens"),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


class CopilotParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []
        ctx = job.context
        ctx.setdefault("session", Path(job.path).parent.name)
        ctx.setdefault("per_call", False)  # seen assistant.usage: shutdown totals repeat them

    def feed(self, lines: list[bytes], offset: int) -> None:
        stats = self.job.stats
        for here, obj in line_objects(lines, offset, _MARKS, self.job.path, stats):
            try:
                self._line(obj)
            except EventError as exc:
                stats.bad(self.job.path, here, str(exc))

    def _line(self, obj: dict[str, Any]) -> None:
        kind, data = obj.get("type"), obj.get("data")
        if not isinstance(data, dict):
            return
        ctx = self.job.context
        if kind == "session.start":
            ctx["session"] = text(data.get("sessionId"), "data.sessionId") or ctx["session"]
        elif kind == "assistant.usage":
            self.job.stats.usage_lines += 1
            ctx["per_call"] = True
            model = text(data.get("model"), "data.model") or "unknown"
            call = text(obj.get("id"), "id") or str(obj.get("timestamp"))
            self._add(model, _counts(data, "data"), obj.get("timestamp"), call, data)
        elif kind == "session.shutdown" and not ctx["per_call"]:
            metrics = data.get("modelMetrics")
            if not isinstance(metrics, dict):
                return
            for model, entry in metrics.items():
                usage = entry.get("usage") if isinstance(entry, dict) else None
                if not isinstance(usage, dict):
                    continue
                self.job.stats.usage_lines += 1
                counts = _counts(usage, f"modelMetrics.{model}.usage")
                self._add(str(model), counts, obj.get("timestamp"), f"{model}:session", usage)

    def _add(self, model: str, counts: TokenCounts, stamp: Any, call: str, raw: Any) -> None:
        if counts.input_tokens == counts.output_tokens == 0:
            return
        if stamp is None:
            raise EventError("timestamp", "is missing")
        session = self.job.context["session"]
        event = UsageEvent(
            model=model,
            provider=provider_of(model),
            counts=counts,
            timestamp=parse_timestamp(stamp, self.job.now),
            agent=COPILOT_CLI,
            session=session,
            request_id=f"copilot:{session}:{call}",
            source=COPILOT_CLI,
            raw_usage={k: v for k, v in raw.items() if k.endswith("Tokens")},
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=COPILOT_CLI,
    label="GitHub Copilot CLI",
    places=places,
    wants=lambda path: path.endswith("events.jsonl"),
    parser=CopilotParser,
    env=("COPILOT_HOME",),
    warnings=lambda env, home: [TELEMETRY_NOTE],
)
