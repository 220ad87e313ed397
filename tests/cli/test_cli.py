"""The command line: real subprocess runs against a real data folder."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spendtray.config import load_settings
from spendtray.core import Core

ROOT = Path(__file__).resolve().parents[2]


def run(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    return subprocess.run(
        [sys.executable, "-m", "spendtray", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


@pytest.fixture
def filled(home: Path) -> Path:
    core = Core(load_settings(home=home, port=0))
    core.start_store()
    core.ingest.ingest(
        [
            {
                "model": "gpt-4o",
                "project": "acme",
                "input_tokens": 1_000_000,
                "output_tokens": 100_000,
                "timestamp": "2026-11-20T10:00:00Z",
            },
            {
                "model": "claude-sonnet-4-5",
                "project": "blog",
                "input_tokens": 2000,
                "output_tokens": 100,
                "timestamp": "2026-11-21T10:00:00Z",
            },
            {
                "model": "mystery-model",
                "project": "acme",
                "input_tokens": 5,
                "timestamp": "2026-11-21T11:00:00Z",
            },
        ]
    )
    core.stop()
    return home


def test_version() -> None:
    from spendtray import __version__

    r = run(Path("/nonexistent"), "--version")
    assert r.returncode == 0 and __version__ in r.stdout


def test_token_is_created_private_and_stable(home: Path) -> None:
    first = run(home, "token")
    assert first.returncode == 0 and len(first.stdout.strip()) >= 32
    assert (home / "token").stat().st_mode & 0o777 == 0o600
    assert run(home, "token").stdout == first.stdout


@pytest.mark.slow
def test_report_table_json_csv(filled: Path) -> None:
    table = run(filled, "report", "--by", "project")
    assert table.returncode == 0
    assert "acme" in table.stdout and "$3.50" in table.stdout  # 1M × $2.50 + 100k × $10/M
    assert "mystery-model" in table.stdout  # unpriced usage is shown
    data = json.loads(run(filled, "report", "--by", "model", "--format", "json").stdout)
    assert data["total"]["calls"] == 3 and data["total"]["unpriced_calls"] == 1
    rows = list(
        csv.reader(
            io.StringIO(
                run(filled, "report", "--by", "day", "--format", "csv", "--tz", "UTC").stdout
            )
        )
    )
    assert rows[0][0] == "day" and [r[0] for r in rows[1:]] == ["2026-11-20", "2026-11-21", "total"]
    only = json.loads(run(filled, "report", "--project", "blog", "--format", "json").stdout)
    assert [r["key"] for r in only["rows"]] == ["blog"]


@pytest.mark.slow
def test_export_csv_and_json(filled: Path) -> None:
    out = run(filled, "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 3 and {r["model"] for r in rows} == {
        "gpt-4o",
        "claude-sonnet-4-5",
        "mystery-model",
    }
    events = json.loads(run(filled, "export", "--format", "json", "--since", "2026-11-21").stdout)
    assert len(events) == 2


@pytest.mark.slow
def test_prices_show_and_list(home: Path) -> None:
    show = run(home, "prices", "show", "claude-sonnet-4-5")
    assert show.returncode == 0 and "anthropic" in show.stdout and "200,000" in show.stdout
    listing = run(home, "prices", "list", "gpt-4o-mini")
    assert listing.returncode == 0 and "gpt-4o-mini" in listing.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("report", "--by", "colour"), "invalid choice"),
        (("report", "--since", "whenever"), "--since"),
        (("prices", "show", "no-such-model-zzz"), "no price known"),
        (("--port", "70000", "serve"), "not a TCP port"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_user_mistakes_are_one_line(home: Path, args: tuple[str, ...], needle: str) -> None:
    r = run(home, *args)
    assert r.returncode == 2
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_bad_config_is_one_line(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('port = "eighty"\n')
    r = run(home, "report")
    assert r.returncode == 2 and "port" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (home / "config.toml").write_text("colour = 1\n")
    r = run(home, "report")
    assert r.returncode == 2 and "unknown key 'colour'" in r.stderr


def test_serve_port_in_use_is_one_line(home: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = run(home, "serve", "--port", str(s.getsockname()[1]))
    assert r.returncode == 2 and "already in use" in r.stderr
