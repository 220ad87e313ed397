"""The PyInstaller bundle (packaging/spendtray.spec, what `make package` builds) runs here.

Built once per session into a temp folder with the same spec and flags as `make package`
(about 40 s on this 2-core machine), then driven as a user would: `--version`, an offline
`estimate`, and `serve` + POST + `report`. The bundle is windowed (``console=False``); on
Linux that keeps the terminal's streams, so the commands print as usual.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from packkit import ROOT, run_cli, serving, user_env

from spendtray import __version__


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("pyinstaller")
    env = {**os.environ, "PYINSTALLER_CONFIG_DIR": str(work / "config")}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"),
            *("--distpath", str(work / "dist"), "--workpath", str(work / "build")),
            str(ROOT / "packaging" / "spendtray.spec"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    exe = work / "dist" / "spendtray" / "spendtray"
    assert exe.is_file()
    return exe


def test_bundle_carries_its_data_and_no_screenshots(bundle: Path) -> None:
    data = bundle.parent / "_internal"
    assert (data / "resources" / "tiktoken" / "o200k_base.tiktoken").is_file()
    assert (data / "resources" / "icons" / "tray-warning.svg").is_file()
    assert (data / "pricing" / "local.toml").is_file()
    assert not (data / "resources" / "screenshots").exists()


def test_bundled_version(bundle: Path, tmp_path: Path) -> None:
    result = run_cli(bundle, "--version", cwd=tmp_path, env=user_env(tmp_path / "home"), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"spendtray {__version__}"


def test_bundled_estimate(bundle: Path, tmp_path: Path) -> None:
    from spendtray.estimator.tokenizers import count_text

    text = "How many tokens is this sentence, and what does it cost?"
    result = run_cli(
        bundle,
        *("estimate", "-", "-m", "gpt-4o", "--format", "json"),
        cwd=tmp_path,
        env=user_env(tmp_path / "home"),
        input=text,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["results"]
    assert (row["model"], row["exact"]) == ("gpt-4o", True)
    assert row["input_tokens"] == count_text(text, "o200k_base")


def test_bundled_serve_round_trip(bundle: Path, tmp_path: Path) -> None:
    env = user_env(tmp_path / "home")
    with serving(bundle, tmp_path, env) as url:
        token = (tmp_path / "home" / "token").read_text().strip()
        reply = httpx.post(
            f"{url}/v1/usage",
            json={"model": "claude-sonnet-4-5", "input_tokens": 100_000, "project": "bundled"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert reply.status_code == 202, reply.text
        assert reply.json()["events"][0]["cost_usd"] == pytest.approx(0.3)  # $3 / M input
    report = run_cli(
        bundle, "report", "--by", "project", "--format", "json", cwd=tmp_path, env=env, timeout=60
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["total"]["cost_usd"] == pytest.approx(0.3)
