"""The dashboard's Machine filter and breakdown, and each machine's last sync, with spend from
two machines: this one ("desk", the app under test) and a second home ("laptop") whose events
arrive through the sync folder both share, as over a network share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from sharedkit import UNIT_PRICES
from spendtray.config import Settings, load_settings
from spendtray.core import Core
from spendtray.gui.tables import RowsModel
from spendtray.views.columns import row_texts


def _settings(home: Path, folder: Path, name: str) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    (home / "prices.toml").write_text(UNIT_PRICES, encoding="utf-8")
    return replace(load_settings(home=home, port=0), machine=name, sync_folder=str(folder))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "sync-folder"
    path.mkdir()
    return path


@pytest.fixture
def settings(home: Path, folder: Path) -> Settings:  # the app under test is "desk"
    return _settings(home, folder, "desk")


@pytest.fixture
def laptop(tmp_path: Path, folder: Path) -> Iterator[Core]:
    core = Core(_settings(tmp_path / "laptop-home", folder, "laptop"))
    core.start()
    try:
        yield core
    finally:
        core.stop()


def _calls(core: Core, n: int, project: str, tokens: int) -> None:
    core.ingest.ingest(
        [
            {
                "model": "unit-model",
                "provider": "testco",
                "project": project,
                "input_tokens": tokens,
            }
            for _ in range(n)
        ]
    )


def _table(model: RowsModel) -> dict[str, dict[str, str]]:
    titles = [c.title for c in model.columns]
    return {r.key: dict(zip(titles, row_texts(model.columns, r), strict=True)) for r in model.rows}


def test_machine_breakdown_filter_and_last_sync(
    dashboard: Any, core: Core, laptop: Core, client: httpx.Client, qtbot: Any
) -> None:
    _calls(core, 2, "acme", 1_000_000)  # $1 each on desk
    _calls(laptop, 3, "zeta", 2_000_000)  # $2 each on laptop
    assert laptop.sync is not None and core.sync is not None
    laptop.sync.run_once()  # the laptop writes its events to the folder
    core.sync.run_once()  # desk reads them (its commit refreshes the dashboard)
    dashboard.show_tab("breakdown")
    dashboard.breakdown.show_group("machine")
    model = dashboard.breakdown_models["machine"]
    qtbot.waitUntil(lambda: {r.key for r in model.rows} == {"desk", "laptop"}, timeout=5000)
    rows = _table(model)
    assert rows["laptop"]["Calls"] == "3" and rows["laptop"]["Cost"] == "$6.00"
    assert rows["desk"]["Calls"] == "2" and rows["desk"]["Cost"] == "$2.00"
    # each machine's last sync: the laptop wrote and desk took it moments ago
    assert rows["desk"]["Last synced"] == "this machine"
    assert re.fullmatch(r"\d\d:\d\d \((just now|1 min ago)\)", rows["laptop"]["Last synced"])
    laptop_row = next(r for r in model.rows if r.key == "laptop")
    tip = model.columns[-1].tip(laptop_row)
    assert laptop.sync.machine_id in tip and "received here" in tip
    assert dashboard.breakdown.totals.text().startswith("Total $8.00 · 5 calls")
    # GET /v1/machines reads the same list (spendtray.sync.machines)
    listed = {m["name"]: m for m in client.get("/v1/machines").json()["machines"]}
    assert listed["desk"]["this_machine"] and listed["desk"]["machine_id"] == core.sync.machine_id
    assert listed["laptop"]["machine_id"] == laptop.sync.machine_id
    assert (listed["laptop"]["calls"], listed["laptop"]["cost_usd"]) == (3, 6.0)
    assert listed["laptop"]["last_received"].endswith("Z")

    # the Machine filter, shown now that there are two, narrows everything to one machine
    assert dashboard.combos["machine"].isVisibleTo(dashboard)
    dashboard.set_filter("machine", "laptop")
    project = dashboard.breakdown_models["project"]
    qtbot.waitUntil(lambda: [r.key for r in project.rows] == ["zeta"], timeout=5000)
    assert [r.key for r in model.rows] == ["laptop"]
    assert dashboard.range_value.text() == "$6.00 · 3 calls"
    dashboard.show_tab("calls")
    qtbot.waitUntil(lambda: len(dashboard.calls_model.rows) == 3, timeout=5000)
    assert {e["machine"] for e in dashboard.calls_model.rows} == {"laptop"}
    calls = dashboard.calls_model
    machine = [c.title for c in calls.columns].index("Machine")
    assert {calls.text(i, machine) for i in range(calls.rowCount())} == {"laptop"}
    combo = dashboard.combos["machine"]
    assert [combo.itemText(i) for i in range(combo.count())] == ["All machines", "desk", "laptop"]
