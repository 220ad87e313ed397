"""``spendtray hooks install|uninstall claude-code``: add the budget hook to Claude Code's
settings, or take out exactly what was added. Stdlib only; main thread.

Scopes: ``user`` — ``$CLAUDE_CONFIG_DIR/settings.json``, else ``~/.claude/settings.json``;
``project`` — ``<dir>/.claude/settings.json`` (shared with the repository's users). The file is
read and written like the statusline installer's (``limits.statusline_install``): a backup
``settings.json.spendtray-backup-<UTC time>`` before any change, the new file renamed over the
old one. Existing hooks stay; ours is one more matcher group under ``UserPromptSubmit`` and
``PreToolUse`` whose only hook is our command. Uninstall removes our hook objects (recognised
by the command: ``spendtray … hooks run claude-code``), and then the groups, event lists and
``hooks`` object that this left empty.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from spendtray.limits.statusline_install import InstallError, settings_path
from spendtray.limits.statusline_install import _read as read_settings
from spendtray.limits.statusline_install import _write as write_settings

EVENTS = ("UserPromptSubmit", "PreToolUse")
RUN_WORDS = ("hooks", "run", "claude-code")
HOOK_TIMEOUT = 10  # seconds Claude Code waits for us; we answer in well under one

__all__ = ["InstallError", "hook_command", "install", "settings_file", "uninstall"]


def settings_file(scope: str, folder: Path | None = None) -> Path:
    if scope == "user":
        return settings_path()
    return (folder or Path.cwd()) / ".claude" / "settings.json"


def hook_command(home: Path | None = None, project: str | None = None) -> str:
    """How Claude Code starts our hook: absolute paths (its PATH may differ), the data folder
    when it is not the default one, the project when pinned."""
    here = Path(sys.executable).parent / ("spendtray.exe" if os.name == "nt" else "spendtray")
    if here.is_file():
        words = [str(here)]
    elif found := shutil.which("spendtray"):
        words = [found]
    else:
        words = [sys.executable, "-m", "spendtray"]
    folder = home or (Path(v) if (v := os.environ.get("SPENDTRAY_HOME")) else None)
    if folder is not None:
        words += ["--home", str(folder.expanduser().resolve())]
    words += RUN_WORDS
    if project:
        words += ["--project", project]
    return " ".join(shlex.quote(w) for w in words)


def _is_ours(hook: Any) -> bool:
    if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
        return False
    try:
        words = shlex.split(hook["command"])
    except ValueError:
        return False
    joined = " ".join(words)
    return " ".join(RUN_WORDS) in joined and any(
        Path(w).name.startswith("spendtray") or w == "-m" for w in words
    )


def _hooks_of(data: dict[str, Any], path: Path) -> dict[str, Any]:
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise InstallError(f'{path}: "hooks" is not a JSON object; nothing changed')
    for event in EVENTS:
        if not isinstance(hooks.get(event, []), list):
            raise InstallError(f"{path}: hooks.{event} is not a list; nothing changed")
    return hooks


def install(path: Path, command: str) -> str:
    """Add our hook for each event; returns what was done, in one line."""
    data, old_text = read_settings(path)
    hooks = _hooks_of(data, path)
    ours = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT}
    added = []
    for event in EVENTS:
        groups = hooks.setdefault(event, [])
        if any(_is_ours(h) for g in groups if isinstance(g, dict) for h in g.get("hooks", [])):
            continue
        group: dict[str, Any] = {"hooks": [dict(ours)]}
        if event == "PreToolUse":
            group = {"matcher": "*", **group}
        groups.append(group)
        added.append(event)
    if not added:
        return f"already installed in {path}; nothing changed"
    data["hooks"] = hooks
    backup = write_settings(path, data, old_text, dt.datetime.now(dt.UTC))
    saved = f"; backup: {backup}" if backup else ""
    return f"installed in {path} ({', '.join(added)}: {command}){saved}"


def uninstall(path: Path) -> str:
    data, old_text = read_settings(path)
    hooks = _hooks_of(data, path)
    removed = 0
    for event in EVENTS:
        groups = hooks.get(event)
        if not groups:
            continue
        kept_groups = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list) and any(_is_ours(h) for h in inner):
                left = [h for h in inner if not _is_ours(h)]
                removed += len(inner) - len(left)
                if not left:
                    continue
                group = {**group, "hooks": left}
            kept_groups.append(group)
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not removed:
        return f"not installed in {path}; nothing changed"
    if hooks:
        data["hooks"] = hooks
    else:
        data.pop("hooks", None)
    backup = write_settings(path, data, old_text, dt.datetime.now(dt.UTC))
    return f"removed from {path} ({removed} hook(s)); backup: {backup}"
