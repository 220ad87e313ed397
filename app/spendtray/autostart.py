"""Start at login on Linux desktops: the XDG autostart entry ``spendtray.desktop``. Qt-free.

Called from the GUI thread (settings dialog) and tests. The entry lives in
``$XDG_CONFIG_HOME/autostart`` (default ``~/.config/autostart``), the place every XDG-compliant
session (GNOME, KDE, Xfce, LXQt…) reads at login.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ENTRY_NAME = "spendtray.desktop"


class AutostartError(OSError):
    """The autostart entry cannot be written or removed; the message says where and why."""


def autostart_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".config")
    return Path(base) / "autostart"


def entry_path(env: Mapping[str, str] | None = None) -> Path:
    return autostart_dir(env) / ENTRY_NAME


def default_command(home: Path | None = None) -> list[str]:
    """How to start the tray app: the installed script, else this interpreter with ``-m``."""
    script = shutil.which("spendtray")
    command = [script] if script else [sys.executable, "-m", "spendtray"]
    if home is not None:
        command += ["--home", str(home)]
    return command


def _quote(arg: str) -> str:
    # Desktop Entry spec: quote arguments holding reserved characters; escape ", `, $, \.
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def desktop_entry(command: Sequence[str]) -> str:
    if not command:
        raise AutostartError("the autostart command is empty")
    exec_line = " ".join(_quote(a) for a in command).replace("%", "%%")
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Spendtray\n"
        "Comment=What your LLM API calls cost, live in the tray\n"
        f"Exec={exec_line}\n"
        "Icon=spendtray\n"
        "Terminal=false\n"
        "Categories=Development;Utility;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def is_enabled(env: Mapping[str, str] | None = None) -> bool:
    return entry_path(env).is_file()


def enable(command: Sequence[str], env: Mapping[str, str] | None = None) -> Path:
    """Write (or replace) the entry; answers its path."""
    path = entry_path(env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{ENTRY_NAME}.tmp")
        tmp.write_text(desktop_entry(command), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise AutostartError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def disable(env: Mapping[str, str] | None = None) -> bool:
    """Remove the entry; answers whether there was one."""
    path = entry_path(env)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AutostartError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return True


def set_enabled(
    enabled: bool, home: Path | None = None, env: Mapping[str, str] | None = None
) -> None:
    if enabled:
        enable(default_command(home), env)
    else:
        disable(env)
