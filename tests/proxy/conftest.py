"""Proxy fixtures: a fake OpenAI/Anthropic upstream and a real Spendtray core whose config.toml
points its upstreams at it, both on loopback port 0. Session-scoped (every test uses its own
project names), so the whole proxy suite starts each server once."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_llm_upstream import FakeUpstream

from spendtray.config import load_settings
from spendtray.core import Core

OPENAI_KEY = "sk-proj-SECRET-openai-key-0123456789"
ANTHROPIC_KEY = "sk-ant-api03-SECRET-anthropic-key-9876543210"


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fresh_replies(request: pytest.FixtureRequest) -> None:
    if "upstream" in request.fixturenames:
        request.getfixturevalue("upstream").replies.clear()


def write_config(home: Path, upstream_url: str, extra: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"""{extra}
[upstreams]
openai = "{upstream_url}"
anthropic = "{upstream_url}/"

[upstreams.router]
url = "{upstream_url}/api/v1"
provider = "openrouter"
""",
        encoding="utf-8",
    )


def start_core(home: Path) -> Core:
    from spendtray.app_headless import build_core

    core = build_core(load_settings(home=home, port=0), warm_tokenizers=False)
    core.start_background()
    return core


@pytest.fixture(scope="session")
def proxy_core(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    home = tmp_path_factory.mktemp("proxy-home")
    write_config(home, upstream.url)
    core = start_core(home)
    yield core
    core.stop()


def api(core: Core) -> httpx.Client:
    """Spendtray's own API (token auth)."""
    return httpx.Client(
        base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}, timeout=10
    )


def wait_events(core: Core, project: str, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The project's stored events (oldest first) once there are ``n`` of them."""
    deadline = time.monotonic() + timeout
    with api(core) as client:
        while True:
            r = client.get("/v1/usage", params={"project": project, "limit": 100})
            r.raise_for_status()
            events: list[dict[str, Any]] = r.json()["events"]
            if len(events) >= n or time.monotonic() > deadline:
                assert len(events) == n, f"expected {n} events for {project!r}, got {events}"
                return events[::-1]
            time.sleep(0.01)


@pytest.fixture
def events_of(proxy_core: Core) -> Callable[[str, int], list[dict[str, Any]]]:
    return lambda project, n: wait_events(proxy_core, project, n)
