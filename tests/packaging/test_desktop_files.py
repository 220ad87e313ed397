"""Linux desktop integration: the desktop entry, AppStream metainfo, systemd user unit and the
script that installs the entry and icons — validated with the freedesktop tools themselves.

The validators come from Debian (`desktop-file-utils`, `appstream`, `systemd`); .ci/run installs
them, so in CI (``CI`` set) a missing one fails instead of skipping.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from packkit import ROOT

from spendtray import __version__
from spendtray.cli.main import build_parser

LINUX = ROOT / "packaging" / "linux"
APP_ID = "dev.spendtray.Spendtray"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
UNIT = LINUX / "spendtray.service"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: .ci/run installs it")
        pytest.skip(f"{name} is not installed (Debian: see .ci/run)")
    return path


def read_desktop(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_is_valid() -> None:
    result = subprocess.run(
        [tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout
    entry = read_desktop(DESKTOP)
    assert entry["Exec"] == "spendtray"  # the console script of the wheel
    assert entry["Icon"] == "spendtray"
    assert entry["Terminal"] == "false"


def test_metainfo_is_valid_and_matches_the_entry_and_version() -> None:
    result = subprocess.run(
        [tool("appstreamcli"), "validate", "--no-net", "--explain", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID == DESKTOP.stem
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == "spendtray"
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == __version__, "add a <release> for the new version"


def test_the_tray_app_names_the_same_desktop_entry(qapp: object) -> None:
    from spendtray.gui.main import make_application

    assert make_application().desktopFileName() == APP_ID


def test_install_script_puts_entry_metainfo_and_icons_in_place(tmp_path: Path) -> None:
    data = tmp_path / "share"
    command = "/opt/Spend Tray/spendtray"
    result = subprocess.run(
        ["sh", str(LINUX / "install-desktop-entry.sh"), command],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_DATA_HOME": str(data), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    installed = data / "applications" / DESKTOP.name
    assert read_desktop(installed)["Exec"] == f'"{command}"'
    check = subprocess.run(
        [tool("desktop-file-validate"), str(installed)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    assert (data / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    for size in ICON_SIZES:
        icon = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "spendtray.png"
        assert icon.read_bytes() == (ROOT / "resources/icons/png" / f"app-{size}.png").read_bytes()
    assert (data / "icons/hicolor/scalable/apps/spendtray.svg").is_file()


def test_install_script_refuses_a_command_it_cannot_quote(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(LINUX / "install-desktop-entry.sh"), "$HOME/bin/spendtray"],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "unsupported character" in result.stderr
    assert not (tmp_path / "applications").exists()


def test_systemd_unit_runs_spendtray_serve(tmp_path: Path) -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT, encoding="utf-8")
    exec_start = unit["Service"]["ExecStart"].split()
    assert exec_start == ["%h/.local/bin/spendtray", "serve"]
    assert build_parser().parse_args(exec_start[1:]).command == "serve"
    assert unit["Service"]["KillSignal"] == "SIGTERM"  # serve drains the writer on SIGTERM
    assert unit["Install"]["WantedBy"] == "default.target"
    # systemd's own check, with ExecStart pointing at a real `spendtray` script
    script = Path(sys.executable).with_name("spendtray")
    assert script.is_file()
    copy = tmp_path / "spendtray.service"
    copy.write_text(UNIT.read_text().replace("%h/.local/bin/spendtray", str(script)))
    result = subprocess.run(
        [tool("systemd-analyze"), "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spendtray.service" not in result.stderr, result.stderr
