"""What one agent's log source is: a name, where its logs live, which files hold usage, and the
parser that turns those files into usage records. Every source module (``claude_code.py``,
``gemini_cli.py``, …) defines one ``SOURCE = LogSource(...)``; ``registry.py`` lists them.
Pure data and small helpers; any thread.

Two ways of reading a file:

- ``lines`` (JSONL that only grows): read from the stored offset, whole lines only; the parser's
  ``context`` (a JSON-able dict) carries running state between reads.
- ``document`` (a JSON file the agent rewrites as a whole, e.g. a chat saved after each turn):
  read again whole when its size, mtime or inode changed. Records carry stable keys, so the
  calls already stored are recognised and only new ones are added.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from spendtray.importers.dedup import Merge
from spendtray.importers.parsing import ParseStats, Record

LINES = "lines"
DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class LogRoot:
    """A folder (or one file) to import."""

    kind: str
    path: Path


@dataclass(slots=True)
class FileJob:
    """What a parser knows about the file it reads."""

    path: str
    root: Path
    context: dict[str, Any]
    stats: ParseStats
    now: dt.datetime
    shared: dict[str, Any]  # per-importer cache (e.g. project names), kept across files


class Parser(Protocol):
    records: list[Record]

    def feed(self, lines: list[bytes], offset: int) -> None:
        """Parse whole lines; ``offset`` is the byte position of the first one. A parser may
        also define ``feed_block(block, offset)``, taking the lines still joined by their
        newlines (``parsing.json_block``): the runner then calls that instead."""


class DocumentParser(Protocol):
    records: list[Record]

    def document(self, data: bytes) -> None:
        """Parse a whole file's bytes."""


class ImportPathError(ValueError):
    """A path given for an import does not exist or holds nothing importable."""


def split_paths(value: str) -> list[Path]:
    """An environment variable's comma list of folders."""
    return [Path(part.strip()).expanduser() for part in value.split(",") if part.strip()]


def env_or(env: Mapping[str, str], name: str, default: Path) -> list[Path]:
    """``$name`` (a comma list) if set, else ``default``."""
    value = env.get(name, "").strip()
    return split_paths(value) if value else [default]


def xdg_data(env: Mapping[str, str], home: Path) -> Path:
    value = env.get("XDG_DATA_HOME", "").strip()
    return Path(value).expanduser() if value else home / ".local" / "share"


def xdg_config(env: Mapping[str, str], home: Path) -> Path:
    value = env.get("XDG_CONFIG_HOME", "").strip()
    return Path(value).expanduser() if value else home / ".config"


@dataclass(frozen=True)
class LogSource:
    """One agent's logs. ``places(env, home)`` lists every folder looked in (existing or not);
    ``wants(file path)`` picks the files that hold usage; ``parser(job)`` reads one file;
    ``mode`` says how (``documents(path)``, when given, picks the document files of a source
    that keeps both kinds)."""

    name: str
    label: str
    places: Callable[[Mapping[str, str], Path], list[Path]]
    wants: Callable[[str], bool]
    parser: Callable[[FileJob], Parser | DocumentParser]
    mode: str = LINES
    documents: Callable[[str], bool] | None = None
    env: tuple[str, ...] = ()  # environment variables that move the logs (documented)
    # ``--path`` given a folder: the folders under it to import (default: itself).
    path_entries: Callable[[Path], list[Path]] | None = None
    warnings: Callable[[Mapping[str, str], Path], list[str]] = field(default=lambda env, home: [])
    # Folds copies of one call within a batch and against what is stored (Claude Code).
    merge: Merge | None = None
    # Set when the agent's logs carry no token counts: said by `spendtray sources`, never read.
    no_usage: str | None = None
    # A SQLite store its parser opens itself (read-only): the runner reads none of its bytes,
    # so a database of any size is read, only what the parser selects. ``databases(path)``,
    # when given, picks the database files of a source that keeps both kinds (OpenCode). A
    # database's parser keeps its ``context`` across reads (e.g. the last row it read), since
    # a database's bytes are rewritten in place, never only appended.
    database: bool = False
    databases: Callable[[str], bool] | None = None

    def roots(
        self, env: Mapping[str, str] | None = None, home: Path | None = None
    ) -> list[LogRoot]:
        """The places that exist on this machine."""
        env = os.environ if env is None else env
        home = home or Path.home()
        return unique_roots(self.name, [p for p in self.places(env, home) if p.exists()])

    def roots_for_path(self, path: Path) -> list[LogRoot]:
        """``--path``: a folder to search or a single file."""
        path = path.expanduser()
        if not path.exists():
            raise ImportPathError(f"--path: {path} does not exist")
        if path.is_file() or self.path_entries is None:
            return [LogRoot(self.name, path.resolve())]
        return unique_roots(self.name, self.path_entries(path))

    def is_document(self, path: str) -> bool:
        return self.mode == DOCUMENT or (self.documents is not None and self.documents(path))

    def is_database(self, path: str) -> bool:
        return self.database or (self.databases is not None and self.databases(path))


def unique_roots(kind: str, paths: list[Path]) -> list[LogRoot]:
    seen: set[Path] = set()
    roots: list[LogRoot] = []
    for path in paths:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            roots.append(LogRoot(kind, resolved))
    return roots


def suffix(*endings: str) -> Callable[[str], bool]:
    """``wants`` for files whose names end with one of ``endings``."""
    return lambda path: path.endswith(endings)
