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

from spendtray.importers.opencode_message import message_event
from spendtray.importers.parsing import Record
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or, xdg_data
from spendtray.importers.sqlite_rows import database_of, select
from spendtray.ingest.event import EventError

KILO = "kilo"
DB = "kilo.db"
PRIMARY_MODES = ("build", "plan", "code")


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$KILO_DATA_DIR`` (a comma list of folders holding ``kilo.db``) else
    ``$XDG_DATA_HOME/kilo``."""
    return env_or(env, "KILO_DATA_DIR", xdg_data(env, home) / "kilo")


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
        event = message_event(
            message,
            self.job,
            source=KILO,
            primary_modes=PRIMARY_MODES,
            message_id=row["id"],
            session=row["session_id"],
            total_fallback=True,
        )
        if event is not None:
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
