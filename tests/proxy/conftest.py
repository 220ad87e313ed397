"""Proxy fixtures: a fake OpenAI/Anthropic upstream and a real Spendtray core whose config.toml
points its upstreams at it, both on loopback port 0. Session-scoped (every test uses its own
project names), so the whole proxy suite starts each server once."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_llm_upstream import FakeUpstream
from proxykit import start_core, wait_events, write_config

from spendtray.core import Core


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fresh_replies(request: pytest.FixtureRequest) -> None:
    if "upstream" in request.fixturenames:
        request.getfixturevalue("upstream").replies.clear()


@pytest.fixture(scope="session")
def proxy_core(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    home = tmp_path_factory.mktemp("proxy-home")
    write_config(home, upstream.url)
    core = start_core(home)
    yield core
    core.stop()


@pytest.fixture
def events_of(proxy_core: Core) -> Callable[[str, int], list[dict[str, Any]]]:
    return lambda project, n: wait_events(proxy_core, project, n)
