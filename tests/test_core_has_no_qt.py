"""The core never imports Qt: every module outside spendtray.gui imports in a Qt-free process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

PROGRAM = """
import importlib, pkgutil, sys
import spendtray
names = []
for info in pkgutil.walk_packages(spendtray.__path__, "spendtray."):
    if info.name == "spendtray.gui" or info.name.startswith("spendtray.gui."):
        continue
    if info.name.endswith(".__main__"):  # runs the app when imported
        continue
    names.append(info.name)
    importlib.import_module(info.name)
qt = sorted(m for m in sys.modules if m.startswith(("PySide6", "pyqtgraph", "shiboken6")))
assert not qt, f"the core imported Qt: {qt}"
print(len(names))
"""


def test_no_module_outside_gui_imports_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(APP), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 20  # the walk really found the core's modules
