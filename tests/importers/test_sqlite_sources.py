"""The SQLite-store sources (Hermes, Kilo CLI, ZCode): their environment overrides move where
they look, and one database found twice (a profile copying a session) stores the call once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from importkit import total_row
from sourcekit import AGENT_ENV, CASES, build_databases

from spendtray.core import Core
from spendtray.importers import Importer
from spendtray.importers.registry import source

# source -> (variable, the folder it names, relative to the fixture home)
OVERRIDES = {
    "hermes": ("HERMES_HOME", ".hermes"),
    "kilo": ("KILO_DATA_DIR", ".local/share/kilo"),
    "zcode": ("ZCODE_HOME", ".zcode"),
}


@pytest.mark.parametrize("kind", sorted(OVERRIDES))
def test_env_override_moves_the_store(
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    variable, folder = OVERRIDES[kind]
    fixture = tmp_path / "fixture"
    shutil.copytree(CASES[kind].home, fixture)
    build_databases(fixture)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(fixture / folder, elsewhere)
    empty_home = tmp_path / "home"
    empty_home.mkdir()
    monkeypatch.setenv("HOME", str(empty_home))
    assert source(kind).roots() == []  # nothing in the default place any more
    monkeypatch.setenv(variable, str(elsewhere))
    assert source(kind).roots()
    report = make_importer(kind).run()
    assert report.stored > 0 and report.stats.malformed == 0
    assert total_row(core, kind)["calls"] == report.stored


def test_hermes_session_in_two_profiles_is_stored_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    shutil.copytree(CASES["hermes"].home, home)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))
    report = make_importer("hermes").run()
    # 3 sessions with usage in state.db + 2 in profiles/work (one a copy): 4 calls
    assert (report.stored, report.duplicates) == (4, 1)
    assert total_row(core, "hermes")["input_tokens"] == (
        (18250 + 142336 + 20480) + (40210 + 12800) + (5400 + 30720 + 4096) + 8800
    )
