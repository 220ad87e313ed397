"""Where each agent keeps its logs, and listing the ``*.jsonl`` files under those places.

Any thread (each ``LogLister`` belongs to the one thread that runs its importer). Claude Code:
``$CLAUDE_CONFIG_DIR`` (a comma list; each entry a config folder holding ``projects/`` or the
``projects/`` folder itself), else ``$XDG_CONFIG_HOME/claude/projects`` and
``~/.claude/projects``, both. Codex: ``$CODEX_HOME`` (a comma list, default ``~/.codex``) with its
``sessions/`` and ``archived_sessions/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CLAUDE_CODE = "claude-code"
CODEX = "codex"


class ImportPathError(ValueError):
    """A path given for an import does not exist or holds nothing importable."""


@dataclass(frozen=True, slots=True)
class LogRoot:
    """A folder (or one file) to import; for Claude Code the ``projects/`` folder."""

    kind: str
    path: Path


def _split(value: str) -> list[Path]:
    return [Path(part.strip()).expanduser() for part in value.split(",") if part.strip()]


def _claude_entry(path: Path) -> Path:
    if path.is_dir() and (path / "projects").is_dir():
        return path / "projects"
    return path


def claude_code_roots(
    env: Mapping[str, str] | None = None, user_home: Path | None = None
) -> list[LogRoot]:
    """The Claude Code projects folders that exist on this machine."""
    env = os.environ if env is None else env
    user_home = user_home or Path.home()
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        candidates = [_claude_entry(p) for p in _split(configured)]
    else:
        xdg = env.get("XDG_CONFIG_HOME", "").strip()
        config_home = Path(xdg).expanduser() if xdg else user_home / ".config"
        candidates = [config_home / "claude" / "projects", user_home / ".claude" / "projects"]
    return _unique(CLAUDE_CODE, [p for p in candidates if p.is_dir()])


def _codex_entry(path: Path) -> list[Path]:
    # Archived (older) sessions first: a fork's copy of its parent's history is then met after
    # the parent's own lines, and the calls keep the parent's timestamps.
    found = [path / name for name in ("archived_sessions", "sessions") if (path / name).is_dir()]
    return found or [path]


def codex_roots(
    env: Mapping[str, str] | None = None, user_home: Path | None = None
) -> list[LogRoot]:
    """The Codex session folders that exist on this machine."""
    env = os.environ if env is None else env
    user_home = user_home or Path.home()
    configured = env.get("CODEX_HOME", "").strip()
    homes = _split(configured) if configured else [user_home / ".codex"]
    found: list[Path] = []
    for home in homes:
        if home.is_dir():
            found.extend(p for p in _codex_entry(home) if p.is_dir())
    return _unique(CODEX, found)


def roots_for_path(kind: str, path: Path) -> list[LogRoot]:
    """``--path``: a config folder, a logs folder or a single ``.jsonl`` file."""
    path = path.expanduser()
    if not path.exists():
        raise ImportPathError(f"--path: {path} does not exist")
    if path.is_file():
        return [LogRoot(kind, path)]
    entries = [_claude_entry(path)] if kind == CLAUDE_CODE else _codex_entry(path)
    return _unique(kind, entries)


def default_roots(kind: str) -> list[LogRoot]:
    return claude_code_roots() if kind == CLAUDE_CODE else codex_roots()


def _unique(kind: str, paths: list[Path]) -> list[LogRoot]:
    seen: set[Path] = set()
    roots: list[LogRoot] = []
    for path in paths:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            roots.append(LogRoot(kind, resolved))
    return roots


class LogLister:
    """Lists ``*.jsonl`` files under roots; re-reads a folder only when its mtime changed.

    A folder's mtime changes when entries are added, removed or renamed in it, so a watcher
    polling every few seconds pays one ``stat`` per folder instead of a listing per folder.
    """

    def __init__(self) -> None:
        self._dirs: dict[str, tuple[int, list[str], list[str]]] = {}

    def files(self, root: LogRoot) -> list[Path]:
        if root.path.is_file():
            return [root.path]
        out: list[str] = []
        seen_dirs: set[str] = set()
        self._walk(str(root.path), out, seen_dirs)
        top = str(root.path)
        for stale in [
            d for d in self._dirs if (d == top or d.startswith(top + os.sep)) and d not in seen_dirs
        ]:
            del self._dirs[stale]
        out.sort()
        return [Path(p) for p in out]

    def _walk(self, folder: str, out: list[str], seen: set[str]) -> None:
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            return
        seen.add(folder)
        cached = self._dirs.get(folder)
        if cached is not None and cached[0] == mtime:
            files, subdirs = cached[1], cached[2]
        else:
            files, subdirs = [], []
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        try:
                            if entry.is_dir(follow_symlinks=False):
                                subdirs.append(entry.path)
                            elif entry.name.endswith(".jsonl") and entry.is_file():
                                files.append(entry.path)
                        except OSError:
                            continue
            except OSError:
                return
            self._dirs[folder] = (mtime, files, subdirs)
        out.extend(files)
        for sub in subdirs:
            self._walk(sub, out, seen)
