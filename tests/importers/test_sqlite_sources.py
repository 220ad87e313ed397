"""The SQLite-store sources (Hermes, Kilo CLI, ZCode, Antigravity): their environment overrides
move where they look, one call found twice is stored once, and Antigravity's protobuf blobs are
read as the fixture's comments say."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from importkit import events, total_row
from sourcekit import AGENT_ENV, CASES, build_databases

from spendtray.core import Core
from spendtray.importers import Importer
from spendtray.importers.registry import source

# source -> (variable, the folder it names, relative to the fixture home)
OVERRIDES = {
    "hermes": ("HERMES_HOME", ".hermes"),
    "kilo": ("KILO_DATA_DIR", ".local/share/kilo"),
    "zcode": ("ZCODE_HOME", ".zcode"),
    "antigravity": ("ANTIGRAVITY_DATA_DIR", ".gemini/antigravity-cli"),
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


def _antigravity_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    shutil.copytree(CASES["antigravity"].home, home)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))
    return home


def test_antigravity_calls_models_and_dates(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    _antigravity_home(tmp_path, monkeypatch)
    report = make_importer("antigravity").run()
    assert report.stats.malformed == 0
    found = {e["request_id"]: e for e in events(core, "antigravity")}
    # the first call is in both its step and its generation: one call, named by the generation
    first = found["antigravity:resp-1"]
    assert (first["model"], first["input_tokens"], first["output_tokens"]) == (
        "gemini-3-pro",
        4050 + 16275,
        255 + 120,
    )
    assert (first["reasoning_tokens"], first["timestamp"][:19]) == (120, "2025-11-27T08:00:03")
    # a later generation without a name is the model named before it; its failed attempt counts
    assert found["antigravity:resp-2"]["model"] == "gemini-3-pro"
    assert found["antigravity:resp-2"]["cache_write_tokens"] == 512
    assert found["antigravity:msg-2-attempt-1"]["input_tokens"] == 9000
    # a call named only by a number is stored unpriced, never guessed
    background = found["antigravity:bg-1"]
    assert (background["model"], background["priced"]) == ("antigravity-model-342", False)
    assert background["timestamp"][:10] == "2025-11-28"
    assert len(found) == 4


def test_antigravity_blob_that_is_not_protobuf_is_a_bad_record(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    home = _antigravity_home(tmp_path, monkeypatch)
    db = home / CASES["antigravity"].log
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO gen_metadata VALUES (50, X'0a05ff')")  # length past its end
    conn.close()
    report = make_importer("antigravity").run()
    assert report.stats.malformed == 1
    assert "gen_metadata row 50: not a protobuf message" in report.stats.malformed_examples[0]
    assert report.stored == 4  # the rest of the conversation is still read


@pytest.mark.parametrize("kind", sorted(OVERRIDES))
def test_database_is_read_whatever_its_size(
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    """The runner never loads a database's bytes (a JSON document over 256 MB is refused)."""
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    shutil.copytree(CASES[kind].home, home)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))

    def too_big(path: str, *args: object) -> bytes:
        raise OSError(f"{path}: larger than 256 MB")

    monkeypatch.setattr("spendtray.importers.runner.read_document", too_big)
    report = make_importer(kind).run()
    assert report.stored > 0 and report.bytes_read > 0


def test_kilo_and_zcode_attribution(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    for kind in ("kilo", "zcode"):
        shutil.copytree(CASES[kind].home, home, dirs_exist_ok=True)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))
    for kind in ("kilo", "zcode"):
        assert make_importer(kind).run().stats.malformed == 0
    kilo = {e["request_id"]: e for e in events(core, "kilo")}
    assert len(kilo) == 4  # the user message carries no usage
    sub_agent = kilo["kilo:msg_a3"]
    assert (sub_agent["agent"], sub_agent["project"], sub_agent["session"]) == (
        "kilo/general",
        "shop",
        "ses_5k1b",
    )
    assert (sub_agent["reported_cost_usd"], sub_agent["reasoning_tokens"]) == (0.0162, 640)
    assert kilo["kilo:msg_a4"]["reported_cost_usd"] is None  # none logged: computed only
    zcode = {e["request_id"]: e for e in events(core, "zcode")}
    assert sorted(zcode) == ["zcode:mu_01", "zcode:mu_02", "zcode:mu_05"]  # completed only
    assert (zcode["zcode:mu_02"]["project"], zcode["zcode:mu_05"]["project"]) == ("shop", "docs")
    assert (zcode["zcode:mu_02"]["input_tokens"], zcode["zcode:mu_02"]["cache_read_tokens"]) == (
        18230,
        16384,
    )
    assert zcode["zcode:mu_02"]["cache_write_tokens"] == 1024
    assert all(e["priced"] and e["provider"] == "zai" for e in zcode.values())


def test_database_the_agent_holds_locked_is_still_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home with spaces #1"
    shutil.copytree(CASES["zcode"].home, home)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))
    agent = sqlite3.connect(home / CASES["zcode"].log)
    agent.execute("PRAGMA locking_mode=EXCLUSIVE")
    agent.execute("BEGIN EXCLUSIVE")  # as an agent mid-write holds it
    try:
        report = make_importer("zcode").run()
    finally:
        agent.rollback()
        agent.close()
    assert (report.stored, report.stats.malformed) == (3, 0)
