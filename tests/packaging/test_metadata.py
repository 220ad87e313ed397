"""pyproject.toml's metadata as setuptools reads it on the first `make run` (pip install -e):
no deprecation warnings, and the licence as an SPDX expression."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_metadata_reads_without_deprecation_warnings() -> None:
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    before = Path.cwd()
    os.chdir(ROOT)  # setuptools resolves `where = ["app"]` against the working directory
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    finally:
        os.chdir(before)
    noisy = [str(w.message) for w in caught if "deprecat" in str(w.message).lower()]
    assert not noisy, noisy
    assert dist.metadata.license_expression == "MIT"
