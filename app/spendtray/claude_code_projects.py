"""Which Spendtray project a Claude Code working directory belongs to: one mapping for the
transcript importer and the Claude Code hook, so a session's budget check asks about the same
project its imported calls are stored under. Standard library only (the hook runs before every
tool call); any thread, one ``ProjectNames`` per thread.

Claude Code keeps a session's transcript in ``projects/<folder>/<session>.jsonl`` where
``<folder>`` is the session's starting directory with every non-alphanumeric character turned
into ``-``; the project is that directory's name, also when the session has ``cd``-ed deeper.
"""

from __future__ import annotations

import os
import re
from typing import Any

from spendtray.fields import MAX_TEXT

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
# Longer than any real working directory (PATH_MAX): a corrupt line, read as having none.
MAX_PATH = 4096


def folder_code(path: str) -> str:
    """How Claude Code names a project folder after its working directory."""
    return _NOT_ALNUM.sub("-", path)


class ProjectNames:
    """Project name from the working directory, stable for a whole projects folder.

    A session may ``cd`` into sub-folders; the project is the ancestor of ``cwd`` whose encoded
    path is the folder's name, so one repository stays one project. Lines without ``cwd`` use
    what the folder's other lines said, else the folder name itself.
    """

    def __init__(self) -> None:
        self._by_cwd: dict[tuple[str, str], str] = {}
        self._by_folder: dict[str, str] = {}

    def name(self, folder: str, cwd: Any) -> str:
        if not isinstance(cwd, str) or not cwd or len(cwd) > MAX_PATH:
            return self._by_folder.get(folder) or folder.strip("-") or "default"
        key = (folder, cwd)
        hit = self._by_cwd.get(key)
        if hit is None:
            hit = self._resolve(folder, cwd)
            if len(hit) > MAX_TEXT or not hit.isprintable():
                hit = "default"  # a path no report could show; the usage still counts
            self._by_cwd[key] = hit
            self._by_folder.setdefault(folder, hit)
        return hit

    def absorb(self, other: ProjectNames) -> None:
        """Adds what ``other`` learnt (an import worker that read other folders' files)."""
        for key, name in other._by_cwd.items():
            self._by_cwd.setdefault(key, name)
        for folder, name in other._by_folder.items():
            self._by_folder.setdefault(folder, name)

    @staticmethod
    def _resolve(folder: str, cwd: str) -> str:
        path = cwd.rstrip("/\\") or cwd
        # The encoding keeps the length, so the one ancestor that can match is the prefix as
        # long as the folder name (a loop over every ancestor was quadratic in the path).
        candidate = path[: len(folder)]
        ancestor = len(path) == len(folder) or path[len(folder) : len(folder) + 1] in ("/", "\\")
        if candidate and ancestor and folder_code(candidate) == folder:
            return _basename(candidate)
        return _basename(path)


def _basename(path: str) -> str:
    name = re.split(r"[\\/]", path.rstrip("/\\"))[-1]
    return name or path or "default"


def session_project(cwd: Any, transcript_path: Any) -> str:
    """The project of a live session, from what a Claude Code hook receives: its ``cwd`` and
    its ``transcript_path`` (whose parent folder is the session's projects folder)."""
    folder = ""
    if isinstance(transcript_path, str) and transcript_path:
        folder = os.path.basename(os.path.dirname(transcript_path))
    if not folder and isinstance(cwd, str):
        folder = folder_code(cwd.rstrip("/\\") or cwd)
    return ProjectNames().name(folder, cwd)
