"""Fixtures for the Python client: a fake LLM upstream, a reset client, a restartable app."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_upstream import Upstream, start_upstream

from spendtray.app_headless import build_core
from spendtray.client.recorder import default_recorder, replace_default
from spendtray.client.settings import ClientSettings
from spendtray.config import load_settings
from spendtray.core import Core


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with start_upstream() as up:
        yield up


@pytest.fixture
def reset_client(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``reset_client(**settings)``: a fresh default recorder that discovers the app itself."""
    for name in ("SPENDTRAY_URL", "SPENDTRAY_TOKEN", "SPENDTRAY_PROJECT", "SPENDTRAY_AGENT"):
        monkeypatch.delenv(name, raising=False)

    def reset(**settings: Any) -> None:
        settings.setdefault("exit_timeout", 2.0)
        replace_default(ClientSettings(**settings))

    reset()
    yield reset
    default_recorder().close(timeout=3)
    replace_default(ClientSettings())


@pytest.fixture(scope="module")
def shared_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    """One app for a module whose tests each use their own project."""
    home = tmp_path_factory.mktemp("shared-home")
    with running_app(home, 0) as app:
        yield app


@pytest.fixture
def tracked_app(
    shared_core: Core, reset_client: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> Core:
    """The real app on its port, found by the client the app's way: SPENDTRAY_HOME (its token
    file) and SPENDTRAY_PORT."""
    monkeypatch.setenv("SPENDTRAY_HOME", str(shared_core.settings.home))
    monkeypatch.setenv("SPENDTRAY_PORT", str(httpx.URL(shared_core.url).port))
    reset_client()
    return shared_core


@contextmanager
def running_app(home: Path, port: int) -> Iterator[Core]:
    core = build_core(load_settings(home=home, port=port), warm_tokenizers=False)
    core.start_background()
    try:
        yield core
    finally:
        core.stop()


def stored(core: Core, **filters: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}) as c:
        answer = c.get("/v1/usage", params={"limit": "1000", **filters})
        answer.raise_for_status()
        return list(answer.json()["events"])


def spool_files(home: Path) -> list[Path]:
    folder = home / "spool"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def spooled_events(home: Path) -> list[dict[str, Any]]:
    events = []
    for path in spool_files(home):
        for line in path.read_bytes().splitlines():
            if line.strip():
                events.append(json.loads(line))
    return events
