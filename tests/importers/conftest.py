"""Importer fixtures: a real core (SQLite file, writer thread, server on 127.0.0.1:0), importers
bound to it, day totals read back through the real Reader, and ccusage installed once per
session from the npm registry into the pytest cache (skipped with the reason when impossible).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spendtray.core import Core
from spendtray.importers import Importer

CCUSAGE_VERSION = "20.0.24"  # 20.0.26's linux-x64 binary is missing from the registry


@pytest.fixture
def make_importer(core: Core) -> Iterator[Callable[..., Importer]]:
    made: list[Importer] = []

    def make(kind: str, *paths: Path, **kwargs: Any) -> Importer:
        # As ``Importer.for_core`` makes them: each batch's last chunk commits while the next
        # batch is read (``submit``).
        kwargs.setdefault("submit", core.ingest.submit_events)
        importer = Importer(
            core.ingest.ingest_events,
            core.writer,
            core.settings.db_path,
            kind,
            list(paths) or None,
            **kwargs,
        )
        made.append(importer)
        return importer

    yield make
    for importer in made:
        importer.close()


@pytest.fixture(scope="session")
def ccusage(pytestconfig: pytest.Config) -> Callable[..., Any]:
    """Run ``ccusage <args> --json --offline`` (installed once, pinned, into the pytest cache)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node/npm are not installed; the ccusage comparison needs them")
    pytest_cache = getattr(pytestconfig, "cache", None)  # no attribute without the plugin
    if pytest_cache is not None:
        cache = Path(str(pytest_cache.mkdir("ccusage-" + CCUSAGE_VERSION)))
    else:  # -p no:cacheprovider
        cache = Path.home() / ".cache" / "spendtray-tests" / ("ccusage-" + CCUSAGE_VERSION)
    binary = cache / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        done = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(cache),
                f"ccusage@{CCUSAGE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not binary.exists():
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"npm install ccusage@{CCUSAGE_VERSION} failed: {reason[0]}")

    def run(*args: str, env: dict[str, str], timezone: str = "UTC") -> Any:
        done = subprocess.run(
            [str(binary), *args, "--json", "--offline", "--timezone", timezone],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, **env},
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


@pytest.fixture
def no_server(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI at a port where nothing listens, so it writes the database itself."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SPENDTRAY_PORT", str(port))
