"""VS Code agent extensions that keep task histories — Cline, Roo Code, Kilo Code — -> usage
records. Runs on the importer's thread.

Each task is a folder ``<VS Code user data>/User/globalStorage/<extension id>/tasks/<task id>/``;
``ui_messages.json`` (rewritten as the task runs) holds one ``say: api_req_started`` message per
model request whose ``text`` is a JSON object with ``tokensIn``, ``tokensOut``, ``cacheWrites``,
``cacheReads`` and the ``cost`` the extension computed. ``tokensIn`` EXCLUDES the cache writes
and reads (Anthropic's convention, which these extensions report for every provider), so the
canonical input is their sum. The request's usage does not name the model; it is found, in
this order, in:

- the request itself: Roo Code and Kilo Code put ``<environment_details>`` in every request's
  user message, whose ``# Current Mode`` section names it (``<slug>code</slug><name>…</name>
  <model>claude-sonnet-4-5</model>``); older releases copied that message into the
  ``api_req_started`` text's ``request``;
- Cline's ``task_metadata.json`` (``model_usage``: which model was in use from when);
- the task's ``api_conversation_history.json`` (Roo Code, Kilo Code): the user message each
  request sent (the first one stamped at or after the request's ``ts``, before the next
  request's; else the last one before it), whose environment details name the model;

else the call is stored as model ``unknown`` — unpriced, with the extension's own cost kept as
reported cost. Key: ``<source>:<task id>:<message ts>``. Sub-tasks (Roo Code's and Kilo Code's
orchestrator modes run them as separate tasks) are counted as their own tasks.

Looked for under every VS Code flavour's user-data folder (Code, Code - Insiders, VSCodium,
Cursor, Windsurf) on Linux (``$XDG_CONFIG_HOME``), macOS (``~/Library/Application Support``) and
Windows (``%APPDATA%``).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from spendtray.importers.parsing import Record, json_document, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, xdg_config
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp, parse_usd
from spendtray.prices.calc import TokenCounts

EDITORS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
UNKNOWN_MODEL = "unknown"
API_HISTORY = "api_conversation_history.json"
# The "# Current Mode" section of Roo Code's and Kilo Code's environment details.
MODE_MODEL = re.compile(
    r"<slug>[^<]*</slug>\s*<name>[^<]*</name>\s*<model>\s*([^<\s][^<]*?)\s*</model>"
)


def model_in(text: str) -> str | None:
    """The model an environment-details block names (the last one, if several)."""
    found = MODE_MODEL.findall(text)
    return found[-1] if found else None


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


def _history_models(task: Path, shared: dict[str, Any]) -> list[tuple[float, str]]:
    """(ts, model) of each stamped user message of the task's api_conversation_history.json
    that names its model, oldest first; cached per file until it changes."""
    path = task / API_HISTORY
    try:
        st = path.stat()
    except OSError:
        return []
    cache: dict[str, Any] = shared.setdefault("vscode_tasks.history", {})
    stamp = (st.st_size, st.st_mtime_ns)
    hit = cache.get(str(path))
    if hit is not None and hit[0] == stamp:
        found: list[tuple[float, str]] = hit[1]
        return found
    found = []
    try:
        messages = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        messages = None
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        ts = message.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, int | float):
            continue
        model = model_in(_text_of(message.get("content")))
        if model is not None:
            found.append((float(ts), model))
    found.sort()
    cache[str(path)] = (stamp, found)
    return found


def _text_of(content: Any) -> str:
    """The text of a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        block["text"]
        for block in content
        if isinstance(block, dict) and isinstance(block.get("text"), str)
    )


def _sent_with(ts: float, next_ts: float | None, sent: list[tuple[float, str]]) -> str | None:
    """The model of the user message the request at ``ts`` sent: the first stamped at or after
    it and before the next request, else the last one stamped before it."""
    stamps = [when for when, _ in sent]
    at = bisect.bisect_left(stamps, ts)
    if at < len(sent) and (next_ts is None or sent[at][0] < next_ts):
        return sent[at][1]
    return sent[at - 1][1] if at > 0 else None


class TaskParser:
    """One task's ``ui_messages.json``."""

    def __init__(self, job: FileJob, source: str) -> None:
        self.job = job
        self.source = source
        self.records: list[Record] = []
        self._task = Path(job.path).parent
        self._sent: list[tuple[float, str]] | None = None  # api history, read when first needed

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        messages = json_document(data, self.job.path, stats, list)
        if messages is None:
            return
        task = self._task
        models = _model_usage(task)
        stats.lines += len(messages)
        starts = [
            (index, m)
            for index, m in enumerate(messages)
            if isinstance(m, dict) and m.get("say") == "api_req_started"
        ]
        following: list[float | None] = []  # each request's next request's ts
        later: float | None = None
        for _, m in reversed(starts):
            following.append(later)
            ts = m.get("ts")
            if isinstance(ts, int | float) and not isinstance(ts, bool):
                later = float(ts)
        following.reverse()
        for (index, message), next_ts in zip(starts, following, strict=True):
            try:
                self._request(task.name, message, models, next_ts)
            except EventError as exc:
                stats.bad(self.job.path, 0, f"[{index}] (ts {message.get('ts')}): {exc}")

    def _model(
        self,
        ts: float,
        next_ts: float | None,
        info: dict[str, Any],
        models: list[tuple[float, str, str | None]],
    ) -> tuple[str, str | None]:
        """The model and provider that answered the request at ``ts`` (see the module doc)."""
        request = info.get("request")
        named = model_in(request) if isinstance(request, str) else None
        if named is not None:
            return named, None
        if models:
            found = models[0][1], models[0][2]
            for since, name, prov in models:
                if since <= ts:
                    found = name, prov
            return found
        if self._sent is None:
            self._sent = _history_models(self._task, self.job.shared)
        sent = _sent_with(ts, next_ts, self._sent)
        return (sent, None) if sent is not None else (UNKNOWN_MODEL, None)

    def _request(
        self,
        task: str,
        message: dict[str, Any],
        models: list[tuple[float, str, str | None]],
        next_ts: float | None,
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
        if isinstance(ts, bool) or not isinstance(ts, int | float):
            raise EventError("ts", "must be epoch milliseconds")
        model, provider = self._model(float(ts), next_ts, info, models)
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
