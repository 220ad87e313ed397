"""``spendtray statusline --install`` / ``--uninstall``: edit Claude Code's ``settings.json``.
Stdlib only; main thread.

The file is ``$CLAUDE_CONFIG_DIR/settings.json``, else ``~/.claude/settings.json``. Before any
change a copy is saved next to it (``settings.json.spendtray-backup-<UTC time>``); the new file
is written to a temporary file and renamed over the old one, so a crash leaves one or the other.
Only the ``statusLine`` key changes. An existing statusline command is kept: ours runs it with
the same input and prints its output after our line (``spendtray statusline --then '<old
command>'``); ``--uninstall`` puts it back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

MARK = "statusline"


class InstallError(Exception):
    """Nothing was changed; the message says why."""


def settings_path() -> Path:
    base = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    folder = Path(base).expanduser() if base else Path.home() / ".claude"
    return folder / "settings.json"


def our_command() -> str:
    """How Claude Code should start us: the installed ``spendtray`` next to this Python, else
    ``python -m spendtray``; absolute paths, since Claude Code's PATH may differ."""
    here = Path(sys.executable).parent / ("spendtray.exe" if os.name == "nt" else "spendtray")
    if here.is_file():
        return f"{shlex.quote(str(here))} statusline"
    found = shutil.which("spendtray")
    if found:
        return f"{shlex.quote(found)} statusline"
    return f"{shlex.quote(sys.executable)} -m spendtray statusline"


def _is_ours(command: str) -> bool:
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    return (
        len(words) >= 2
        and MARK in words
        and any(Path(w).name.startswith("spendtray") or w == "spendtray" for w in words)
    )


def _chained(command: str) -> str | None:
    """The command ours was told to run after itself (``--then CMD``), if any."""
    words = shlex.split(command)
    if "--then" in words:
        index = words.index("--then")
        if index + 1 < len(words):
            return words[index + 1]
    return None


def _read(path: Path) -> tuple[dict[str, Any], str | None]:
    if not path.exists():
        return {}, None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {path}: {exc}") from None
    if not text.strip():
        return {}, text
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); nothing changed") from None
    if not isinstance(data, dict):
        raise InstallError(f"{path} does not hold a JSON object; nothing changed")
    return data, text


def _write(path: Path, data: dict[str, Any], old_text: str | None, now: dt.datetime) -> Path | None:
    backup = None
    path.parent.mkdir(parents=True, exist_ok=True)
    if old_text is not None:
        stamp = now.strftime("%Y%m%dT%H%M%S")
        backup = path.with_name(f"{path.name}.spendtray-backup-{stamp}")
        backup.write_text(old_text, encoding="utf-8")
    temp = path.with_name(f".{path.name}.spendtray-tmp")
    temp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if path.exists():
        shutil.copymode(path, temp)
    os.replace(temp, path)
    return backup


def install(path: Path | None = None, command: str | None = None) -> str:
    """Add our statusline; returns what was done, in one line."""
    path = path or settings_path()
    data, old_text = _read(path)
    command = command or our_command()
    current = data.get("statusLine")
    entry: dict[str, Any] = dict(current) if isinstance(current, dict) else {}
    old = entry.get("command") if entry.get("type", "command") == "command" else None
    if isinstance(old, str) and _is_ours(old):
        return f"already installed in {path}"
    if isinstance(old, str) and old.strip():
        command = f"{command} --then {shlex.quote(old)}"
    entry["type"] = "command"
    entry["command"] = command
    data["statusLine"] = entry
    backup = _write(path, data, old_text, dt.datetime.now(dt.UTC))
    kept = f"; your previous statusline still runs after it ({old})" if old else ""
    saved = f"; backup: {backup}" if backup else ""
    return f"installed in {path}{kept}{saved}"


def uninstall(path: Path | None = None) -> str:
    path = path or settings_path()
    data, old_text = _read(path)
    current = data.get("statusLine")
    command = current.get("command") if isinstance(current, dict) else None
    if not isinstance(command, str) or not _is_ours(command):
        return f"not installed in {path}; nothing changed"
    assert isinstance(current, dict)
    previous = _chained(command)
    if previous:
        data["statusLine"] = {**current, "command": previous}
    else:
        del data["statusLine"]
    backup = _write(path, data, old_text, dt.datetime.now(dt.UTC))
    back = f"; restored {previous}" if previous else ""
    return f"removed from {path}{back}; backup: {backup}"
