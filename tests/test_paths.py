"""Shipped files are found from a checkout, from inside a built wheel, and from a frozen bundle."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from spendtray import paths

ROOT = Path(__file__).resolve().parent.parent


def test_checkout_finds_resources_and_pricing() -> None:
    assert (paths.resources_dir() / "tiktoken" / "o200k_base.tiktoken").is_file()
    assert (paths.pricing_dir() / "local.toml").is_file()


def test_frozen_bundle_root_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pricing").mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    paths.shipped_dir.cache_clear()
    try:
        assert paths.pricing_dir() == tmp_path / "pricing"
    finally:
        paths.shipped_dir.cache_clear()


@pytest.mark.slow
def test_wheel_carries_resources_and_pricing(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("spendtray-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "spendtray/_data/pricing/local.toml" in names
    assert "spendtray/_data/resources/tiktoken/o200k_base.tiktoken" in names
    assert "spendtray/_data/resources/tiktoken/cl100k_base.tiktoken" in names
