"""Fixtures for the Python client: a fake LLM upstream, a reset client, a restartable app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_upstream import Upstream, start_upstream
from clientkit import running_app

from spendtray.client.recorder import default_recorder, replace_default
from spendtray.client.settings import ClientSettings
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
