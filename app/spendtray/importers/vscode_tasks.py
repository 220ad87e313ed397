"""VS Code agent extensions that keep task histories — Cline, Roo Code, Kilo Code — -> usage
records. Runs on the importer's thread.

Each task is a folder ``<VS Code user data>/User/globalStorage/<extension id>/tasks/<task id>/``;
``ui_messages.json`` (rewritten as the task runs) holds one ``say: api_req_started`` message per
model request whose ``text`` is a JSON object with ``tokensIn``, ``tokensOut``, ``cacheWrites``,
``cacheReads`` and the ``cost`` the extension computed. ``tokensIn`` EXCLUDES the cache writes
and reads (Anthropic's convention, which these extensions report for every provider), so the
canonical input is their sum. The model is not in that file: it comes from the task's
``task_metadata.json`` (``model_usage``: which model was in use from when) when present; else
the call is stored as model ``unknown`` — unpriced, with the extension's own cost kept as
reported cost. Key: ``<source>:<task id>:<message ts>``. Sub-tasks (Roo Code's and Kilo Code's
orchestrator modes run them as separate tasks) are counted as their own tasks.

Looked for under every VS Code flavour's user-data folder (Code, Code - Insiders, VSCodium,
Cursor, Windsurf) on Linux (``$XDG_CONFIG_HOME``), macOS (``~/Library/Application Support``) and
Windows (``%APPDATA%``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, xdg_config
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp, parse_usd
from spendtray.prices.calc import TokenCounts

EDITORS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
UNKNOWN_MODEL = "unknown"


def _user_data(env: Mapping[str, str], home: Path) -> list[Path]:
    roots = [xdg_config(env, home), home / "Library" / "Application Support"]
    appdata = env.get("APPDATA", "").strip()
    if appdata:
        roots.append(Path(appdata))
    return [root / editor for root in roots for editor in EDITORS]


def _places(extension: str) -> Any:
    def places(env: Mapping[str, str], home: Path) -> list[Path]:
        return [
            folder / "User" / "globalStorage" / extension / "tasks"
            for folder in _user_data(env, home)
        ]

    return places


def _model_usage(task: Path) -> list[tuple[float, str, str | None]]:
    """(from ts in ms, model, provider) from the task's task_metadata.json, oldest first."""
    try:
        meta = json.loads((task / "task_metadata.json").read_bytes())
    except (OSError, ValueError):
        return []
    found: list[tuple[float, str, str | None]] = []
    for entry in meta.get("model_usage") or [] if isinstance(meta, dict) else []:
        if not isinstance(entry, dict):
            continue
        model, ts = entry.get("model_id"), entry.get("ts")
        if isinstance(model, str) and model.strip() and isinstance(ts, int | float):
            provider = entry.get("model_provider_id")
            found.append(
                (float(ts), model.strip(), provider if isinstance(provider, str) else None)
            )
    return sorted(found)


class TaskParser:
    """One task's ``ui_messages.json``."""

    def __init__(self, job: FileJob, source: str) -> None:
        self.job = job
        self.source = source
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        try:
            messages = json.loads(data)
        except ValueError as exc:
            stats.bad(self.job.path, 0, f"not valid JSON ({exc})")
            return
        if not isinstance(messages, list):
            stats.bad(self.job.path, 0, "not a JSON array of messages")
            return
        task = Path(self.job.path).parent
        models = _model_usage(task)
        stats.lines += len(messages)
        for index, message in enumerate(messages):
            if isinstance(message, dict) and message.get("say") == "api_req_started":
                try:
                    self._request(task.name, message, models)
                except EventError as exc:
                    stats.bad(self.job.path, 0, f"[{index}] (ts {message.get('ts')}): {exc}")

    def _request(
        self, task: str, message: dict[str, Any], models: list[tuple[float, str, str | None]]
    ) -> None:
        try:
            info = json.loads(message.get("text") or "{}")
        except ValueError:
            raise EventError("text", "is not the request's JSON object") from None
        if not isinstance(info, dict) or ("tokensIn" not in info and "tokensOut" not in info):
            return  # the request has not finished yet: its usage is written later
        self.job.stats.usage_lines += 1
        fresh = whole(info.get("tokensIn"), "tokensIn")
        output = whole(info.get("tokensOut"), "tokensOut")
        write = whole(info.get("cacheWrites"), "cacheWrites")
        read = whole(info.get("cacheReads"), "cacheReads")
        if fresh + output + write + read == 0:
            return
        ts = message.get("ts")
        if ts is None:
            raise EventError("ts", "is missing")
        model, provider = UNKNOWN_MODEL, None
        for since, name, prov in models:
            if isinstance(ts, int | float) and since <= ts:
                model, provider = name, prov
        if model == UNKNOWN_MODEL and models:
            model, provider = models[0][1], models[0][2]
        cost = info.get("cost")
        event = UsageEvent(
            model=text(model, "model_id") or UNKNOWN_MODEL,
            provider=provider_of(model, provider or "unknown"),
            counts=TokenCounts(
                input_tokens=fresh + write + read,
                output_tokens=output,
                cache_read_tokens=read,
                cache_write_tokens=write,
            ),
            timestamp=parse_timestamp(ts, self.job.now, "ts"),
            agent=self.source,
            session=task,
            request_id=f"{self.source}:{task}:{ts}",
            source=self.source,
            reported_cost_nanos=(
                parse_usd(cost, "cost")
                if isinstance(cost, int | float) and not isinstance(cost, bool) and cost > 0
                else None
            ),
            tags=(
                None
                if model != UNKNOWN_MODEL
                else {"model": "the task's history does not say which model answered"}
            ),
            raw_usage={
                k: info[k]
                for k in ("tokensIn", "tokensOut", "cacheWrites", "cacheReads")
                if k in info
            },
        )
        self.records.append(Record(event))


def task_source(name: str, label: str, extension: str) -> LogSource:
    """The LogSource of one extension (``extension``: its VS Code id, lower case)."""
    return LogSource(
        name=name,
        label=label,
        places=_places(extension),
        wants=lambda path: path.endswith("ui_messages.json"),
        parser=lambda job: TaskParser(job, name),
        mode=DOCUMENT,
        env=("XDG_CONFIG_HOME", "APPDATA"),
    )
