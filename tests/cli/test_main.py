"""The lazy command dispatcher: quick commands import only what they use; every registered
command parses; global options before the command still find it."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spendtray.cli.main import COMMANDS, QUICK_COMMANDS, build_parser, chosen_command

ROOT = Path(__file__).resolve().parents[2]
# Exit codes of quick commands run bare with no app: `check` answers "unknown" (SPEC §13),
# `hooks` wants an action.
QUICK_EXIT = {"check": 20, "hooks": 2}

# Runs one command in a fresh interpreter and reports which of HEAVY_MODULES it imported.
PROBE = """
import json, sys
from spendtray.cli.main import HEAVY_MODULES, main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = [m for m in HEAVY_MODULES if m in sys.modules]
cli = sorted(m for m in sys.modules if m.startswith("spendtray.cli."))
print(json.dumps({"code": code, "heavy": heavy, "cli": cli}))
"""


def probe(home: Path, *args: str) -> dict[str, object]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("argv", [["--version"], ["--help"], *([c] for c in QUICK_COMMANDS)])
def test_quick_commands_import_nothing_heavy(home: Path, argv: list[str]) -> None:
    result = probe(home, *argv)
    assert result["code"] == QUICK_EXIT.get(argv[0], 0)
    assert result["heavy"] == []


def test_limits_over_an_existing_store_imports_nothing_heavy(home: Path) -> None:
    # The probe above runs on a fresh data folder, where `limits` opens no store at all.
    assert probe(home, "report", "--format", "json")["code"] == 0  # creates the store
    result = probe(home, "limits", "--format", "json")
    assert result["code"] == 0
    assert result["heavy"] == []


def test_a_full_command_does_import_what_it_uses(home: Path) -> None:
    # The probe can see heavy imports: `report` needs the store.
    result = probe(home, "report", "--format", "json")
    assert result["code"] == 0
    assert "spendtray.store.reader" in result["heavy"]  # type: ignore[operator]


def test_token_through_the_dispatcher_prints_the_token(home: Path) -> None:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(
        [sys.executable, "-m", "spendtray", "--home", str(home), "token"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (home / "token").read_text().strip()


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["token"], "token"),
        (["--home", "report", "token"], "token"),
        (["--port", "9", "--home=x", "report", "--by", "day"], "report"),
        (["--version"], None),
        (["--", "token"], None),
    ],
)
def test_the_command_word_is_found_after_global_options(argv: list[str], word: str) -> None:
    assert chosen_command(argv) == word


def test_every_registered_command_builds_with_its_help() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(sub.choices) == list(COMMANDS)
    listed = {action.dest: action.help for action in sub._choices_actions}
    for name, (module, help_text) in COMMANDS.items():
        assert listed[name] == help_text
        assert callable(importlib.import_module(module).register)
        # Each command sets what runs it (its own parser, or each of its verbs).
        command = sub.choices[name]
        verbs = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        parsers = list(verbs[0].choices.values()) if verbs else [command]
        assert all(callable(p.get_default("func")) for p in parsers), name


def test_only_the_chosen_command_is_imported(home: Path) -> None:
    result = probe(home, "token", "--path")
    assert result["cli"] == ["spendtray.cli.common", "spendtray.cli.main", "spendtray.cli.token"]
    assert probe(home, "--help")["cli"] == ["spendtray.cli.main"]


def test_an_unknown_command_is_one_line(home: Path) -> None:
    result = probe(home, "nonsense")
    assert result["code"] == 2


def test_a_user_error_is_one_line_with_exit_2(home: Path) -> None:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(
        [sys.executable, "-m", "spendtray", "report", "--since", "not a date"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("spendtray: --since:")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("columns", [None, "100", "60", "junk", "0"])
def test_help_is_as_wide_as_argparse_makes_it(
    columns: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from spendtray.cli.main import _terminal_columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _terminal_columns() == shutil.get_terminal_size().columns


def test_the_parser_does_not_import_shutil() -> None:
    """argparse imports shutil (with bz2 and lzma) for the terminal width; every command's
    parser is built with our formatter instead."""
    code = (
        "import sys; from spendtray.cli.main import build_parser; "
        "build_parser('import').parse_args(['import']); "
        "build_parser('token').parse_args(['token']); print('shutil' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT / "app")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
