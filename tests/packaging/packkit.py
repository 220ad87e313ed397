"""Helpers shared by the packaging tests: where the repo is, the installed wheel, the build."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Installed:
    prefix: Path
    python: Path
    script: Path

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A user's environment: no PYTHONPATH into the checkout, a data folder of its own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.pop("SPENDTRAY_PORT", None)
        env["SPENDTRAY_HOME"] = str(home)
        env["PATH"] = f"{self.prefix / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env


def build_wheel(out: Path) -> Path:
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("spendtray-*.whl")
    return wheel
