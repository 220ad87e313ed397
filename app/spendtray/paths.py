"""Where the shipped files are: resources/ and pricing/ from a checkout, a wheel or a frozen bundle.

Pure functions, any thread. A source checkout keeps them at the top of the repo; the wheel build
copies them into ``spendtray/_data/``; a PyInstaller bundle unpacks them beside the executable.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _candidates(name: str) -> list[Path]:
    found: list[Path] = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        found.append(Path(frozen_root) / name)
    found.append(_PACKAGE_DIR / "_data" / name)
    # app/spendtray -> repo root
    found.append(_PACKAGE_DIR.parent.parent / name)
    return found


@cache
def shipped_dir(name: str) -> Path:
    """The first existing shipped folder called ``name`` ("resources" or "pricing")."""
    for candidate in _candidates(name):
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(p) for p in _candidates(name))
    raise FileNotFoundError(f"spendtray's {name}/ folder is missing (looked in {tried})")


def resources_dir() -> Path:
    return shipped_dir("resources")


def pricing_dir() -> Path:
    return shipped_dir("pricing")
