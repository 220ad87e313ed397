"""Kilo CLI (``kilo``, an OpenCode fork) messages (``~/.local/share/kilo/kilo.db``, SQLite) ->
usage records. Runs on the importer's thread.

Kilo keeps OpenCode's message documents as JSON in the ``data`` column of its ``message``
table (``id``, ``session_id``). An assistant message carries ``modelID``, ``providerID``,
``time.created`` (epoch ms), ``tokens`` (``input`` EXCLUDES ``cache.read`` / ``cache.write``;
``output`` with ``reasoning`` inside it when it fits; a bare ``total`` when the parts are
missing, counted as output) and the ``cost`` Kilo computed, kept as reported cost. Sub-agent
messages carry their agent's ``mode``, stored as ``kilo/<mode>`` when it is not the primary
``build``/``plan``/``code``. Key: ``kilo:<message id>``. (Kilo Code, the VS Code extension, is
the ``kilo-code`` source.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, project_name, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or, xdg_data
from spendtray.importers.sqlite_rows import database_of, select
from spendtray.ingest.event import (
    DEFAULT_PROJECT,
    EventError,
    UsageEvent,
    parse_timestamp,
    parse_usd,
)
from spendtray.prices.calc import TokenCounts

KILO = "kilo"
DB = "kilo.db"
PRIMARY_MODES = ("build", "plan", "code")


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$KILO_DATA_DIR`` (a comma list of folders holding ``kilo.db``) else
    ``$XDG_DATA_HOME/kilo``."""
    return env_or(env, "KILO_DATA_DIR", xdg_data(env, home) / "kilo")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class KiloParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        db = database_of(self.job.path)
        columns = ("id", "session_id", "data")
        for row in select(self.job.path, "message", columns, stats, required=("data",)) or ():
            stats.lines += 1
            try:
                message = json.loads(row["data"])
                if not isinstance(message, dict):
                    raise ValueError("not a JSON object")
            except (TypeError, ValueError) as exc:
                stats.bad(db, 0, f"message {row['id']}: data is not a JSON object ({exc})")
                continue
            try:
                self._message(message, row)
            except EventError as exc:
                stats.bad(db, 0, f"message {row['id']}: {exc}")

    def _message(self, message: dict[str, Any], row: dict[str, Any]) -> None:
        tokens = message.get("tokens")
        if message.get("role") != "assistant" or tokens is None:
            return
        if not isinstance(tokens, dict):
            raise EventError("tokens", "must be an object")
        cache = _dict(tokens.get("cache"))
        fresh = whole(tokens.get("input"), "tokens.input")
        read = whole(cache.get("read"), "tokens.cache.read")
        write = whole(cache.get("write"), "tokens.cache.write")
        output = whole(tokens.get("output"), "tokens.output")
        reasoning = whole(tokens.get("reasoning"), "tokens.reasoning")
        if fresh + read + write + output + reasoning == 0:
            output = whole(tokens.get("total"), "tokens.total")  # only a total was logged
        if fresh + read + write + output + reasoning == 0:
            return
        self.job.stats.usage_lines += 1
        model = text(message.get("modelID"), "modelID", required=True)
        assert model is not None
        created = _dict(message.get("time")).get("created")
        if created is None:
            raise EventError("time.created", "is missing")
        message_id = text(message.get("id"), "id") or text(row["id"], "id", required=True)
        session = text(message.get("sessionID"), "sessionID")
        session = session or text(row["session_id"], "session_id")
        provider = text(message.get("providerID"), "providerID")
        cost = message.get("cost")
        mode = message.get("mode")
        tags: dict[str, Any] = {}
        if reasoning > output:
            tags["reasoning_tokens"] = reasoning  # reported beside output, not inside it
        event = UsageEvent(
            model=model,
            provider=provider_of(model, provider or "unknown"),
            counts=TokenCounts(
                input_tokens=fresh + read + write,
                output_tokens=output,
                cache_read_tokens=read,
                cache_write_tokens=write,
                reasoning_tokens=reasoning if reasoning <= output else 0,
            ),
            timestamp=parse_timestamp(created, self.job.now, "time.created"),
            project=project_name(_dict(message.get("path")).get("root")) or DEFAULT_PROJECT,
            agent=(
                f"{KILO}/{mode}"
                if isinstance(mode, str) and mode and mode not in PRIMARY_MODES
                else KILO
            ),
            session=session,
            request_id=f"kilo:{message_id}",
            source=KILO,
            reported_cost_nanos=(
                parse_usd(cost, "cost")
                if isinstance(cost, int | float) and not isinstance(cost, bool) and cost > 0
                else None
            ),
            tags=tags or None,
            raw_usage=tokens,
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=KILO,
    label="Kilo CLI",
    places=places,
    wants=lambda path: path.endswith((f"/{DB}", f"/{DB}-wal")),
    parser=KiloParser,
    mode=DOCUMENT,
    database=True,
    env=("KILO_DATA_DIR", "XDG_DATA_HOME"),
)
