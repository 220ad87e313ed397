"""Helpers shared by the packaging tests: where the repo is, the installed wheel, the build, and
running a built `spendtray` (the wheel's console script or the bundle) as a user would."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
        """``user_env`` with this environment's bin/ first on PATH."""
        env = user_env(home)
        env["PATH"] = f"{self.prefix / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no PYTHONPATH into the checkout, a data folder of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.pop("SPENDTRAY_PORT", None)
    env["SPENDTRAY_HOME"] = str(home)
    env.update(extra)
    return env


def run_cli(
    exe: Path,
    *args: str,
    cwd: Path,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``exe ARGS`` to the end, its output captured as text."""
    return subprocess.run(
        [str(exe), *args],
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


@contextmanager
def serving(exe: Path, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """``exe serve --port 0`` running; yields the URL it prints. Stopped with SIGTERM at the end,
    after which it must have exited 0."""
    server = subprocess.Popen(
        [str(exe), "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert "ingest server on http://127.0.0.1:" in line, line
        yield line.split("ingest server on ")[1].split()[0]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert server.returncode == 0


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
