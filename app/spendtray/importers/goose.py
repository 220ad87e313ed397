"""Goose sessions (``~/.local/share/goose/sessions/sessions.db``, SQLite) -> usage records. Runs
on the importer's thread.

Goose keeps one row per session in its ``sessions`` table with the session's running token
totals (``accumulated_input_tokens`` / ``accumulated_output_tokens`` /
``accumulated_total_tokens``; older rows only ``input_tokens`` / ``output_tokens`` /
``total_tokens``), the model in ``model_config_json`` and ``created_at``. Goose logs no cache
split. Like Droid's, each session is one event keyed ``goose:<session id>``, dated when the
session was created and replaced by the bigger total as the session goes on. Tokens in the
total beyond input + output (reasoning) are counted as output. The database is opened
read-only; Goose writing to it meanwhile only changes what the next pass sees (its ``-wal``
file is watched too).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import Record, provider_of, text
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or, xdg_data
from spendtray.ingest.event import EventError, UsageEvent, parse_timestamp
from spendtray.prices.calc import TokenCounts

GOOSE = "goose"
DB = "sessions.db"
COLUMNS = (
    "id",
    "model_config_json",
    "provider_name",
    "created_at",
    "total_tokens",
    "input_tokens",
    "output_tokens",
    "accumulated_total_tokens",
    "accumulated_input_tokens",
    "accumulated_output_tokens",
)


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$GOOSE_PATH_ROOT/data/sessions`` if set, else ``$XDG_DATA_HOME/goose/sessions`` and
    macOS's ``~/Library/Application Support/goose/sessions``."""
    root = env.get("GOOSE_PATH_ROOT", "").strip()
    if root:
        return [Path(root).expanduser() / "data" / "sessions"]
    return [
        *env_or(env, "GOOSE_SESSIONS_DIR", xdg_data(env, home) / "goose" / "sessions"),
        home / "Library" / "Application Support" / "goose" / "sessions",
    ]


def _positive(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class GooseParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        db = self.job.path.removesuffix("-wal")
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
        except sqlite3.Error as exc:
            self.job.stats.bad(db, 0, f"cannot open the database ({exc})")
            return
        try:
            have = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
            if "id" not in have:
                return
            wanted = [c if c in have else f"NULL AS {c}" for c in COLUMNS]
            rows = conn.execute(f"SELECT {', '.join(wanted)} FROM sessions").fetchall()
        except sqlite3.Error as exc:
            self.job.stats.bad(db, 0, f"cannot read the sessions table ({exc})")
            return
        finally:
            conn.close()
        for row in rows:
            self.job.stats.lines += 1
            try:
                self._session(dict(zip(COLUMNS, row, strict=True)))
            except EventError as exc:
                self.job.stats.bad(db, 0, f"session {row[0]}: {exc}")

    def _session(self, row: dict[str, Any]) -> None:
        fresh = _positive(row["accumulated_input_tokens"]) or _positive(row["input_tokens"])
        output = _positive(row["accumulated_output_tokens"]) or _positive(row["output_tokens"])
        total = _positive(row["accumulated_total_tokens"]) or _positive(row["total_tokens"])
        if not (fresh or output or total):
            return
        self.job.stats.usage_lines += 1
        extra = max(0, total - fresh - output)
        try:
            config = json.loads(row["model_config_json"] or "{}")
        except ValueError:
            raise EventError("model_config_json", "is not JSON") from None
        model = text(config.get("model_name") if isinstance(config, dict) else None, "model_name")
        model = model or "unknown"
        created = row["created_at"]
        if created is None:
            raise EventError("created_at", "is missing")
        if isinstance(created, str) and len(created) == 19 and created[10] == " ":
            created = created.replace(" ", "T") + "Z"  # SQLite's CURRENT_TIMESTAMP, in UTC
        provider = text(row["provider_name"], "provider_name")
        session = str(row["id"])
        event = UsageEvent(
            model=model,
            provider=provider_of(model, (provider or "unknown").lower()),
            counts=TokenCounts(
                input_tokens=fresh, output_tokens=output + extra, reasoning_tokens=extra
            ),
            timestamp=parse_timestamp(created, self.job.now, "created_at"),
            agent=GOOSE,
            session=session,
            request_id=f"goose:{session}",
            source=GOOSE,
            tags={"granularity": "session total"},
            raw_usage={k: row[k] for k in COLUMNS[4:] if row[k] is not None},
        )
        self.records.append(Record(event))


SOURCE = LogSource(
    name=GOOSE,
    label="Goose",
    places=places,
    wants=lambda path: path.endswith((f"/{DB}", f"/{DB}-wal")),
    parser=GooseParser,
    mode=DOCUMENT,
    env=("GOOSE_PATH_ROOT", "XDG_DATA_HOME"),
)
