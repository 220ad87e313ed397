"""`spendtray statusline --install` / `--uninstall` on a Claude Code settings file with content:
a backup of the old file, only `statusLine` changed, an existing statusline kept and restored,
CLAUDE_CONFIG_DIR honoured, a broken file left alone."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "spendtray"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "spendtray"]

EXISTING: dict[str, Any] = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "model": "opus",
    "permissions": {"allow": ["Bash(npm run lint)", "Read(~/.zshrc)"], "deny": []},
    "env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1"},
    "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]},
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh", "padding": 0},
    "cleanupPeriodDays": 99,
}


def run(config_dir: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT / "app"),
    }
    return subprocess.run(
        [*COMMAND, "statusline", *args], env=env, capture_output=True, text=True, timeout=60
    )


def backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("settings.json.spendtray-backup-*"))


def test_install_keeps_everything_else_and_chains_the_old_statusline(tmp_path: Path) -> None:
    config = tmp_path / "claude-config"
    config.mkdir()
    settings = config / "settings.json"
    original = json.dumps(EXISTING, indent=4) + "\n"
    settings.write_text(original, encoding="utf-8")
    settings.chmod(0o600)

    done = run(config, tmp_path / "home", "--install")
    assert done.returncode == 0, done.stderr
    assert "installed in" in done.stdout and "~/.claude/statusline.sh" in done.stdout
    after = json.loads(settings.read_text(encoding="utf-8"))
    assert {k: v for k, v in after.items() if k != "statusLine"} == {
        k: v for k, v in EXISTING.items() if k != "statusLine"
    }
    assert list(after) == list(EXISTING)  # key order too
    line = after["statusLine"]
    assert line["type"] == "command" and line["padding"] == 0
    words = shlex.split(line["command"])
    assert words[words.index("statusline") + 1 :] == ["--then", "~/.claude/statusline.sh"]
    assert Path(words[0]).name.startswith(("spendtray", "python"))
    assert (settings.stat().st_mode & 0o777) == 0o600
    [backup] = backups(config)
    assert backup.read_text(encoding="utf-8") == original
    assert not (tmp_path / "home" / ".claude").exists()  # CLAUDE_CONFIG_DIR won

    again = run(config, tmp_path / "home", "--install")
    assert again.returncode == 0 and "already installed" in again.stdout
    assert json.loads(settings.read_text(encoding="utf-8")) == after

    removed = run(config, tmp_path / "home", "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(settings.read_text(encoding="utf-8")) == EXISTING


def test_install_into_the_default_folder_without_a_settings_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env_dir = tmp_path / "unused"
    done = subprocess.run(
        [*COMMAND, "statusline", "--install"],
        env={
            **{k: v for k, v in os.environ.items() if k != "CLAUDE_CONFIG_DIR"},
            "HOME": str(home),
            "PYTHONPATH": str(ROOT / "app"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    settings = home / ".claude" / "settings.json"
    data = json.loads(settings.read_text(encoding="utf-8"))
    assert list(data) == ["statusLine"]
    assert shlex.split(data["statusLine"]["command"])[-1] == "statusline"
    assert backups(settings.parent) == []
    assert not env_dir.exists()
    removed = run(home / ".claude", home, "--uninstall")
    assert removed.returncode == 0
    assert json.loads(settings.read_text(encoding="utf-8")) == {}


def test_a_broken_settings_file_is_left_alone(tmp_path: Path) -> None:
    config = tmp_path / "claude-config"
    config.mkdir()
    settings = config / "settings.json"
    settings.write_text('{"model": "opus",', encoding="utf-8")
    done = run(config, tmp_path, "--install")
    assert done.returncode == 2
    assert done.stderr.startswith("spendtray: ") and "not valid JSON" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert settings.read_text(encoding="utf-8") == '{"model": "opus",'
    assert backups(config) == []
