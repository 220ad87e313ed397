"""``machine`` on every event (SPEC §14): stored with this machine's name (config.toml's
``machine`` or the host's), shown by GET /v1/usage, a group_by and a filter of /v1/summary, a
column of ``export`` and a grouping of ``report`` (the real CLI, as a subprocess)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from spendtray.config import ConfigError, load_settings
from spendtray.core import Core
from spendtray.machine import default_machine_name


@pytest.fixture
def desk(home: Path) -> Iterator[tuple[Core, httpx.Client]]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('machine = "desk-01"\n')
    core = Core(load_settings(home=home, port=0))
    core.start_background()
    with httpx.Client(
        base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}, timeout=30
    ) as client:
        yield core, client
    core.stop()


def _post(client: httpx.Client) -> None:
    events = [
        {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 100, "project": p}
        for p in ("acme", "acme", "web")
    ]
    r = client.post("/v1/usage", json=events)
    assert r.status_code == 202, r.text


def test_events_carry_the_configured_machine(desk: tuple[Core, httpx.Client]) -> None:
    _, client = desk
    _post(client)
    events = client.get("/v1/usage").json()["events"]
    assert {e["machine"] for e in events} == {"desk-01"}
    by_machine = client.get("/v1/summary", params={"group_by": "machine"}).json()
    assert [(r["key"], r["calls"]) for r in by_machine["rows"]] == [("desk-01", 3)]
    only = client.get("/v1/summary", params={"group_by": "project", "machine": "desk-01"})
    assert only.json()["total"]["calls"] == 3
    other = client.get("/v1/summary", params={"group_by": "project", "machine": "laptop"})
    assert other.json()["total"]["calls"] == 0
    assert client.get("/v1/usage", params={"machine": "laptop"}).json()["events"] == []


def test_the_default_is_the_host_name(client: httpx.Client) -> None:
    _post(client)
    events = client.get("/v1/usage").json()["events"]
    assert {e["machine"] for e in events} == {default_machine_name()}


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spendtray", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_report_by_machine_and_export_column(desk: tuple[Core, httpx.Client], home: Path) -> None:
    _, client = desk
    _post(client)
    report = _cli(home, "report", "--by", "machine", "--since", "2020-01-01", "--format", "json")
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)["rows"]
    assert [(r["key"], r["calls"]) for r in rows] == [("desk-01", 3)]
    exported = _cli(home, "export", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {row["machine"] for row in table} == {"desk-01"}


@pytest.mark.parametrize("bad", ["", "two words", "a/b", "x" * 65])
def test_a_bad_machine_name_is_refused_naming_the_key(home: Path, bad: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"machine = {json.dumps(bad)}\n")
    with pytest.raises(ConfigError, match="'machine'"):
        load_settings(home=home)
