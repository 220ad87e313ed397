"""OpenCode's usage -> records, from both places OpenCode keeps its messages: the JSON files of
releases before 1.2 (``~/.local/share/opencode/storage/message/<session>/<message>.json``,
read here) and the SQLite store of 1.2 and later (``opencode.db``, read by ``opencode_db.py``).
Runs on the importer's thread.

OpenCode writes one JSON document per message and rewrites it while the reply streams; the
document -> event rules (tokens, reported cost, sub-agent naming) are in ``opencode_message.py``.
Key: ``opencode:<message id>`` in both places, so a message that OpenCode's 1.2 migration
copied into the database (leaving the file in place) is one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers import opencode_db
from spendtray.importers.opencode_message import OPENCODE, PRIMARY_MODES, message_event
from spendtray.importers.parsing import Record, json_document
from spendtray.importers.source import (
    DOCUMENT,
    DocumentParser,
    FileJob,
    LogSource,
    env_or,
    xdg_data,
)
from spendtray.ingest.event import EventError


def _homes(env: Mapping[str, str], home: Path) -> list[Path]:
    return env_or(env, "OPENCODE_DATA_DIR", xdg_data(env, home) / "opencode")


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$OPENCODE_DATA_DIR`` (a comma list) else ``$XDG_DATA_HOME/opencode``: its
    ``storage/message/`` and its databases (``opencode.db``, ``opencode-<channel>.db``, each
    with its ``-wal``)."""
    return [p for folder in _homes(env, home) for p in _data_folder(folder)]


def _data_folder(folder: Path) -> list[Path]:
    return [folder / "storage" / "message", *opencode_db.databases(folder)]


def path_entries(path: Path) -> list[Path]:
    """``--path`` given OpenCode's data folder: its message files and databases (not the rest
    of it: snapshots and part files are many and hold no usage); any other folder: itself."""
    if (path / "storage").is_dir() or any(p.exists() for p in opencode_db.databases(path)):
        return [p for p in _data_folder(path) if p.exists()]
    return [path]


def wants(path: str) -> bool:
    if opencode_db.is_database(path):
        return True
    return path.endswith(".json") and "/message/" in path.replace("\\", "/")


class OpenCodeParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats = self.job.stats
        stats.lines += 1
        message = json_document(data, self.job.path, stats, dict)
        if message is None:
            return
        try:
            self._message(message)
        except EventError as exc:
            stats.bad(self.job.path, 0, str(exc))

    def _message(self, message: dict[str, Any]) -> None:
        event = message_event(
            message,
            self.job,
            source=OPENCODE,
            primary_modes=PRIMARY_MODES,
            message_id=Path(self.job.path).stem,
            session=Path(self.job.path).parent.name,
            total_fallback=False,
        )
        if event is not None:
            self.records.append(Record(event))


def parser(job: FileJob) -> DocumentParser:
    if opencode_db.is_database(job.path):
        return opencode_db.MessageRows(job)
    return OpenCodeParser(job)


SOURCE = LogSource(
    name=OPENCODE,
    label="OpenCode",
    places=places,
    wants=wants,
    parser=parser,
    mode=DOCUMENT,
    databases=opencode_db.is_database,
    env=("OPENCODE_DATA_DIR", "XDG_DATA_HOME"),
    path_entries=path_entries,
)
