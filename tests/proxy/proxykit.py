"""Plain helpers of the proxy tests (fixtures live in conftest.py): the provider keys the
tests send, a config pointing the upstreams at the fake, a core, and its stored events."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from spendtray.config import load_settings
from spendtray.core import Core

OPENAI_KEY = "sk-proj-SECRET-openai-key-0123456789"
ANTHROPIC_KEY = "sk-ant-api03-SECRET-anthropic-key-9876543210"


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
    from spendtray.core import Core

    core = Core(load_settings(home=home, port=0), warm_tokenizers=False)
    core.start_background()
    return core


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
