"""Packaging fixtures: the wheel built from this checkout, installed as a user would install it.

The wheel is built once per session (``pip wheel --no-deps --no-build-isolation``: offline, the
same setuptools build a ``pip install .`` runs) and installed with plain ``pip install`` into a
fresh virtual environment under the system temp folder, outside the repo. Its dependencies come
from the package index (or pip's cache), resolved from the wheel's own metadata — nothing of
the development ``.venv`` is visible there, so a file the wheel forgot or a dependency it does
not declare makes the tests below fail.
"""

from __future__ import annotations

import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from packkit import ROOT, Installed, build_wheel


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    prefix = tmp_path_factory.mktemp("fresh-venv")
    assert not prefix.is_relative_to(ROOT), "the fresh venv must live outside the repo"
    venv.EnvBuilder(with_pip=True, clear=True).create(prefix)
    python = prefix / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--retries", "10", str(wheel)],
        capture_output=True,
        text=True,
        cwd=prefix,
    )
    assert result.returncode == 0, f"pip install of the wheel failed:\n{result.stderr[-3000:]}"
    yield Installed(prefix, python, prefix / "bin" / "spendtray")
