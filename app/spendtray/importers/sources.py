"""Listing the log files of a source under its folders, cheaply enough to poll. Any thread
(each ``LogLister`` belongs to the one thread that runs its importer).

Where each source's logs live is in the source's own module (``SOURCE.places``); the names
below stay for callers that ask for Claude Code's or Codex's folders directly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from spendtray.importers.claude_code import CLAUDE_CODE
from spendtray.importers.claude_code import SOURCE as CLAUDE_SOURCE
from spendtray.importers.codex import CODEX
from spendtray.importers.codex import SOURCE as CODEX_SOURCE
from spendtray.importers.source import ImportPathError, LogRoot

__all__ = ["CLAUDE_CODE", "CODEX", "ImportPathError", "LogLister", "LogRoot"]


def claude_code_roots(
    env: Mapping[str, str] | None = None, user_home: Path | None = None
) -> list[LogRoot]:
    """The Claude Code projects folders that exist on this machine."""
    return CLAUDE_SOURCE.roots(env, user_home)


def codex_roots(
    env: Mapping[str, str] | None = None, user_home: Path | None = None
) -> list[LogRoot]:
    """The Codex session folders that exist on this machine."""
    return CODEX_SOURCE.roots(env, user_home)


class LogLister:
    """Lists a source's files under roots; re-reads a folder only when its mtime changed.

    A folder's mtime changes when entries are added, removed or renamed in it, so a watcher
    polling every few seconds pays one ``stat`` per folder instead of a listing per folder.
    """

    def __init__(self) -> None:
        self._dirs: dict[str, tuple[int, list[str], list[str]]] = {}

    def files(self, root: LogRoot, wants: Callable[[str], bool]) -> list[str]:
        """The paths of the files under ``root`` that ``wants`` picks, sorted (as text: a
        ``Path`` each cost a re-import over 3,000 unchanged files a tenth of its time)."""
        if root.path.is_file():
            return [str(root.path)]
        out: list[str] = []
        seen_dirs: set[str] = set()
        self._walk(str(root.path), out, seen_dirs, wants)
        top = str(root.path)
        for stale in [
            d for d in self._dirs if (d == top or d.startswith(top + os.sep)) and d not in seen_dirs
        ]:
            del self._dirs[stale]
        out.sort()
        return out

    def _walk(
        self, folder: str, out: list[str], seen: set[str], wants: Callable[[str], bool]
    ) -> None:
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
                            elif wants(entry.path) and entry.is_file():
                                files.append(entry.path)
                        except OSError:
                            continue
            except OSError:
                return
            self._dirs[folder] = (mtime, files, subdirs)
        out.extend(files)
        for sub in subdirs:
            self._walk(sub, out, seen, wants)
