"""Kimi CLI / Kimi Code wire logs (``~/.kimi/sessions/<group>/<session>/wire.jsonl``; Kimi Code:
``~/.kimi-code/sessions/<workspace>/<session>/agents/<agent>/wire.jsonl``) -> usage records.
Runs on the importer's thread.

Kimi CLI writes a ``StatusUpdate`` message per model call with ``payload.token_usage``
(``input_other`` — input WITHOUT the cache —, ``input_cache_creation``, ``input_cache_read``,
``output``) and epoch-seconds ``timestamp``; the model is the one in ``<kimi home>/config.json``
(``kimi-for-coding`` when it names none). Kimi Code writes ``type: usage.record`` lines with the
same counts in camelCase, ``model`` and epoch-ms ``time``; only ``usageScope: turn`` records are
calls (``session`` records are running totals). Keys: ``kimi:<session>:<message id>`` (Kimi CLI)
and ``kimi:<session>:<agent>:<time>`` (Kimi Code). A Kimi Code sub-agent's log is stored with
``agent`` = ``kimi/<agent>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, line_objects, provider_of, text, whole
from spendtray.importers.source import FileJob, LogSource, split_paths
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

KIMI = "kimi"
DEFAULT_MODEL = "kimi-for-coding"
MAIN_AGENTS = ("main", "root", "default")
_MARKS = (b'"token_usage"', b'"usage.record"')


def _homes(env: Mapping[str, str], home: Path) -> list[Path]:
    configured = env.get("KIMI_DATA_DIR", "").strip()
    return split_paths(configured) if configured else [home / ".kimi", home / ".kimi-code"]


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$KIMI_DATA_DIR`` (a comma list) else ``~/.kimi`` and ``~/.kimi-code``: ``sessions/``."""
    return [folder / "sessions" for folder in _homes(env, home)]


def _layout(path: str) -> tuple[Path, str, str | None]:
    """(Kimi home, session id, sub-agent name or None) from a wire.jsonl path."""
    file = Path(path)
    if file.parent.parent.name == "agents":
        session_dir, agent = file.parent.parent.parent, file.parent.name
    else:
        session_dir, agent = file.parent, None
    return session_dir.parent.parent.parent, session_dir.name, agent


def _config_model(kimi_home: Path) -> str:
    try:
        config = json.loads((kimi_home / "config.json").read_bytes())
    except (OSError, ValueError):
        return DEFAULT_MODEL
    model = config.get("model") if isinstance(config, dict) else None
    return model.strip() if isinstance(model, str) and model.strip() else DEFAULT_MODEL


class KimiParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []
        kimi_home, self.session, agent = _layout(job.path)
        self.agent = f"{KIMI}/{agent}" if agent and agent not in MAIN_AGENTS else KIMI
        self.model = job.context.setdefault("model", _config_model(kimi_home))

    def feed(self, lines: list[bytes], offset: int) -> None:
        stats = self.job.stats
        for here, obj in line_objects(lines, offset, _MARKS, self.job.path, stats):
            try:
                self._line(obj)
            except EventError as exc:
                stats.bad(self.job.path, here, str(exc))

    def _line(self, obj: dict[str, Any]) -> None:
        if obj.get("type") == "usage.record":
            if obj.get("usageScope") != "turn":
                return
            usage, names = obj.get("usage"), ("inputOther", "inputCacheCreation",
                                              "inputCacheRead", "output")  # fmt: skip
            model = text(obj.get("model"), "model") or DEFAULT_MODEL
            model = model.removeprefix("kimi-code/")
            stamp, call = obj.get("time"), f"{self.agent}:{obj.get('time')}"
        else:
            message = obj.get("message")
            if not isinstance(message, dict) or message.get("type") != "StatusUpdate":
                return
            payload = message.get("payload")
            if not isinstance(payload, dict) or payload.get("token_usage") is None:
                return
            usage = payload["token_usage"]
            names = ("input_other", "input_cache_creation", "input_cache_read", "output")
            model, stamp = self.model, obj.get("timestamp")
            call = text(payload.get("message_id"), "message_id") or str(stamp)
        if not isinstance(usage, dict):
            raise EventError("usage", "must be an object")
        self.job.stats.usage_lines += 1
        fresh, write, read, output = (whole(usage.get(n), n) for n in names)
        if fresh + write + read + output == 0:
            return
        if stamp is None:
            raise EventError("timestamp", "is missing")
        event = UsageEvent(
            model=model,
            provider=provider_of(model, "moonshot"),
            counts=TokenCounts(
                input_tokens=fresh + write + read,
                output_tokens=output,
                cache_read_tokens=read,
                cache_write_tokens=write,
            ),
            timestamp=parse_timestamp(stamp, self.job.now),
            agent=self.agent,
            session=self.session,
            request_id=f"kimi:{self.session}:{call}",
            source=KIMI,
            raw_usage=usage,
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=KIMI,
    label="Kimi CLI / Kimi Code",
    places=places,
    wants=lambda path: path.endswith("wire.jsonl"),
    parser=KimiParser,
    env=("KIMI_DATA_DIR",),
)
