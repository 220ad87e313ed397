"""Shared fixtures: a real data folder, a real core with its server on a loopback port.

Every test also gets, without asking:
- its own ``SPENDTRAY_HOME`` (and none of the developer's ``SPENDTRAY_*`` settings), so no test
  reads or writes the real data folder;
- a check that it left no Spendtray thread running (``spendtray-*``) and no SQLite file of its
  temporary folder open — what ``Core.stop()`` and every fixture must guarantee.

Test tiers (markers, registered in pyproject.toml): ``gui`` (tests/gui), ``packaging``
(tests/packaging: wheels, bundles, validators) and ``slow`` (more than a few seconds each).
``make test-fast`` runs ``-m "not slow and not packaging"`` in about a minute; ``make test`` (and
so CI) runs everything.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "app") not in sys.path:
    sys.path.insert(0, str(ROOT / "app"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from leaks import open_data_files, spendtray_threads  # noqa: E402
from spendtray.config import Settings, load_settings  # noqa: E402
from spendtray.core import Core  # noqa: E402

TESTS = Path(__file__).resolve().parent
# Folders whose every test carries a marker (the others are marked one by one).
FOLDER_MARKERS = {"gui": "gui", "packaging": "packaging"}
# How long a test's threads may take to end after its teardown (a thread that was told to
# stop but has not been joined yet, e.g. the tokenizer warm-up finishing its file).
THREAD_GRACE_S = 10.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(TESTS).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker is not None:
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def _leaves_nothing_running(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a Spendtray thread alive or one of its SQLite files open.
    Requested first (autouse, root conftest), so it is torn down after every other fixture.
    ``@pytest.mark.leaves_threads`` exempts a test whose point is a thread left stuck."""
    before = spendtray_threads()
    yield
    if request.node.get_closest_marker("leaves_threads") is not None:
        return
    deadline = time.monotonic() + THREAD_GRACE_S
    left = spendtray_threads() - before
    for thread in left:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = sorted(t.name for t in left if t.is_alive())
    open_files = open_data_files(tmp_path)
    if open_files:
        # A connection the test itself dropped may wait for the cycle collector; what a
        # running part still holds (a thread's connection) survives this.
        gc.collect()
        open_files = open_data_files(tmp_path)
    if alive or open_files:
        pytest.fail(
            f"the test left Spendtray threads running: {alive}; SQLite files open: {open_files} "
            "(stop every Core and close every connection it opens)",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own data folder, as ``SPENDTRAY_HOME`` for every test (autouse): nothing
    reads or writes the real one, and no ``SPENDTRAY_*`` setting of the developer's shell leaks
    in. Tests that need another folder pass ``--home`` or set the variable themselves."""
    for name in [n for n in os.environ if n.startswith("SPENDTRAY_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "spendtray-home"
    monkeypatch.setenv("SPENDTRAY_HOME", str(path))
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
