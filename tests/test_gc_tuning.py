"""The serving processes move their start-up objects out of the collector's sight and raise the
young-generation threshold (run in a child: freezing the test process would keep its garbage)."""

from __future__ import annotations

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
