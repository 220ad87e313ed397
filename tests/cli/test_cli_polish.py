"""Command-line polish from a new user's first hour: `budget set --warn 50 80`, source values
that exist, warnings for filters that match nothing ("did you mean"), export's default format,
"1 call", readable price names, and one line — never a traceback — for expected errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spendtray.cli.common import SERVICE_SOURCES, known_sources
from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.words import article, plural

ROOT = Path(__file__).resolve().parents[2]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    env["COLUMNS"] = "250"  # --help on one line per option: no wrap inside "qwen-code"
    return subprocess.run(
        [sys.executable, "-m", "spendtray", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def filled(home: Path) -> Path:
    core = Core(load_settings(home=home, port=0))
    core.start_store()
    core.ingest.ingest(
        [
            {"model": "gpt-4o", "project": "acme", "input_tokens": 1000, "source": "otlp"},
            {"model": "claude-sonnet-4-5", "project": "blog", "input_tokens": 2000},
        ]
    )
    core.stop()
    return home


def test_warn_takes_several_percents_and_repeats_add_up(home: Path) -> None:
    spaced = cli(home, "budget", "set", "acme", "--monthly", "50", "--warn", "50", "80")
    assert spaced.returncode == 0, spaced.stderr
    assert "notify at 50, 80, 100 %" in spaced.stdout
    repeated = cli(
        home, "budget", "set", "acme", "--monthly", "50", "--warn", "50", "--warn", "75,90"
    )
    assert "notify at 50, 75, 90, 100 %" in repeated.stdout
    listed = json.loads(cli(home, "budget", "list", "--format", "json").stdout)
    assert listed["budgets"][0]["thresholds"] == [50, 75, 90, 100]
    wrong = cli(home, "budget", "set", "acme", "--monthly", "50", "--warn", "80", "--warn", "50")
    assert wrong.returncode == 2 and "--warn: must be in ascending order" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def test_the_known_sources_are_the_ones_the_code_stores() -> None:
    from spendtray.client.events import SOURCE as CLIENT
    from spendtray.importers.registry import KINDS
    from spendtray.receivers.litellm_payload import SOURCE as LITELLM
    from spendtray.receivers.otlp_spans import SOURCE as OTLP

    assert set(SERVICE_SOURCES) == {"api", "proxy", CLIENT, LITELLM, OTLP}
    assert known_sources() == (*SERVICE_SOURCES, *KINDS)


def test_report_help_lists_the_real_source_values(home: Path) -> None:
    help_text = " ".join(cli(home, "report", "--help").stdout.split())
    for source in known_sources():
        assert source in help_text
    assert "otel" not in help_text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--source", "otel"), "no stored call has source 'otel' — did you mean 'otlp'?"),
        (("--model", "gpt4o"), "no stored call has model 'gpt4o' — did you mean 'gpt-4o'?"),
        (("--project", "zzz"), "no stored call has project 'zzz' — stored: acme, blog"),
    ],
)
@pytest.mark.parametrize("command", ["report", "export", "reprice"])
def test_a_filter_that_matches_nothing_says_so(
    filled: Path, command: str, args: tuple[str, ...], needle: str
) -> None:
    r = cli(filled, command, *args)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == f"spendtray: {needle}"


def test_a_filter_that_matches_is_silent(filled: Path) -> None:
    r = cli(filled, "report", "--source", "otlp", "--model", "gpt-4o")
    assert r.returncode == 0 and r.stderr == ""


def test_export_writes_csv_by_default(filled: Path) -> None:
    r = cli(filled, "export")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row["model"] for row in rows} == {"gpt-4o", "claude-sonnet-4-5"}


def test_grammar() -> None:
    assert [plural(n, "call") for n in (0, 1, 2, 1200)] == [
        "0 calls",
        "1 call",
        "2 calls",
        "1,200 calls",
    ]
    assert plural(1, "copy", "copies") == "1 copy" and plural(3, "copy", "copies") == "3 copies"
    assert [article(w) for w in ("openai", "anthropic", "google", "xai", "8k")] == [
        "an",
        "an",
        "a",
        "a",
        "an",
    ]
    from spendtray.importers.runner import ImportReport

    one = ImportReport("codex", roots=["/x"], files_seen=1, files_read=1, stored=1, duplicates=1)
    assert "1 file, 1 read" in one.summary() and "1 new call stored" in one.summary()
    assert "1 duplicate copy skipped" in one.summary()


def test_prices_show_names_prices_as_people_read_them(home: Path) -> None:
    r = cli(home, "prices", "show", "gpt-4o", "--provider", "openai")
    assert r.returncode == 0, r.stderr
    assert "_mtok" not in r.stdout and "_kcount" not in r.stdout
    lines = {line.split("  ")[0].strip(): line for line in r.stdout.splitlines()}
    assert "$2.5" in lines["input"] and "1M tokens" in lines["input"]
    assert "cache read" in lines


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("prices", "show", "gpt4o-mnii"), "did you mean 'gpt-4o-mini'"),
        (("prices", "show", "claude-sonet-4-5"), "did you mean 'claude-sonnet-4-5'"),
    ],
)
def test_mistyped_model_names_get_a_suggestion(
    home: Path, args: tuple[str, ...], needle: str
) -> None:
    r = cli(home, *args)
    assert r.returncode == 2 and needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_estimate_suggests_for_a_mistyped_model(home: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "spendtray", "estimate", "-", "-m", "gpt4o", "--format", "json"],
        env={**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")},
        input="hello",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    [result] = json.loads(r.stdout)["results"]
    assert "did you mean 'gpt-4o'" in result["error"]


@pytest.fixture
def broken_db(tmp_path: Path) -> Path:
    home = tmp_path / "broken"
    home.mkdir()
    (home / "spendtray.db").write_bytes(b"not a database, just text " * 20)
    return home


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("export", "-o", "/nonexistent-folder/out.csv"), "No such file or directory"),
        (("--home", "/etc/hostname", "token"), "--home: /etc/hostname is not a folder"),
        (("--home", "/etc/hostname", "report"), "is not a folder"),
    ],
)
def test_expected_errors_are_one_line(home: Path, args: tuple[str, ...], needle: str) -> None:
    r = cli(home, *args)
    assert r.returncode == 2 and needle in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [("report",), ("budget", "list"), ("export",), ("reprice",)])
def test_a_damaged_database_is_one_line(broken_db: Path, command: tuple[str, ...]) -> None:
    r = cli(broken_db, *command)
    assert r.returncode == 2 and "the database cannot be used" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
