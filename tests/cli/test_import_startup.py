"""What `spendtray import` loads: with the price table saved by an earlier import (or shipped
with Spendtray, on a fresh data folder), none of the libraries only the app's server, its proxy
or a price catalogue load needs (each costs tens of milliseconds of every import's start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_LOADED = (
    "genai_prices",
    "pydantic",
    "httpx",
    "starlette",
    "asyncio",
    "numpy",
    "tomllib",
    "spendtray.client",
)

_RUN = """
import sys
from spendtray.cli.main import main
code = main(sys.argv[1:])
print("loaded:", sorted(m for m in NOT_LOADED if m in sys.modules), flush=True)
sys.exit(code)
""".replace("NOT_LOADED", repr(NOT_LOADED))


def _history(folder: Path, first: int) -> None:
    logs = folder / "projects" / "-home-dev-shop"
    logs.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "type": "assistant",
                "timestamp": f"2026-11-{n:02d}T10:00:00Z",
                "sessionId": "s1",
                "cwd": "/home/dev/shop",
                "requestId": f"req_{n}",
                "message": {
                    "id": f"msg_{n}",
                    "model": "claude-sonnet-4-5-20250929",
                    "usage": {"input_tokens": 100 * n, "output_tokens": 20},
                },
            }
        )
        for n in range(first, first + 3)
    ]
    with (logs / f"session-{first}.jsonl").open("w") as out:
        out.write("\n".join(lines) + "\n")


def _import(home: Path, logs: Path) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "app"),
        "SPENDTRAY_HOME": str(home),
        "SPENDTRAY_PORT": "1",  # no running app to send to
    }
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "import", "claude-code", "--path", str(logs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_import_loads_no_server_proxy_or_catalogue_library(tmp_path: Path) -> None:
    logs = tmp_path / "claude"
    _history(logs, 1)
    first = _import(tmp_path / "home", logs)
    assert "3 new calls stored" in first
    # A fresh data folder: the table shipped with Spendtray (prices.seed_table) prices them.
    assert "loaded: []" in first, first
    _history(logs, 10)  # new calls of the same model
    later = _import(tmp_path / "home", logs)
    assert "3 new calls stored" in later
    assert "loaded: []" in later, later
