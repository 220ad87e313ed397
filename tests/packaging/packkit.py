"""Helpers shared by the packaging tests: where the repo is, the installed wheel, the build."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

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


# What a source distribution of the project holds: the wheel is built from a copy of these, so a
# stale build/ folder or egg-info in the checkout can neither add to it nor be disturbed.
SOURCE = ("app", "resources", "pricing", "pyproject.toml", "setup.py", "README.md")


def build_wheel(out: Path) -> Path:
    tree = out / "source"
    for name in SOURCE:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(src, tree / name)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(tree)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("spendtray-*.whl")
    return wheel


def load_script(name: str) -> ModuleType:
    """A script in packaging/ as a module (packaging/ is not a package: the name is PyPI's)."""
    path = ROOT / "packaging" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"spendtray_packaging_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
