"""Start at login, on each desktop platform. Qt-free.

Called from the GUI thread (settings dialog) and tests. One place per platform, each the one
that platform's session reads at login:

- Linux and other XDG desktops: the autostart entry ``spendtray.desktop`` in
  ``$XDG_CONFIG_HOME/autostart`` (default ``~/.config/autostart``), read by GNOME, KDE, Xfce,
  LXQt… at login.
- macOS: the LaunchAgent ``~/Library/LaunchAgents/dev.spendtray.Spendtray.plist``
  (``RunAtLoad``); launchd loads every agent in that folder when the user logs in.
- Windows: the value ``Spendtray`` under
  ``HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.

The platform, the environment (for paths) and the registry are parameters, so every variant is
written and tested on any machine; ``winreg`` is imported only when the real Windows registry
is used.
"""

from __future__ import annotations

import importlib
import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

ENTRY_NAME = "spendtray.desktop"
LAUNCH_AGENT_LABEL = "dev.spendtray.Spendtray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Spendtray"


class AutostartError(OSError):
    """The autostart entry cannot be written or removed; the message says where and why."""


class RunRegistry(Protocol):
    """The current user's ``Run`` key: one string value per program."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> bool: ...


class WindowsRunKey:
    """``HKEY_CURRENT_USER\\...\\Run`` through ``winreg`` (or a stand-in with its interface)."""

    def __init__(self, winreg: ModuleType | None = None) -> None:
        self._module = winreg

    @property
    def winreg(self) -> Any:
        if self._module is None:
            self._module = importlib.import_module("winreg")  # Windows only: not at import time
        return self._module

    def get(self, name: str) -> str | None:
        w = self.winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, RUN_KEY, 0, w.KEY_QUERY_VALUE) as key:
                value, _kind = w.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        return str(value)

    def set(self, name: str, value: str) -> None:
        w = self.winreg
        with w.CreateKeyEx(w.HKEY_CURRENT_USER, RUN_KEY, 0, w.KEY_SET_VALUE) as key:
            w.SetValueEx(key, name, 0, w.REG_SZ, value)

    def delete(self, name: str) -> bool:
        w = self.winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, RUN_KEY, 0, w.KEY_SET_VALUE) as key:
                w.DeleteValue(key, name)
        except FileNotFoundError:
            return False
        return True


# -- the command that starts the tray app -------------------------------------------------


def default_command(home: Path | None = None, platform: str | None = None) -> list[str]:
    """How to start the tray app at login.

    A frozen bundle starts itself; an installed package its ``spendtray`` script — on Windows
    ``pythonw -m spendtray`` instead, so no console window opens at login — else this
    interpreter with ``-m spendtray``.
    """
    platform = platform or sys.platform
    command: list[str]
    if getattr(sys, "frozen", False):
        command = [sys.executable]
    elif platform == "win32":
        pythonw = Path(sys.executable).with_name("pythonw.exe")
        command = [str(pythonw if pythonw.is_file() else Path(sys.executable)), "-m", "spendtray"]
    else:
        script = shutil.which("spendtray")
        command = [script] if script else [sys.executable, "-m", "spendtray"]
    if home is not None:
        command += ["--home", str(home)]
    return command


# -- Linux: XDG autostart -----------------------------------------------------------------


def autostart_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return Path(base) / "autostart"


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME", str(Path.home())))


def entry_path(env: Mapping[str, str] | None = None) -> Path:
    return autostart_dir(env) / ENTRY_NAME


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


# -- macOS: LaunchAgent -------------------------------------------------------------------


def launch_agent_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return _home(env) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def launch_agent(command: Sequence[str]) -> bytes:
    if not command:
        raise AutostartError("the autostart command is empty")
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            # started once at login; quitting from the tray menu must not respawn it
            "KeepAlive": False,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
    )


# -- Windows: Run key ---------------------------------------------------------------------


def run_value(command: Sequence[str]) -> str:
    if not command:
        raise AutostartError("the autostart command is empty")
    return subprocess.list2cmdline(list(command))


# -- one interface over the three ---------------------------------------------------------


def _write_file(path: Path, data: bytes) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise AutostartError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def _remove_file(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AutostartError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return True


def _registry(registry: RunRegistry | None) -> RunRegistry:
    return registry if registry is not None else WindowsRunKey()


def location(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> str:
    """Where the start-at-login entry lives on ``platform``, for messages and tooltips."""
    platform = platform or sys.platform
    if platform == "win32":
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE}"
    return str(_entry_file(env, platform))


def _entry_file(env: Mapping[str, str] | None, platform: str) -> Path:
    """The file that is the entry outside Windows: a LaunchAgent or an XDG desktop entry."""
    return launch_agent_path(env) if platform == "darwin" else entry_path(env)


def is_enabled(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    registry: RunRegistry | None = None,
) -> bool:
    platform = platform or sys.platform
    if platform == "win32":
        try:
            return _registry(registry).get(RUN_VALUE) is not None
        except OSError:
            return False
    return _entry_file(env, platform).is_file()


def enable(
    command: Sequence[str],
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    registry: RunRegistry | None = None,
) -> str:
    """Write (or replace) the entry; answers where it is."""
    platform = platform or sys.platform
    if platform == "win32":
        value = run_value(command)
        try:
            _registry(registry).set(RUN_VALUE, value)
        except OSError as exc:
            raise AutostartError(
                f"cannot write {location(env, platform)}: {exc.strerror or exc}"
            ) from exc
        return location(env, platform)
    content = launch_agent(command) if platform == "darwin" else desktop_entry(command).encode()
    return str(_write_file(_entry_file(env, platform), content))


def disable(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    registry: RunRegistry | None = None,
) -> bool:
    """Remove the entry; answers whether there was one."""
    platform = platform or sys.platform
    if platform == "win32":
        try:
            return _registry(registry).delete(RUN_VALUE)
        except OSError as exc:
            raise AutostartError(
                f"cannot remove {location(env, platform)}: {exc.strerror or exc}"
            ) from exc
    return _remove_file(_entry_file(env, platform))


def set_enabled(
    enabled: bool,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    registry: RunRegistry | None = None,
) -> None:
    if enabled:
        enable(default_command(home, platform), env, platform, registry)
    else:
        disable(env, platform, registry)
