"""Hermes Agent (Nous Research) sessions (``~/.hermes/state.db`` and every profile's
``~/.hermes/profiles/<name>/state.db``, SQLite) -> usage records. Runs on the importer's thread.

Hermes keeps one row per session in its ``sessions`` table with the session's running totals:
``input_tokens`` (uncached), ``cache_read_tokens`` and ``cache_write_tokens`` apart from it,
``output_tokens`` and ``reasoning_tokens`` beside it, the ``model``, ``billing_provider``,
``started_at`` (epoch seconds) and what the provider billed (``actual_cost_usd``), kept as
reported cost; Hermes' own ``estimated_cost_usd`` (from its price table) is kept as a tag.
Like Goose's, each session is one event keyed ``hermes:<session id>``, dated when the session
started and replaced by the bigger total as the session goes on; the same session found in two
profiles' databases is stored once. Canonical input is input + cache reads + cache writes;
output includes reasoning.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, split_paths
from spendtray.importers.sqlite_rows import database_of, select
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp, parse_usd
from spendtray.prices.calc import TokenCounts

HERMES = "hermes"
DB = "state.db"
COLUMNS = (
    "id",
    "model",
    "billing_provider",
    "source",
    "started_at",
    "message_count",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "estimated_cost_usd",
    "actual_cost_usd",
)
TOKENS = COLUMNS[6:11]
# Hermes' provider names -> the ones prices are listed under.
PROVIDERS = {
    "claude": "anthropic",
    "openai_codex": "openai",
    "gemini": "google",
    "vertex": "google",
}


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$HERMES_HOME`` (a comma list of folders holding ``state.db``) if set, else ``~/.hermes``
    (its ``profiles/*`` are found below it)."""
    value = env.get("HERMES_HOME", "").strip()
    return split_paths(value) if value else [home / ".hermes"]


def _usd(row: dict[str, Any], name: str) -> int | None:
    value = row[name]
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return parse_usd(value, name)
    return None


class HermesParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        rows = select(self.job.path, "sessions", COLUMNS, self.job.stats, required=("id",))
        for row in rows or ():
            self.job.stats.lines += 1
            try:
                self._session(row)
            except EventError as exc:
                self.job.stats.bad(database_of(self.job.path), 0, f"session {row['id']}: {exc}")

    def _session(self, row: dict[str, Any]) -> None:
        fresh, output, read, write, reasoning = (whole(row[c], c) for c in TOKENS)
        cost = _usd(row, "actual_cost_usd")
        estimate = _usd(row, "estimated_cost_usd")
        if not (fresh or output or read or write or reasoning or cost):
            return
        model = text(row["model"], "model")
        if model is None:  # a session that has not called a model yet
            return
        self.job.stats.usage_lines += 1
        if row["started_at"] is None:
            raise EventError("started_at", "is missing")
        provider = (text(row["billing_provider"], "billing_provider") or "").lower()
        provider = PROVIDERS.get(provider.replace("-", "_"), provider)
        session = str(row["id"])
        origin = text(row["source"], "source")
        event = UsageEvent(
            model=model,
            provider=provider_of(model, provider or "unknown"),
            counts=TokenCounts(
                input_tokens=fresh + read + write,
                output_tokens=output + reasoning,
                cache_read_tokens=read,
                cache_write_tokens=write,
                reasoning_tokens=reasoning,
            ),
            timestamp=parse_timestamp(row["started_at"], self.job.now, "started_at"),
            agent=HERMES,
            session=session,
            request_id=f"hermes:{session}",
            source=HERMES,
            reported_cost_nanos=cost,
            tags={
                "granularity": "session total",
                **({"via": origin} if origin else {}),
                **({"estimated_cost_usd": row["estimated_cost_usd"]} if estimate else {}),
            },
            raw_usage={k: row[k] for k in TOKENS if row[k] is not None},
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=HERMES,
    label="Hermes Agent",
    places=places,
    wants=lambda path: path.endswith((f"/{DB}", f"/{DB}-wal")),
    parser=HermesParser,
    mode=DOCUMENT,
    database=True,
    env=("HERMES_HOME",),
)
