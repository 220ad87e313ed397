"""Start at login on Linux (XDG autostart), macOS (LaunchAgent) and Windows (Run key).

All three are written and checked here, on any machine: the platform, the environment and the
registry are passed in.
"""

from __future__ import annotations

import configparser
import contextlib
import plistlib
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from spendtray import autostart


def _env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}


def test_enable_writes_a_valid_entry_and_disable_removes_it(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert not autostart.is_enabled(env)
    path = autostart.enable(["/opt/my apps/spendtray", "--home", "/data/50%"], env, "linux")
    assert path == str(tmp_path / "xdg" / "autostart" / "spendtray.desktop")
    assert autostart.is_enabled(env)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == '"/opt/my apps/spendtray" --home /data/50%%'
    assert autostart.disable(env) is True
    assert not Path(path).exists()
    assert autostart.disable(env) is False


def test_default_location_is_under_home_config(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert autostart.entry_path(env) == tmp_path / ".config" / "autostart" / "spendtray.desktop"


def test_set_enabled_uses_a_runnable_command(tmp_path: Path) -> None:
    env = _env(tmp_path)
    autostart.set_enabled(True, home=tmp_path / "data", env=env)
    text = autostart.entry_path(env).read_text()
    assert f"--home {tmp_path / 'data'}" in text
    autostart.set_enabled(False, env=env)
    assert not autostart.is_enabled(env)


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "xdg"
    blocker.write_text("a file where the config folder should be")
    with pytest.raises(autostart.AutostartError, match="cannot write"):
        autostart.enable(["spendtray"], {"XDG_CONFIG_HOME": str(blocker)})
    with pytest.raises(autostart.AutostartError, match="empty"):
        autostart.desktop_entry([])


# -- macOS ---------------------------------------------------------------------------------


def test_macos_launch_agent_runs_the_command_at_login(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert not autostart.is_enabled(env, "darwin")
    command = ["/Applications/Spendtray.app/Contents/MacOS/spendtray", "--home", "/a b/<c>"]
    where = autostart.enable(command, env, "darwin")
    agent = tmp_path / "Library" / "LaunchAgents" / "dev.spendtray.Spendtray.plist"
    assert where == str(agent) == autostart.location(env, "darwin")
    assert autostart.is_enabled(env, "darwin")
    assert not autostart.is_enabled(env, "linux")  # nothing written in the XDG place
    plist = plistlib.loads(agent.read_bytes())
    assert plist["Label"] == "dev.spendtray.Spendtray" == agent.stem
    assert plist["ProgramArguments"] == command  # an argv, no shell quoting involved
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] is False  # Quit in the tray menu stays quit
    assert autostart.disable(env, "darwin") is True
    assert not agent.exists()
    assert autostart.disable(env, "darwin") is False


def test_macos_set_enabled_uses_the_bundle_when_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"HOME": str(tmp_path)}
    bundle = "/Applications/Spendtray.app/Contents/MacOS/spendtray"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", bundle)
    autostart.set_enabled(True, home=tmp_path / "data", env=env, platform="darwin")
    plist = plistlib.loads(autostart.launch_agent_path(env).read_bytes())
    assert plist["ProgramArguments"] == [bundle, "--home", str(tmp_path / "data")]


# -- Windows -------------------------------------------------------------------------------


class FakeWinreg(types.ModuleType):
    """The slice of ``winreg`` the Run key uses, over a dict, with its error behaviour."""

    HKEY_CURRENT_USER = 0x80000001
    KEY_QUERY_VALUE = 0x1
    KEY_SET_VALUE = 0x2
    REG_SZ = 1

    def __init__(self) -> None:
        super().__init__("winreg")
        self.keys: dict[tuple[int, str], dict[str, tuple[object, int]]] = {}
        self.fail_writes = False

    @contextlib.contextmanager
    def OpenKey(self, root: int, sub: str, reserved: int, access: int) -> Iterator[str]:
        if (root, sub) not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        yield sub

    @contextlib.contextmanager
    def CreateKeyEx(self, root: int, sub: str, reserved: int, access: int) -> Iterator[str]:
        if self.fail_writes:
            raise PermissionError(5, "Access is denied")
        self.keys.setdefault((root, sub), {})
        yield sub

    def QueryValueEx(self, key: str, name: str) -> tuple[object, int]:
        values = self.keys[(self.HKEY_CURRENT_USER, key)]
        if name not in values:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return values[name]

    def SetValueEx(self, key: str, name: str, reserved: int, kind: int, value: str) -> None:
        self.keys[(self.HKEY_CURRENT_USER, key)][name] = (value, kind)

    def DeleteValue(self, key: str, name: str) -> None:
        values = self.keys[(self.HKEY_CURRENT_USER, key)]
        if name not in values:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        del values[name]


def test_windows_run_key_holds_a_quoted_command_line(tmp_path: Path) -> None:
    winreg = FakeWinreg()
    registry = autostart.WindowsRunKey(winreg)
    env = _env(tmp_path)
    assert not autostart.is_enabled(env, platform="win32", registry=registry)
    command = [r"C:\Program Files\Spendtray\spendtray.exe", "--home", r"D:\my data"]
    where = autostart.enable(command, env, platform="win32", registry=registry)
    assert where == r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run\Spendtray"
    run = winreg.keys[(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run")]
    assert run["Spendtray"] == (
        r'"C:\Program Files\Spendtray\spendtray.exe" --home "D:\my data"',
        winreg.REG_SZ,
    )
    assert autostart.is_enabled(env, platform="win32", registry=registry)
    assert autostart.disable(env, platform="win32", registry=registry) is True
    assert "Spendtray" not in run
    assert autostart.disable(env, platform="win32", registry=registry) is False
    assert not (tmp_path / "xdg").exists()  # nothing written in the XDG place


def test_windows_uses_pythonw_so_no_console_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "python.exe").write_text("")
    (tmp_path / "pythonw.exe").write_text("")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python.exe"))
    monkeypatch.delattr(sys, "frozen", raising=False)
    command = autostart.default_command(Path("/data"), platform="win32")
    assert command == [str(tmp_path / "pythonw.exe"), "-m", "spendtray", "--home", "/data"]


def test_windows_registry_refusal_is_a_clear_error() -> None:
    winreg = FakeWinreg()
    winreg.fail_writes = True
    registry = autostart.WindowsRunKey(winreg)
    with pytest.raises(autostart.AutostartError, match=r"cannot write HKEY_CURRENT_USER\\.*Run"):
        autostart.set_enabled(True, platform="win32", registry=registry)
    assert not autostart.is_enabled(platform="win32", registry=registry)


def test_winreg_is_not_imported_on_this_platform() -> None:
    code = "import sys, spendtray.autostart; print('winreg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
