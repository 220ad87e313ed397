"""Claude Code transcripts (``projects/<folder>/**/*.jsonl``) -> usage records. Runs on the
importer's thread.

Only assistant lines carry ``message.usage``; the rest (prompts, tool results, summaries) are
skipped before JSON parsing by a byte search, which is what keeps a 1 GB history fast. Anthropic
usage counts input WITHOUT cache tokens, so the canonical input total is input + cache writes +
cache reads (``provider_usage.anthropic_tokens``). ``<synthetic>`` lines (written by Claude Code
itself, no API call) and API-error lines are skipped; lines that cannot be read are counted as
malformed and never stop the import.

Sub-agent calls (``<session>/subagents/agent-*.jsonl``, legacy ``agent-*.jsonl`` files and
``isSidechain`` lines inline in a session) are kept with ``agent`` = ``claude-code/<type>``: the
``agentType`` of the file's ``.meta.json``, else the line's ``attributionAgent``, else
``claude-code/sub-agent``.

Each record is keyed ``cc:<message id>:<request id>`` (``cc:<message id>:`` when the request id
is missing); ``dedup.py`` merges streaming snapshots and replayed copies.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from spendtray.claude_code_projects import ProjectNames
from spendtray.importers.dedup import merge_claude, merge_within_read
from spendtray.importers.parsing import ParseStats, Record, json_block, json_lines, text
from spendtray.importers.source import FileJob, LogSource, split_paths, suffix, xdg_config
from spendtray.ingest.call_keys import claude_code_call_key
from spendtray.ingest.event import (
    FUTURE_SLACK,
    EventError,
    UsageEvent,
    parse_timestamp,
    parse_usd,
)
from spendtray.ingest.provider_usage import anthropic_tokens
from spendtray.prices.calc import TokenCounts

# Skips json.loads' per-call encoding sniffing: transcripts are UTF-8.
USAGE_MARK = b'"usage"'
CLAUDE_CODE = "claude-code"
SYNTHETIC_MODEL = "<synthetic>"
_fromisoformat = dt.datetime.fromisoformat
_NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)


def file_facts(root: Path, path: Path | str) -> tuple[str, bool]:
    """(project folder name, whether the file is a sub-agent transcript) from its location."""
    top = str(root)
    if isinstance(path, str) and path.startswith(top + os.sep) and os.sep * 2 not in path:
        # The listing's own paths: split as text (pathlib took ~10 us a file).
        parts: tuple[str, ...] = tuple(path[len(top) + 1 :].split(os.sep))
        name = parts[-1]
    else:
        path = Path(path)
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            parts = path.parts[-2:]
        name = path.name
    folder = parts[0] if len(parts) > 1 else root.name
    subagent = "subagents" in parts[:-1] or name.startswith("agent-")
    return folder, subagent


AGENT = "claude-code"
SUBAGENT = f"{AGENT}/sub-agent"


def _agent_name(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        if value and len(value) <= 64 and value.isprintable():
            return f"{AGENT}/{value}"
    return None


def subagent_type(path: str) -> str | None:
    """``claude-code/<agentType>`` from the ``.meta.json`` Claude Code writes beside a
    sub-agent transcript (2.1+), or None."""
    meta = path[: -len(".jsonl")] + ".meta.json" if path.endswith(".jsonl") else ""
    try:
        with open(meta, "rb") as handle:
            data = json.loads(handle.read(64 * 1024))
    except (OSError, ValueError):
        return None
    return _agent_name(data.get("agentType")) if isinstance(data, dict) else None


class ClaudeCodeParser:
    """Parses lines of one file; ``records`` collects what had usage."""

    def __init__(
        self,
        path: str,
        folder: str,
        subagent: bool,
        projects: ProjectNames,
        stats: ParseStats,
        now: dt.datetime,
    ) -> None:
        self.path = path
        self.folder = folder
        self.subagent = subagent
        self.projects = projects
        self.stats = stats
        self.now = now
        self.records: list[Record] = []
        self.file_agent = (subagent_type(path) or SUBAGENT) if subagent else None
        self._last: tuple[Any, ...] | None = None  # what the last record was built from
        # The last line's model, session and working folder as read, and what they gave: a
        # file is one session, in one folder, with few models.
        self._model: tuple[Any, str] = (None, "")
        self._session: tuple[Any, Any, str | None] = (None, None, None)
        self._cwd: tuple[Any, str] = (None, "")
        # Times known to pass parse_timestamp's bounds: from the earliest it accepted here
        # (none yet: the empty range) to the latest it would.
        self._earliest = _NEVER
        self._latest = now + FUTURE_SLACK

    def feed(self, lines: list[bytes], offset: int) -> None:
        """Parse ``lines``; ``offset`` is the byte position of the first one (for messages)."""
        self._objects(json_lines(lines, offset, (USAGE_MARK,), self.path, self.stats))

    def feed_block(self, block: bytes, offset: int) -> None:
        """``feed`` of ``block.split(b"\\n")`` that cuts out only the lines with usage."""
        self._objects(json_block(block, offset, USAGE_MARK, self.path, self.stats))

    def _objects(self, objects: Iterator[tuple[int, Any]]) -> None:
        stats = self.stats
        for here, obj in objects:
            try:
                record = self._record(obj)
            except EventError as exc:
                stats.bad(self.path, here, str(exc))
                continue
            if record is not None:
                self.records.append(record)
        if len(self.records) > 1:
            self.records[:], folded = merge_within_read(self.records)
            stats.folded_copies += folded

    def _record(self, obj: Any) -> Record | None:
        if not isinstance(obj, dict):
            raise EventError("(line)", "is not a JSON object")
        entry = obj
        message = obj.get("message")
        if not (isinstance(message, dict) and "usage" in message):
            # "agent progress" lines nest a whole assistant entry under data.message.
            data = obj.get("data")
            inner = data.get("message") if isinstance(data, dict) else None
            if not (isinstance(inner, dict) and isinstance(inner.get("message"), dict)):
                return None
            entry = inner
            message = inner["message"]
            if "usage" not in message:
                return None
        assert isinstance(message, dict)
        usage = message["usage"]
        if not isinstance(usage, dict):
            raise EventError("message.usage", "must be an object")
        self.stats.usage_lines += 1
        model = message.get("model")
        if model == SYNTHETIC_MODEL:
            self.stats.skipped_synthetic += 1
            return None
        # A line's own fields, else (a nested entry) the outer line's: read once when the
        # entry is the line itself, as it nearly always is.
        outer = obj if entry is not obj else None
        if entry.get("isApiErrorMessage") or (outer is not None and outer.get("isApiErrorMessage")):
            self.stats.skipped_errors += 1
            return None
        request = entry.get("requestId")
        # A streaming snapshot that repeats the record before it in every field the call is
        # keyed and measured by: the merge would keep the earlier copy and drop this one, so
        # it is counted as a duplicate without building it (its time is still checked: a bad
        # one stays a bad line). A third of a real history's usage lines are such copies.
        same = (
            message.get("id"),
            request,
            request if outer is None else outer.get("requestId"),
            model,
            entry.get("isSidechain"),
            entry.get("costUSD"),
            usage,
        )
        if same == self._last and self._last is not None:
            self._timestamp(entry.get("timestamp"))
            self.stats.repeated_copies += 1
            return None
        if model == self._model[0] and model is not None:
            model_name = self._model[1]
        else:
            name = text(model, "message.model", required=True)
            assert name is not None
            model_name = name
            self._model = (model, name)
        stamp = self._timestamp(entry.get("timestamp"))
        counts = token_counts(usage)
        message_id = _id(same[0])
        request_id = _id(request) or _id(same[2])
        sidechain = bool(same[4]) or self.subagent
        key = None
        if message_id is not None:
            key = f"cc:{message_id}:{request_id or ''}"
        elif request_id is not None:
            key = f"cc::{request_id}"
        elif _id(entry.get("uuid")) is not None:
            # Without ids the line's own uuid still keeps a re-read file from counting twice.
            key = f"cc:line:{_id(entry.get('uuid'))}"
        tier = usage.get("service_tier")
        cost = same[5]
        tags: dict[str, Any] | None = None
        agent = AGENT
        if sidechain:
            tags = {"sidechain": True}
            agent = (
                self.file_agent
                or _agent_name(
                    entry.get("attributionAgent")
                    if outer is None
                    else entry.get("attributionAgent") or outer.get("attributionAgent")
                )
                or SUBAGENT
            )
        speed = usage.get("speed")
        if isinstance(speed, str) and speed and speed != "standard":
            if tags is None:
                tags = {}
            tags["speed"] = speed[:64]
        raw_session = entry.get("sessionId")
        outer_session = raw_session if outer is None else outer.get("sessionId")
        known = self._session
        if raw_session == known[0] and outer_session == known[1] and known[2] is not None:
            session: str | None = known[2]
        else:
            session = _id(raw_session) or _id(outer_session)
            self._session = (raw_session, outer_session, session)
        cwd = entry.get("cwd") if outer is None else entry.get("cwd") or outer.get("cwd")
        if cwd == self._cwd[0] and isinstance(cwd, str):
            project = self._cwd[1]  # a folder path names one project for good (ProjectNames)
        else:
            project = self.projects.name(self.folder, cwd)
            self._cwd = (cwd, project)
        event = UsageEvent(
            model_name,
            "anthropic",
            counts,
            stamp,
            project,
            agent,
            None,  # user
            session,
            None,  # trace_id
            key,  # request_id
            tier.lower()[:64] if isinstance(tier, str) and tier else None,
            False,  # batch
            CLAUDE_CODE,
            (
                parse_usd(cost, "costUSD")
                if isinstance(cost, int | float) and not isinstance(cost, bool) and cost > 0
                else None
            ),
            None,  # latency_ms
            None,  # status
            tags,
            usage,  # raw_usage
            claude_code_call_key(
                session,
                model_name,
                counts.input_tokens,
                counts.cache_read_tokens,
                counts.cache_write_tokens,
            ),
        )
        self._last = same if message_id is not None else None
        return Record(event, message_id, request_id is not None, sidechain)

    def _timestamp(self, value: Any) -> dt.datetime:
        """``parse_timestamp`` of the line's time. Claude Code's own shape
        (``2025-08-01T12:34:56.789Z``) is read by ``fromisoformat`` alone, which takes the Z
        itself, when no earlier than a time ``parse_timestamp`` accepted in this file and no
        later than it would: 0.2 us instead of 0.7 us a line, the same datetime."""
        if type(value) is str and len(value) == 24 and value[23] == "Z":
            try:
                stamp = _fromisoformat(value)
            except ValueError:
                pass
            else:
                if self._earliest <= stamp <= self._latest:
                    return stamp
        stamp = parse_timestamp(_required(value, "timestamp"), self.now)
        self._earliest = min(self._earliest, stamp)
        return stamp


def token_counts(usage: dict[str, Any]) -> TokenCounts:
    """A line's ``message.usage`` as counts (``provider_usage.anthropic_tokens``: input is the
    total, cache writes and reads included); ``EventError`` naming a bad count."""
    tokens = anthropic_tokens(usage, "message.usage")
    write_5m = tokens.get("cache_write_5m_tokens", 0)
    write_1h = tokens.get("cache_write_1h_tokens", 0)
    cache_write = tokens["cache_write_tokens"]
    if write_5m + write_1h > cache_write:
        raise _split_too_big()
    # Positional, in TokenCounts' order: input, output, cache read, cache write, 5m, 1h.
    return TokenCounts(
        tokens["input_tokens"],
        tokens["output_tokens"],
        tokens["cache_read_tokens"],
        cache_write,
        write_5m,
        write_1h,
    )


def _split_too_big() -> EventError:
    return EventError(
        "message.usage.cache_creation",
        "the 5m + 1h split is larger than cache_creation_input_tokens",
    )


def _required(value: Any, name: str) -> Any:
    if value is None:
        raise EventError(name, "is missing")
    return value


def _id(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        if value and len(value) <= 120 and value.isprintable():
            return str(value)
    return None


def _entry(path: Path) -> Path:
    """A config folder holding ``projects/``, or the ``projects/`` folder itself."""
    if path.is_dir() and (path / "projects").is_dir():
        return path / "projects"
    return path


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$CLAUDE_CONFIG_DIR`` (a comma list) if set, else ``$XDG_CONFIG_HOME/claude/projects``
    and ``~/.claude/projects``, both."""
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        return [_entry(p) for p in split_paths(configured)]
    return [xdg_config(env, home) / "claude" / "projects", home / ".claude" / "projects"]


def retention_warnings(env: Mapping[str, str], home: Path) -> list[str]:
    """Claude Code deletes transcripts older than ``cleanupPeriodDays`` (default 30) at start."""
    days: Any = 30
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    folders = split_paths(configured) if configured else [home / ".claude"]
    for folder in folders:
        try:
            settings = json.loads((folder / "settings.json").read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(settings, dict) and "cleanupPeriodDays" in settings:
            days = settings["cleanupPeriodDays"]
            break
    if isinstance(days, int) and not isinstance(days, bool) and days >= 3650:
        return []
    return [
        f"Claude Code deletes transcripts older than {days} days (cleanupPeriodDays in "
        "~/.claude/settings.json); keep Spendtray importing (the app follows the logs) or "
        'raise it, e.g. "cleanupPeriodDays": 3650'
    ]


def _parser(job: FileJob) -> ClaudeCodeParser:
    folder, subagent = file_facts(job.root, job.path)
    projects = job.shared.setdefault("projects", ProjectNames())
    return ClaudeCodeParser(job.path, folder, subagent, projects, job.stats, job.now)


SOURCE = LogSource(
    name=CLAUDE_CODE,
    label="Claude Code",
    places=places,
    wants=suffix(".jsonl"),
    parser=_parser,
    env=("CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME"),
    path_entries=lambda path: [_entry(path)],
    warnings=retention_warnings,
    merge=merge_claude,
)
