"""Plain helpers of the client tests (fixtures live in conftest.py): a restartable app, its
stored events, and the client's spool files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from spendtray.config import load_settings
from spendtray.core import Core


@contextmanager
def running_app(home: Path, port: int) -> Iterator[Core]:
    core = Core(load_settings(home=home, port=port), warm_tokenizers=False)
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
