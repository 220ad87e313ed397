"""The serving processes move their start-up objects out of the collector's sight and raise the
young-generation threshold (run in a child: freezing the test process would keep its garbage)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import gc
before = gc.get_threshold()
from spendtray.gc_tuning import GEN0_THRESHOLD, tune_for_serving
assert gc.get_freeze_count() == 0
tune_for_serving()
assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
assert gc.get_threshold() == (GEN0_THRESHOLD, *before[1:]), gc.get_threshold()
assert GEN0_THRESHOLD > before[0]
print("ok")
"""


def test_tune_for_serving_freezes_and_raises_the_threshold() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        env={"PYTHONPATH": str(ROOT / "app")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


IMPORT_CHILD = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 1000))  # runs last
from spendtray.cli.main import main
from spendtray.core import Core
from spendtray.importers.runner import Importer

seen = []
start_store, run = Core.start_store, Importer.run
Core.start_store = lambda self, **kw: (seen.append(gc.isenabled()), start_store(self, **kw))[1]
Importer.run = lambda self, *a, **kw: (seen.append(gc.isenabled()), run(self, *a, **kw))[1]
assert main(["import", "claude-code", "--path", sys.argv[1]]) == 0
print("collector on during start-up and the pass:", seen)
print("collector on after:", gc.isenabled(), "frozen before exit:", gc.get_freeze_count())
"""


def test_import_pauses_the_collector_and_skips_the_collections_at_exit(tmp_path: Path) -> None:
    """``spendtray import``: no collection from its start-up to its last commit; on again
    when it returns (a test or the watcher goes on); the heap frozen only at exit."""
    logs = tmp_path / "claude" / "projects" / "-home-dev-shop"
    logs.mkdir(parents=True)
    lines = [
        json.dumps(
            {
                "type": "assistant",
                "timestamp": f"2026-11-0{n}T10:00:00Z",
                "sessionId": "s1",
                "cwd": "/home/dev/shop",
                "requestId": f"req_{n}",
                "message": {
                    "id": f"msg_{n}",
                    "model": "claude-sonnet-4-5",
                    "usage": {"input_tokens": 100 * n, "output_tokens": 20},
                },
            }
        )
        for n in (1, 2, 3)
    ]
    (logs / "session.jsonl").write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_CHILD, str(tmp_path / "claude")],
        env={"PYTHONPATH": str(ROOT / "app"), "SPENDTRAY_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-3:] == [
        "collector on during start-up and the pass: [False, False]",
        "collector on after: True frozen before exit: 0",
        "frozen at exit: True",
    ], out.stdout


PAUSE_CHILD = """
import gc
from spendtray.gc_tuning import collector_paused, tune_for_serving
garbage = [[] for _ in range(5000)]
with collector_paused():
    kept = [{} for _ in range(20000)]
young = gc.get_stats()[0]["collections"]
after = [[] for _ in range(100)]  # no young collection walks the 20,000 survivors now
print("on, young count reset:", gc.isenabled(), gc.get_stats()[0]["collections"] == young)
print("survivors in the oldest generation:", any(o is kept for o in gc.get_objects(2)))
tune_for_serving()  # a serving process froze its start-up heap on purpose
frozen = gc.get_freeze_count()
with collector_paused():
    more = [{} for _ in range(20000)]
print("on, still frozen:", gc.isenabled(), gc.get_freeze_count() == frozen)
"""


def test_the_pause_moves_its_survivors_to_the_oldest_generation_unless_frozen() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PAUSE_CHILD],
        env={"PYTHONPATH": str(ROOT / "app")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "on, young count reset: True True",
        "survivors in the oldest generation: True",
        "on, still frozen: True True",
    ]
