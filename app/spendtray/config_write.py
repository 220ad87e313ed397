"""Saving settings to ``<data>/config.toml`` (the GUI's settings dialog). Any thread; Qt-free.

Only the keys being changed are touched: their lines are rewritten in place and missing ones
appended, so a user's comments and the order of their file survive. Every value is checked
with the same rules ``load_settings`` applies, and the file is replaced atomically, so a bad
value changes nothing and a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.config import CONFIG_KEYS, ConfigError, Settings, _check_value, load_settings


def toml_value(value: Any) -> str:
    """One TOML value for the types config.toml uses (bool, int, str, list of str)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string for everything json.dumps escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to config.toml")


_TABLE_HEADER = re.compile(r"^\s*\[")


def _key_line(key: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(key)}\s*=")


def render(existing: str, changes: Mapping[str, Any]) -> str:
    """``existing`` config text with ``changes`` applied line by line."""
    lines = existing.splitlines()
    # Top-level keys live before the first [table] header (e.g. [upstreams]): a key written
    # after it would land inside that table.
    top = next((i for i, line in enumerate(lines) if _TABLE_HEADER.match(line)), len(lines))
    for key, value in changes.items():
        new_line = f"{key} = {toml_value(value)}"
        pattern = _key_line(key)
        for i in range(top):
            if pattern.match(lines[i]):
                lines[i] = new_line
                break
        else:
            lines.insert(top, new_line)
            top += 1
    return "\n".join(lines) + "\n"


def save_settings(settings: Settings, changes: Mapping[str, Any]) -> Settings:
    """Write ``changes`` (Settings field names) to config.toml; answer the settings re-read.

    Raises ``ConfigError`` naming the key for an unknown key or a bad value; the file is then
    left exactly as it was.
    """
    for key, value in changes.items():
        if key not in CONFIG_KEYS:
            known = ", ".join(sorted(CONFIG_KEYS))
            raise ConfigError(f"unknown setting {key!r} (known: {known})")
        # tuples are how Settings holds lists; TOML and the checker want lists
        _check_value(key, list(value) if isinstance(value, tuple) else value)
    path = settings.config_path
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    text = render(existing, changes)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot update it, it is not valid TOML ({exc})") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return load_settings(home=settings.home)
