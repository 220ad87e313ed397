"""The XDG autostart entry (Qt-free module, tested here beside the settings it serves)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from spendtray import autostart


def _env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}


def test_enable_writes_a_valid_entry_and_disable_removes_it(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert not autostart.is_enabled(env)
    path = autostart.enable(["/opt/my apps/spendtray", "--home", "/data/50%"], env)
    assert path == tmp_path / "xdg" / "autostart" / "spendtray.desktop"
    assert autostart.is_enabled(env)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == '"/opt/my apps/spendtray" --home /data/50%%'
    assert autostart.disable(env) is True
    assert not path.exists()
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
