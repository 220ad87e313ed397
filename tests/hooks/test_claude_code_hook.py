"""The Claude Code hook: install/uninstall on settings files with existing content (user scope
via CLAUDE_CONFIG_DIR, project scope), and the installed command run exactly as Claude Code
runs it — through the shell, the event's JSON on stdin — against the real app: the block
decision and message, the project from the session's directory (the importer's mapping), and
the app-down case said once per session."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.claude_code_projects import ProjectNames, folder_code
from spendtray.cli.main import main
from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.importers import claude_code as importer

EXISTING: dict[str, Any] = {
    "model": "opus",
    "statusLine": {"type": "command", "command": "my-status"},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def claude_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def app(home: Path) -> Iterator[Core]:
    """The real app on a port written in config.toml, where the hook looks for it."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"port = {free_port()}\n", encoding="utf-8")
    core = Core(load_settings(home=home), warm_tokenizers=False)
    core.start_background()
    yield core
    core.stop()


def cli(*args: str) -> int:
    return main(list(args))


def hook_command(claude_dir: Path) -> str:
    settings = json.loads((claude_dir / "settings.json").read_text(encoding="utf-8"))
    [group] = [g for g in settings["hooks"]["PreToolUse"] if g.get("matcher") == "*"]
    [hook] = group["hooks"]
    assert hook["type"] == "command"
    command: str = hook["command"]
    [prompt_group] = settings["hooks"]["UserPromptSubmit"]
    assert prompt_group["hooks"][0]["command"] == command
    return command


def run_hook(command: str, event: dict[str, Any], cwd: Path) -> tuple[int, Any, str]:
    """As Claude Code does: the command through the shell, JSON on stdin, in the session's
    directory; an environment without SPENDTRAY_HOME (the command names the data folder)."""
    env = {k: v for k, v in os.environ.items() if k != "SPENDTRAY_HOME"}
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        command,
        shell=True,
        input=json.dumps(event).encode(),
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    out = done.stdout.decode().strip()
    return done.returncode, (json.loads(out) if out else None), done.stderr.decode()


def event(kind: str, cwd: Path, claude_dir: Path, session: str, start: Path) -> dict[str, Any]:
    transcript = claude_dir / "projects" / folder_code(str(start)) / f"{session}.jsonl"
    base = {
        "session_id": session,
        "transcript_path": str(transcript),
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": kind,
    }
    if kind == "PreToolUse":
        return {**base, "tool_name": "Bash", "tool_input": {"command": "npm test"}}
    return {**base, "prompt": "keep going"}


def test_install_keeps_what_is_there_and_uninstall_removes_exactly_ours(
    claude_dir: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = claude_dir / "settings.json"
    claude_dir.mkdir()
    original = json.dumps(EXISTING, indent=4)
    settings.write_text(original, encoding="utf-8")

    assert cli("hooks", "install", "claude-code") == 0
    assert capsys.readouterr().out.startswith(f"installed in {settings} (UserPromptSubmit, ")
    data = json.loads(settings.read_text(encoding="utf-8"))
    assert {k: v for k, v in data.items() if k != "hooks"} == {
        "model": "opus",
        "statusLine": EXISTING["statusLine"],
    }
    assert data["hooks"]["Stop"] == EXISTING["hooks"]["Stop"]
    assert data["hooks"]["PreToolUse"][0] == EXISTING["hooks"]["PreToolUse"][0]
    command = hook_command(claude_dir)
    assert command.endswith(f"--home {home} hooks run claude-code")
    [backup] = claude_dir.glob("settings.json.spendtray-backup-*")
    assert backup.read_text(encoding="utf-8") == original

    installed = settings.read_text(encoding="utf-8")
    assert cli("hooks", "install", "claude-code") == 0
    assert "already installed" in capsys.readouterr().out
    assert settings.read_text(encoding="utf-8") == installed

    assert cli("hooks", "uninstall", "claude-code") == 0
    assert capsys.readouterr().out.startswith(f"removed from {settings} (2 hook(s))")
    assert json.loads(settings.read_text(encoding="utf-8")) == EXISTING
    assert cli("hooks", "uninstall", "claude-code") == 0
    assert "not installed" in capsys.readouterr().out


def test_project_scope_and_a_broken_settings_file(
    tmp_path: Path, claude_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    assert cli("hooks", "install", "claude-code", "--scope", "project", "--dir", str(repo)) == 0
    data = json.loads((repo / ".claude" / "settings.json").read_text(encoding="utf-8"))
    assert set(data["hooks"]) == {"UserPromptSubmit", "PreToolUse"}
    assert not claude_dir.exists()  # the user's settings are untouched
    assert cli("hooks", "uninstall", "claude-code", "--scope", "project", "--dir", str(repo)) == 0
    assert json.loads((repo / ".claude" / "settings.json").read_text(encoding="utf-8")) == {}

    claude_dir.mkdir()
    (claude_dir / "settings.json").write_text("{not json", encoding="utf-8")
    capsys.readouterr()
    assert cli("hooks", "install", "claude-code") == 2
    err = capsys.readouterr().err
    assert err.startswith("spendtray: ") and "is not valid JSON" in err
    assert len(err.strip().splitlines()) == 1
    assert (claude_dir / "settings.json").read_text(encoding="utf-8") == "{not json"


def test_the_hook_blocks_a_session_whose_hard_budget_is_spent(
    app: Core, tmp_path: Path, claude_dir: Path
) -> None:
    assert importer.ProjectNames is ProjectNames  # one mapping for the importer and the hook
    start = tmp_path / "work" / "acme-repo"
    with httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {app.token}"}) as c:
        c.put(
            "/v1/budgets/acme-repo", json={"period": "day", "limit_usd": 0.1, "mode": "hard"}
        ).raise_for_status()
        c.post(
            "/v1/usage",
            json={"model": "gpt-4o-mini", "input_tokens": 1_000_000, "project": "acme-repo"},
        ).raise_for_status()
    assert cli("hooks", "install", "claude-code") == 0
    command = hook_command(claude_dir)

    # a session started in the repository, now in a sub-folder: the project is the repository
    deeper = start / "src" / "lib"
    code, out, err = run_hook(command, event("PreToolUse", deeper, claude_dir, "s1", start), deeper)
    assert (code, err) == (0, "")
    decision = out["hookSpecificOutput"]
    assert decision["hookEventName"] == "PreToolUse"
    assert decision["permissionDecision"] == "deny"
    reason = decision["permissionDecisionReason"]
    assert reason.startswith(
        "Spendtray stopped this session: the hard day budget of project 'acme-repo' "
        "($0.10 today) is used up — $0.15 spent."
    )
    assert out["continue"] is False and out["stopReason"] == reason

    code, out, _ = run_hook(
        command, event("UserPromptSubmit", start, claude_dir, "s1", start), start
    )
    assert code == 0 and out["decision"] == "block"
    assert "project 'acme-repo'" in out["reason"]

    # another project, no budget: nothing to say, the call goes on
    calm = tmp_path / "work" / "calm"
    code, out, err = run_hook(command, event("PreToolUse", calm, claude_dir, "s2", calm), calm)
    assert (code, out, err) == (0, None, "")


def test_a_pinned_project(app: Core, tmp_path: Path, claude_dir: Path) -> None:
    with httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {app.token}"}) as c:
        c.put(
            "/v1/budgets/pinned", json={"period": "day", "limit_usd": 1, "mode": "hard"}
        ).raise_for_status()
        c.post(
            "/v1/usage", json={"model": "gpt-4o", "input_tokens": 500_000, "project": "pinned"}
        ).raise_for_status()
    assert cli("hooks", "install", "claude-code", "--project", "pinned") == 0
    command = hook_command(claude_dir)
    anywhere = tmp_path / "elsewhere"
    _, out, _ = run_hook(
        command, event("PreToolUse", anywhere, claude_dir, "s", anywhere), anywhere
    )
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "project 'pinned'" in out["stopReason"]


def test_app_down_lets_the_session_go_on_and_says_so_once(
    home: Path, tmp_path: Path, claude_dir: Path
) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"port = {free_port()}\n", encoding="utf-8")
    (home / "token").write_text("token-of-an-app-that-is-not-running\n", encoding="utf-8")
    assert cli("hooks", "install", "claude-code") == 0
    command = hook_command(claude_dir)
    repo = tmp_path / "repo"

    code, out, err = run_hook(command, event("PreToolUse", repo, claude_dir, "a", repo), repo)
    assert (code, err) == (0, "")
    assert set(out) == {"systemMessage"}
    assert out["systemMessage"].startswith(
        "Spendtray budgets are not checked in this session: Spendtray is not running"
    )
    for kind in ("PreToolUse", "UserPromptSubmit"):  # said once per session
        assert run_hook(command, event(kind, repo, claude_dir, "a", repo), repo) == (0, None, "")
    code, out, _ = run_hook(command, event("PreToolUse", repo, claude_dir, "b", repo), repo)
    assert "systemMessage" in out  # a new session hears it once too


def test_bad_input_is_a_non_blocking_error(home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "SPENDTRAY_HOME": str(home)}
    done = subprocess.run(
        ["spendtray", "hooks", "run", "claude-code"],
        input=b"[1, 2",
        capture_output=True,
        env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"},
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().startswith("spendtray hook: ")


def test_the_hook_and_check_import_nothing_heavy(home: Path, tmp_path: Path) -> None:
    """They run before every prompt and tool call: no server, store, prices or tokenizers."""
    probe = (
        "import io, json, sys\n"
        "from spendtray.cli.main import HEAVY_MODULES, main\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[1].encode()))\n"
        "code = main(sys.argv[2:])\n"
        "heavy = [m for m in HEAVY_MODULES if m in sys.modules]\n"
        "print(json.dumps({'code': code, 'heavy': heavy, 'http': 'http.client' in sys.modules}))\n"
    )
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"port = {free_port()}\n", encoding="utf-8")
    (home / "token").write_text("some-token\n", encoding="utf-8")
    stdin = json.dumps(event("PreToolUse", tmp_path, tmp_path, "s", tmp_path))
    for argv in (["hooks", "run", "claude-code"], ["check", "--project", "acme"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, stdin, *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "SPENDTRAY_HOME": str(home)},
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result == {"code": 0 if argv[0] == "hooks" else 20, "heavy": [], "http": False}
