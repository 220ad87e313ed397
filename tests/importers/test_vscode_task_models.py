"""Which model answered each request of a Cline / Roo Code / Kilo Code task: named by the
request's own environment details (older Kilo Code / Roo Code), Cline's task_metadata.json, or
the user message the request sent in api_conversation_history.json (Roo Code, Kilo Code); the
model `unknown` (unpriced) only when none of them names it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from importkit import events
from sourcekit import AGENT_ENV, CASES

from spendtray.core import Core
from spendtray.importers import Importer

TASK = "1762790400000"


def _home(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    shutil.copytree(CASES[kind].home, home)
    monkeypatch.setenv("HOME", str(home))
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    return home


def _models(core: Core, kind: str) -> dict[str, tuple[str, str, bool]]:
    return {
        e["request_id"].rsplit(":", 1)[-1]: (e["model"], e["provider"], e["priced"])
        for e in events(core, kind)
    }


def test_roo_code_models_come_from_the_messages_each_request_sent(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    _home("roo-code", tmp_path, monkeypatch)
    assert make_importer("roo-code").run().stats.malformed == 0
    # the task switched to Architect mode (and its model) before its second request
    assert _models(core, "roo-code") == {
        "1762790401000": ("claude-sonnet-4-5-20250929", "anthropic", True),
        "1762790412000": ("claude-opus-4-1-20250805", "anthropic", True),
    }


def test_kilo_code_models_come_from_the_request_itself(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    _home("kilo-code", tmp_path, monkeypatch)
    assert make_importer("kilo-code").run().stats.malformed == 0
    found = _models(core, "kilo-code")
    assert {model for model, _, _ in found.values()} == {"anthropic/claude-sonnet-4.5"}
    assert len(found) == 2


def test_cline_models_come_from_its_task_metadata(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    _home("cline", tmp_path, monkeypatch)
    make_importer("cline").run()
    assert set(_models(core, "cline").values()) == {
        ("claude-sonnet-4-5-20250929", "anthropic", True)
    }


def test_the_model_is_unknown_only_when_nothing_names_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    core: Core,
    make_importer: Callable[..., Importer],
) -> None:
    home = _home("roo-code", tmp_path, monkeypatch)
    task = home / CASES["roo-code"].log.rsplit("/", 1)[0]
    history = json.loads((task / "api_conversation_history.json").read_text())
    for message in history:  # an older release: no model in its environment details
        for block in message["content"]:
            block["text"] = block["text"].replace("<model>", "<x>").replace("</model>", "</x>")
    (task / "api_conversation_history.json").write_text(json.dumps(history))
    make_importer("roo-code").run()
    rows = events(core, "roo-code")
    assert {(e["model"], e["priced"]) for e in rows} == {("unknown", False)}
    assert all(e["reported_cost_usd"] for e in rows)  # the extension's own cost still kept
