"""A new user's first hour with the command line: the start-up line's token command, broken
configs, a second server on the same data folder. Real subprocesses, a real data folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sharedkit import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
VENV_SPENDTRAY = Path(sys.executable).with_name("spendtray")  # what `make run` starts


def plain_env(**extra: str) -> dict[str, str]:
    """A second terminal: no venv on PATH, no SPENDTRAY_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPENDTRAY_")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env.pop("VIRTUAL_ENV", None)
    return {**env, **extra}


def first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    return proc.stderr.readline()


@pytest.mark.slow
@pytest.mark.skipif(not VENV_SPENDTRAY.exists(), reason="needs the venv's spendtray script")
def test_the_startup_lines_token_command_works_from_another_terminal(
    home: Path, tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [str(VENV_SPENDTRAY), "serve", "--port", "0"],
        env=plain_env(SPENDTRAY_HOME=str(home)),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first_line(proc)
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        token_command = re.search(r"token: `([^`]+)`", line)
        assert url and token_command, line
        wait_healthy(url.group(0))
        assert "--home" in token_command.group(1)
        printed = subprocess.run(
            ["sh", "-c", token_command.group(1)],
            env=plain_env(),  # neither PATH nor SPENDTRAY_HOME lead to this instance
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.strip() == (home / "token").read_text().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_make_run_says_how_to_reach_the_command() -> None:
    dry = subprocess.run(
        ["make", "-n", "run", "serve", f"STAMP={ROOT}/Makefile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert dry.count("source ") == 2 and f"{ROOT}/.venv/bin/activate" in dry
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quick start") : readme.index("## Install")]
    assert "source .venv/bin/activate" in quick


def cli_env(
    home: Path, extra_env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`spendtray ARGS` run to its end — or, with a short ``timeout``, stopped then with
    ``returncode`` None (it was still running)."""
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "spendtray", *args],
        env={**env, **extra_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        code = None
    return subprocess.CompletedProcess(proc.args, code, out, err)  # type: ignore[arg-type]


def cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return cli_env(home, {}, *args, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ('port = "x"\n', ["config key 'port'", "'x'"]),
        ("port = 70000\n", ["config key 'port'", "70000"]),
        ('webhook_url = "not a url"\n', ["config key 'webhook_url'", "'not a url'"]),
        ('webhook_url = "ftp://example.com/x"\n', ["config key 'webhook_url'", "http(s)"]),
        ("colour = 1\n", ["unknown key 'colour'"]),
        ("port = \n", ["not valid TOML"]),
        (b"port = '\xff'\n", ["cannot be read"]),
    ],
)
def test_a_broken_config_names_the_file_and_key(
    home: Path, content: str | bytes, needles: list[str]
) -> None:
    home.mkdir(parents=True)
    path = home / "config.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = one_line_error(cli(home, "report"))
    assert str(path) in line
    for needle in needles:
        assert needle in line


def test_a_bad_webhook_url_stops_the_start(home: Path) -> None:
    """Refused when the server starts, not when the first budget alert fires."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text('webhook_url = "not a url"\n')
    line = one_line_error(cli(home, "serve", "--port", "0"))
    assert "webhook_url" in line and str(home / "config.toml") in line


def test_a_good_webhook_url_is_accepted(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text('webhook_url = "https://hooks.example.com/spendtray"\n')
    assert cli(home, "report").returncode == 0


def test_commands_that_only_locate_files_work_with_a_broken_config(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text('port = "x"\n')
    token_path = cli(home, "token", "--path")
    assert token_path.returncode == 0, token_path.stderr
    assert token_path.stdout.strip() == str(home / "token")
    token = cli(home, "token")
    assert token.returncode == 0 and token.stdout.strip() == (home / "token").read_text().strip()
    prices_path = cli(home, "prices", "path")
    assert prices_path.returncode == 0, prices_path.stderr
    assert prices_path.stdout.strip() == str(home / "prices.toml")
    other = cli(home, "--home", str(home / "elsewhere"), "token", "--path")
    assert other.stdout.strip() == str(home / "elsewhere" / "token")


def serving(
    home: Path, *args: str, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "spendtray", *args],
        env={**env, **(extra_env or {})},
        stderr=subprocess.PIPE,
        text=True,
    )
    line = first_line(proc)
    url = re.search(r"http://127\.0\.0\.1:\d+", line)
    if url is None:  # the whole stderr, not just a traceback's first line
        proc.kill()
        assert proc.stderr is not None
        raise AssertionError(line + proc.stderr.read())
    wait_healthy(url.group(0))
    return proc, url.group(0)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_second_server_on_the_same_data_folder_names_the_first(home: Path) -> None:
    first, url = serving(home, "serve", "--port", "0")
    try:
        line = one_line_error(cli(home, "serve", "--port", "0"))  # "--port" as the old advice
        assert "already serving the data folder" in line and str(home) in line
        assert f"pid {first.pid}" in line and url in line and "`spendtray serve`" in line
        headless = one_line_error(  # `spendtray` without a display serves headless
            cli_env(home, {"DISPLAY": "", "WAYLAND_DISPLAY": ""}, "--port", "0")
        )
        assert f"pid {first.pid}" in headless
        other = cli(home, "--home", str(home / "other"), "serve", "--port", "0", timeout=3)
        assert other.returncode is None  # another folder: still serving when stopped
    finally:
        stop(first)
    second, _ = serving(home, "serve", "--port", "0")  # the lock went with the first
    stop(second)


def test_a_killed_server_leaves_no_stale_claim(home: Path) -> None:
    first, _ = serving(home, "serve", "--port", "0")
    first.kill()
    first.wait(timeout=30)
    second, _ = serving(home, "serve", "--port", "0")
    stop(second)


def test_the_tray_app_started_while_serve_runs_says_so_on_stderr(home: Path) -> None:
    pytest.importorskip("PySide6")
    first, url = serving(home, "serve", "--port", "0")
    try:
        gui = cli_env(home, {"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "--port", "0")
        line = one_line_error(gui)
        assert f"pid {first.pid}" in line and url in line
    finally:
        stop(first)
