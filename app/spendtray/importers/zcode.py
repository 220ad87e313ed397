"""ZCode (Z.ai's desktop agent) requests (``~/.zcode/cli/db/db.sqlite``, SQLite) -> usage
records. Runs on the importer's thread.

ZCode writes one ``model_usage`` row per model request: ``model_id``, ``status``,
``started_at`` (epoch ms), ``input_tokens`` — the whole prompt, its
``cache_read_input_tokens`` and ``cache_creation_input_tokens`` inside it (OpenAI's
convention) — ``output_tokens`` and ``computed_total_tokens``; the ``session`` table gives the
session's working ``directory`` (the project). Only ``completed`` rows are read (errors and
cancels record no tokens). ZCode records no cost. Tokens in the total beyond input + output
(none in the versions seen) are counted as reasoning output. Key: ``zcode:<row id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, project_name, provider_of, text, whole
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or
from spendtray.importers.sqlite_rows import database_of, select
from spendtray.ingest.event import DEFAULT_PROJECT, EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

ZCODE = "zcode"
DB = "db.sqlite"
COLUMNS = (
    "id",
    "session_id",
    "started_at",
    "model_id",
    "status",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "computed_total_tokens",
)
TOKENS = COLUMNS[5:]


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$ZCODE_HOME`` (a comma list) else ``~/.zcode``: its ``cli/db`` folder."""
    return [folder / "cli" / "db" for folder in env_or(env, "ZCODE_HOME", home / ".zcode")]


class ZcodeParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        rows = select(self.job.path, "model_usage", COLUMNS, stats, required=("id",))
        if not rows:
            return
        found = select(self.job.path, "session", ("id", "directory"), stats, required=("id",))
        folders = {row["id"]: row["directory"] for row in found or ()}
        for row in rows:
            stats.lines += 1
            try:
                self._request(row, folders.get(row["session_id"]))
            except EventError as exc:
                stats.bad(database_of(self.job.path), 0, f"model_usage {row['id']}: {exc}")

    def _request(self, row: dict[str, Any], directory: Any) -> None:
        if row["status"] != "completed":
            return
        prompt, output, write, read, total = (whole(row[c], c) for c in TOKENS)
        read = min(read, prompt)
        write = min(write, prompt - read)
        extra = max(0, total - prompt - output)
        if not (prompt or output or extra):
            return
        self.job.stats.usage_lines += 1
        model = text(row["model_id"], "model_id", required=True)
        assert model is not None
        if row["started_at"] is None:
            raise EventError("started_at", "is missing")
        session = text(row["session_id"], "session_id")
        event = UsageEvent(
            model=model,
            provider=provider_of(model, "zai"),
            counts=TokenCounts(
                input_tokens=prompt,
                output_tokens=output + extra,
                cache_read_tokens=read,
                cache_write_tokens=write,
                reasoning_tokens=extra,
            ),
            timestamp=parse_timestamp(row["started_at"], self.job.now, "started_at"),
            project=project_name(directory) or DEFAULT_PROJECT,
            agent=ZCODE,
            session=session,
            request_id=f"zcode:{row['id']}",
            source=ZCODE,
            raw_usage={k: row[k] for k in TOKENS if row[k] is not None},
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=ZCODE,
    label="ZCode",
    places=places,
    wants=lambda path: path.endswith((f"/{DB}", f"/{DB}-wal")),
    parser=ZcodeParser,
    mode=DOCUMENT,
    database=True,
    env=("ZCODE_HOME",),
)
