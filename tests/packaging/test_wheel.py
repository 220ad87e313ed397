"""`pip install .` (not editable) into a fresh venv outside the repo gives a working `spendtray`.

What CI proves here, end to end, on the installed console script: `--version`, an offline
`estimate` with exact tiktoken counts from the tokenizer files inside the wheel, and a
`serve` + POST + `report` round trip priced from the price data inside the wheel.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
from packkit import ROOT, Installed, run_cli, serving

from spendtray import __version__

# Every proxy variable pointing at a closed port: any attempt to reach the network fails.
OFFLINE = {
    name: "http://127.0.0.1:9"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
}


def test_wheel_carries_data_and_the_console_script(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for shipped in (
        *(f"resources/icons/{p.name}" for p in (ROOT / "resources" / "icons").glob("*.svg")),
        *(
            f"resources/icons/png/{p.name}"
            for p in (ROOT / "resources" / "icons" / "png").glob("*.png")
        ),
        "resources/tiktoken/o200k_base.tiktoken",
        "resources/tiktoken/cl100k_base.tiktoken",
        "pricing/local.toml",
    ):
        assert f"spendtray/_data/{shipped}" in names, shipped
    assert "spendtray/_data/resources/icons/png/tray-ok-16.png" in names
    assert not [n for n in names if "/screenshots/" in n], "README images do not ship"
    modules = {n for n in names if n.startswith("spendtray/") and n.endswith(".py")}
    package = ROOT / "app"
    assert modules == {
        p.relative_to(package).as_posix() for p in package.rglob("spendtray/**/*.py")
    }
    (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "spendtray = spendtray.cli.main:main" in archive.read(entry_points).decode()


def test_installed_package_is_the_wheel_not_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    probe = (
        "import json, spendtray, spendtray.paths as p;"
        "print(json.dumps([spendtray.__file__, str(p.resources_dir()), str(p.pricing_dir())]))"
    )
    out = subprocess.run(
        [str(installed.python), "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=installed.env(tmp_path / "home"),
    ).stdout
    for location in json.loads(out):
        assert Path(location).is_relative_to(installed.prefix), location
    assert not any(Path(p).is_relative_to(ROOT) for p in json.loads(out))


def test_version(installed: Installed, tmp_path: Path) -> None:
    result = run_cli(
        installed.script, "--version", cwd=tmp_path, env=installed.env(tmp_path / "home")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"spendtray {__version__}"


def test_estimate_is_exact_and_offline(installed: Installed, tmp_path: Path) -> None:
    from spendtray.estimator.tokenizers import count_text

    text = "Summarise the quarterly report in three bullet points, please. " * 40
    expected = count_text(text, "o200k_base")
    env = installed.env(tmp_path / "home", TIKTOKEN_CACHE_DIR=str(tmp_path / "empty"), **OFFLINE)
    result = run_cli(
        installed.script,
        *("estimate", "-", "-m", "gpt-4o", "-m", "claude-haiku-4-5"),
        *("--output-tokens", "200", "--format", "json"),
        cwd=tmp_path,
        env=env,
        input=text,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = {r["model"]: r for r in json.loads(result.stdout)["results"]}
    assert rows["gpt-4o"]["exact"] is True
    assert rows["gpt-4o"]["input_tokens"] == expected
    assert rows["gpt-4o"]["total_cost_usd"] > 0
    assert rows["claude-haiku-4-5"]["exact"] is False
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())


def test_serve_post_report_round_trip(installed: Installed, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = installed.env(home)
    with serving(installed.script, tmp_path, env) as url:
        token = subprocess.run(
            [str(installed.script), "token"], capture_output=True, text=True, check=True, env=env
        ).stdout.strip()
        assert len(token) >= 20
        event = {"model": "gpt-4o", "input_tokens": 1_000_000, "output_tokens": 100_000}
        reply = httpx.post(
            f"{url}/v1/usage",
            json={**event, "project": "wheel-check", "request_id": "r1"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert reply.status_code == 202, reply.text
        # gpt-4o list price: $2.50 / M input, $10 / M output
        assert reply.json()["events"][0]["cost_usd"] == pytest.approx(3.5)
        unauthorised = httpx.post(f"{url}/v1/usage", json=event, timeout=30)
        assert unauthorised.status_code == 401
    report = run_cli(
        installed.script, "report", "--by", "project", "--format", "json", cwd=tmp_path, env=env
    )
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)["rows"]
    assert [(r["key"], r["calls"], r["cost_usd"]) for r in rows] == [("wheel-check", 1, 3.5)]
