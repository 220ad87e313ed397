"""`spendtray import` saves the price table of the models it stored, and a later import prices
from it without loading genai-prices, storing the very same prices (the real corpora)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora"
# Every source the corpora have real logs of, as `spendtray import SOURCE --path ...`.
SOURCES = {"claude-code": CORPORA / "claude_code", "codex": CORPORA / "codex"}

_RUN = """
import os
import sys
from spendtray.cli.main import main
from spendtray.importers import runner
from spendtray.prices import seed_table

if os.environ.get("TEST_NO_SEED"):  # as where the shipped table does not apply
    seed_table.read_seed = lambda *args: None

# Forked workers even for these small corpora (a first import of 16 MB or more has them).
init = runner.Importer.__init__
runner.Importer.__init__ = lambda self, *a, **k: init(self, *a, **{"worker_min_bytes": 0, **k})
code = main(sys.argv[1:])
print("genai-prices loaded:", "genai_prices" in sys.modules, flush=True)
sys.exit(code)
"""


def _import(home: Path, kind: str, folder: Path, workers: str, seed: bool = False) -> str:
    """``spendtray import`` in a child process; ``seed``: with the table shipped with
    Spendtray (``prices.seed_table``), else as without it."""
    paths = [str(p) for p in sorted(folder.iterdir()) if p.is_dir()]
    argv = ["import", kind, *(a for p in paths for a in ("--path", p))]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "app"),
        "SPENDTRAY_HOME": str(home),
        "SPENDTRAY_IMPORT_WORKERS": workers,
        "SPENDTRAY_PORT": "1",  # no running app to send to: this process stores
        "TEST_NO_SEED": "" if seed else "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *argv], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _events(db: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as con:
        rows = con.execute(
            "SELECT e.ts, e.model, e.provider, e.request_id, e.service_tier, e.batch, "
            "e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens, "
            "e.cost_nanos, e.priced, e.unpriced_reason, p.price_model, p.price_provider, "
            "p.unit_prices, p.price_source, p.price_date FROM events e "
            "LEFT JOIN prices_used p ON p.id = e.price_id"
        ).fetchall()
    return sorted(rows, key=repr)


@pytest.mark.slow
@pytest.mark.skipif(not CORPORA.is_dir(), reason="needs ../shared/corpora beside the repo")
def test_a_later_import_prices_from_the_table_as_genai_prices_did(tmp_path: Path) -> None:
    first, later = tmp_path / "first", tmp_path / "later"
    # Each source read once by forked workers and once in one process: the table is written
    # from what the workers priced (their misses file) and from what this process priced.
    workers = {"claude-code": ("2", "0"), "codex": ("0", "2")}
    for kind, folder in SOURCES.items():
        out = _import(first, kind, folder, workers[kind][0])
        assert "genai-prices loaded: True" in out
    table = first / "cache" / "price-table.json"
    assert table.is_file()
    # A new database beside the same table (a rebuilt database, or new logs).
    (later / "cache").mkdir(parents=True)
    shutil.copy(table, later / "cache" / table.name)
    for kind, folder in SOURCES.items():
        out = _import(later, kind, folder, workers[kind][1])
        assert "genai-prices loaded: False" in out, out
    stored = _events(first / "spendtray.db")
    assert len(stored) > 500
    assert sum(1 for row in stored if row[11]) > 500  # priced
    assert any(row[12] for row in stored)  # and some unpriced, with their reason
    assert _events(later / "spendtray.db") == stored
    assert (later / "cache" / table.name).read_bytes() == table.read_bytes()  # nothing new


@pytest.mark.slow
@pytest.mark.skipif(not CORPORA.is_dir(), reason="needs ../shared/corpora beside the repo")
def test_a_fresh_data_folder_prices_from_the_shipped_table_as_genai_prices_does(
    tmp_path: Path,
) -> None:
    """A first import into a fresh data folder prices the models the shipped table holds
    without genai-prices, and stores exactly what genai-prices priced (every source, with
    workers and without); what it lacked goes into the data folder's table with it."""
    seeded, loaded = tmp_path / "seeded", tmp_path / "loaded"
    workers = {"claude-code": ("2", "0"), "codex": ("0", "2")}
    for kind, folder in SOURCES.items():
        _import(loaded, kind, folder, workers[kind][0])
        _import(seeded, kind, folder, workers[kind][1], seed=True)
    stored = _events(loaded / "spendtray.db")
    assert sum(1 for row in stored if row[11]) > 500
    assert _events(seeded / "spendtray.db") == stored
    # Every Claude Code call of the bench's corpus was priced from the shipped table alone.
    bench_like = tmp_path / "bench-like"
    out = _import(bench_like, "claude-code", CORPORA / "claude_code" / "claude-code-log", "2", True)
    assert "genai-prices loaded: False" in out, out
    # What it priced is saved in the data folder's table, copied from the shipped one: a
    # later import reads that small file.
    saved = (bench_like / "cache" / "price-table.json").read_bytes().partition(b"\n")[2]
    models = {entry[0] for entry in json.loads(saved)["entries"]}
    assert models and all(model.startswith("claude-") for model in models), models
