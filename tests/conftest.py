"""Shared fixtures: a real data folder, a real core with its server on a loopback port."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "app") not in sys.path:
    sys.path.insert(0, str(ROOT / "app"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from spendtray.config import Settings, load_settings  # noqa: E402
from spendtray.core import Core  # noqa: E402


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "spendtray-home"
    monkeypatch.setenv("SPENDTRAY_HOME", str(path))
    monkeypatch.delenv("SPENDTRAY_PORT", raising=False)
    return path


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home=home, port=0)


@pytest.fixture
def core(settings: Settings) -> Iterator[Core]:
    c = Core(settings, warm_tokenizers=True)
    c.start_background()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def client(core: Core) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}, timeout=30
    ) as c:
        yield c
