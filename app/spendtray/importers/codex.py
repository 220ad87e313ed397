"""Codex CLI rollouts (``sessions/YYYY/MM/DD/rollout-*.jsonl``) -> usage records. Runs on the
importer's thread.

Usage comes from ``event_msg`` / ``token_count`` lines. Their ``total_token_usage`` is a running
total for the session, so each call's usage is the difference from the previous total: a
re-emitted line with the same totals adds nothing. Codex counts like OpenAI: ``input_tokens``
includes ``cached_input_tokens`` and ``output_tokens`` includes ``reasoning_output_tokens``.
The model is the one named by the latest ``turn_context`` line.

A forked session's file starts with its own ``session_meta``, then a copy of the parent's
(``session_meta`` included) and of its ``token_count`` history, re-stamped with the fork's
creation time. Each record is keyed by the session whose ``session_meta`` was last seen plus its
running total, so the copy gets the very keys the parent's own file produced and is stored once;
when the parent's file is gone the copy is the only one and still counted once. Copied calls are
dated by their turn's own ``task_started.started_at`` (not the fork's time) when the log has it.
The fork's own turns begin at the first ``task_started`` that started at or after the fork was
created: from there records are keyed by the fork's own session again, so two forks of one
parent never share keys for their own calls. A rollout with no ``session_meta`` at all (some
branch copies) keys its calls by their timestamp and running total, which the copy shares with
the original. Sub-agent rollouts (``session_meta.source = {"subagent": ...}``) are stored with
``agent`` = ``codex/<sub-agent>``. The running state survives between incremental reads in the
file's ``context``.

``rate_limits`` on ``event_msg`` lines (the subscription's windows) become ``self.limits``
(``limits.codex_rate_limits``), except inside a copy of an ancestor's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import ParseStats, Record, json_lines, text
from spendtray.importers.source import FileJob, LogSource, split_paths, suffix
from spendtray.ingest.call_keys import codex_call_key
from spendtray.ingest.event import (
    DEFAULT_PROJECT,
    MAX_TEXT,
    EventError,
    UsageEvent,
    parse_timestamp,
)
from spendtray.limits.codex_rate_limits import codex_observations
from spendtray.limits.model import Observation
from spendtray.prices.calc import TokenCounts

# Skips json.loads' per-call encoding sniffing: transcripts are UTF-8.
_MARKS = (
    b'"token_count"',
    b'"turn_context"',
    b'"session_meta"',
    b'"task_started"',
    b'"rate_limits"',
)
TOTAL_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
)
UNKNOWN_MODEL = "unknown"
CODEX = "codex"
AGENT = "codex"


def _count(usage: dict[str, Any], key: str, where: str) -> int:
    value = usage.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EventError(f"{where}.{key}", f"must be a whole number ≥ 0, got {value!r}")
    return value


def _totals(usage: Any, where: str) -> list[int]:
    if not isinstance(usage, dict):
        raise EventError(where, "must be an object")
    return [_count(usage, key, where) for key in TOTAL_FIELDS]


def _project(cwd: Any) -> str | None:
    if not isinstance(cwd, str) or not cwd.strip("/\\ "):
        return None
    name = Path(cwd.rstrip("/\\")).name
    return name if name and len(name) <= MAX_TEXT and name.isprintable() else None


def _agent(source: Any) -> str:
    """``codex``, or ``codex/<name>`` for a sub-agent's rollout: ``{"subagent": "review"}``,
    ``{"subagent": {"other": "guardian"}}``, or ``{"subagent": {"thread_spawn": {...}}}``
    named by its ``agent_role`` when it has one (``worker``), else ``thread_spawn``."""
    if isinstance(source, dict):
        sub = source.get("subagent")
        if isinstance(sub, dict) and sub:
            kind, detail = next(iter(sub.items()))
            if isinstance(detail, dict):
                detail = detail.get("agent_role")
            sub = detail if isinstance(detail, str) and detail.strip() else kind
        if isinstance(sub, str) and sub.strip() and sub.isprintable():
            return f"{AGENT}/{sub.strip()[:64]}"
    return AGENT


class CodexParser:
    """Parses lines of one rollout file; ``context`` is its persisted running state."""

    def __init__(
        self, path: str, context: dict[str, Any], stats: ParseStats, now: dt.datetime
    ) -> None:
        self.path = path
        self.context = context
        self.stats = stats
        self.now = now
        self.records: list[Record] = []
        self.limits: list[Observation] = []  # subscription windows (limits.codex_rate_limits)
        context.setdefault("own_session", None)
        context.setdefault("session", None)
        context.setdefault("own_agent", AGENT)
        context.setdefault("agent", AGENT)
        context.setdefault("fork_start", None)  # epoch seconds the fork was created, if forked
        context.setdefault("replay", False)  # inside a copy of an ancestor's history
        context.setdefault("turn_start", None)  # the latest task_started.started_at
        context.setdefault("model", None)
        context.setdefault("project", None)
        context.setdefault("totals", [0] * len(TOTAL_FIELDS))

    def feed(self, lines: list[bytes], offset: int) -> None:
        stats = self.stats
        for here, obj in json_lines(lines, offset, _MARKS, self.path, stats):
            try:
                self._line(obj)
            except EventError as exc:
                stats.bad(self.path, here, str(exc))

    def _line(self, obj: Any) -> None:
        if not isinstance(obj, dict):
            raise EventError("(line)", "is not a JSON object")
        kind = obj.get("type")
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            return
        ctx = self.context
        if kind == "session_meta":
            self._session_meta(obj, payload)
        elif kind == "turn_context":
            ctx["model"] = text(payload.get("model"), "payload.model") or ctx["model"]
            ctx["project"] = _project(payload.get("cwd")) or ctx["project"]
        elif kind == "event_msg" and payload.get("type") == "task_started":
            self._task_started(payload)
        if kind == "event_msg" and "rate_limits" in payload and not ctx["replay"]:
            self._rate_limits(obj, payload["rate_limits"])
        if kind == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            if info is None:
                return  # rate-limit-only update, no usage
            if not isinstance(info, dict):
                raise EventError("payload.info", "must be an object")
            self._usage(obj, info)

    def _rate_limits(self, obj: dict[str, Any], rate_limits: Any) -> None:
        # A bad window is skipped, not counted as a malformed line: the line's usage is fine.
        seen = parse_timestamp(obj.get("timestamp"), self.now)
        self.limits.extend(codex_observations(rate_limits, int(seen.timestamp() * 1000)))

    def _namespace(self, obj: dict[str, Any]) -> str:
        """Whose running total this is: the session last named, else the line's own time."""
        session = self.context["session"]
        return session if session else f"~{obj.get('timestamp')}"

    def _session_meta(self, obj: dict[str, Any], payload: dict[str, Any]) -> None:
        ctx = self.context
        session = text(payload.get("id"), "payload.id")
        agent = _agent(payload.get("source"))
        if ctx["own_session"] is None:
            ctx["own_session"] = session or ""
            ctx["own_agent"] = agent
            if payload.get("forked_from_id") and obj.get("timestamp") is not None:
                ctx["fork_start"] = parse_timestamp(obj["timestamp"], self.now).timestamp()
        if session:
            ctx["session"] = session
            ctx["replay"] = session != ctx["own_session"]
            ctx["agent"] = agent if ctx["replay"] else ctx["own_agent"]
        ctx["project"] = _project(payload.get("cwd")) or ctx["project"]
        ctx["model"] = text(payload.get("model"), "payload.model") or ctx["model"]

    def _task_started(self, payload: dict[str, Any]) -> None:
        ctx = self.context
        started = payload.get("started_at")
        if isinstance(started, bool) or not isinstance(started, int | float):
            ctx["turn_start"] = None
            return
        ctx["turn_start"] = float(started)
        fork_start = ctx["fork_start"]
        # A turn that started once the fork existed is the fork's own (Codex re-stamps the
        # copied lines, but started_at keeps the original turn's time).
        if ctx["replay"] and fork_start is not None and started >= int(fork_start):
            ctx["replay"] = False
            ctx["session"] = ctx["own_session"] or ctx["session"]
            ctx["agent"] = ctx["own_agent"]

    def _usage(self, obj: dict[str, Any], info: dict[str, Any]) -> None:
        ctx = self.context
        self.stats.usage_lines += 1
        if info.get("total_token_usage") is not None:
            new = _totals(info["total_token_usage"], "info.total_token_usage")
            old = ctx["totals"]
            if new == old:
                self.stats.skipped_repeats += 1
                return
            # A running total that went down was restarted: everything in it is new usage.
            reset = any(n < o for n, o in zip(new, old, strict=True))
            delta = new if reset else [n - o for n, o in zip(new, old, strict=True)]
            key = f"codex:{self._namespace(obj)}:" + ":".join(str(n) for n in new)
            ctx["totals"] = new
        elif info.get("last_token_usage") is not None:
            delta = _totals(info["last_token_usage"], "info.last_token_usage")
            key = f"codex:{self._namespace(obj)}:last:{obj.get('timestamp')}:" + ":".join(
                str(n) for n in delta
            )
        else:
            raise EventError("payload.info", "has neither total_token_usage nor last_token_usage")
        if obj.get("timestamp") is None:
            raise EventError("timestamp", "is missing")
        d_input, d_cached, d_output, d_reasoning, _ = delta
        if d_input == d_cached == d_output == 0:
            self.stats.skipped_repeats += 1
            return
        if d_cached > d_input:
            raise EventError("info.total_token_usage", "cached input grew more than input")
        if d_reasoning > d_output:
            raise EventError("info.total_token_usage", "reasoning grew more than output")
        model = ctx["model"] or UNKNOWN_MODEL
        stamp = parse_timestamp(obj.get("timestamp"), self.now)
        turn_start = ctx["turn_start"]
        if ctx["replay"] and turn_start is not None and turn_start < stamp.timestamp():
            stamp = dt.datetime.fromtimestamp(turn_start, dt.UTC)  # the copied call's own turn
        session = ctx["own_session"] or ctx["session"] or Path(self.path).stem
        event = UsageEvent(
            model=model,
            provider="openai",
            counts=TokenCounts(
                input_tokens=d_input,
                output_tokens=d_output,
                cache_read_tokens=d_cached,
                reasoning_tokens=d_reasoning,
            ),
            timestamp=stamp,
            project=ctx["project"] or DEFAULT_PROJECT,
            agent=ctx["agent"],
            session=session,
            request_id=key[:MAX_TEXT],
            source=CODEX,
            tags=(
                {"model": "no turn_context named the model before this usage"}
                if model == UNKNOWN_MODEL
                else None
            ),
            raw_usage=info.get("last_token_usage")
            if isinstance(info.get("last_token_usage"), dict)
            else None,
            call_key=codex_call_key(session, d_input, d_cached, d_output, d_reasoning),
        )
        self.records.append(Record(event))


def _entries(path: Path) -> list[Path]:
    # Archived (older) sessions first: a fork's copy of its parent's history is then met after
    # the parent's own lines, and the calls keep the parent's timestamps.
    found = [path / name for name in ("archived_sessions", "sessions") if (path / name).is_dir()]
    return found or [path]


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$CODEX_HOME`` (a comma list, default ``~/.codex``): its ``archived_sessions/`` and
    ``sessions/``."""
    configured = env.get("CODEX_HOME", "").strip()
    homes = split_paths(configured) if configured else [home / ".codex"]
    return [home_dir / name for home_dir in homes for name in ("archived_sessions", "sessions")]


def _parser(job: FileJob) -> CodexParser:
    return CodexParser(job.path, job.context, job.stats, job.now)


SOURCE = LogSource(
    name=CODEX,
    label="Codex CLI",
    places=places,
    wants=suffix(".jsonl"),
    parser=_parser,
    env=("CODEX_HOME",),
    path_entries=_entries,
)
