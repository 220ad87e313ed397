"""How to type this very `spendtray` in another terminal: the command prefix printed in the
start-up line (``… --home DIR token``). Main thread, stdlib only.

A checkout run with `make run` is ``.venv/bin/spendtray``, which is not on the user's PATH, so
a bare ``spendtray token`` in a second terminal would fail (or reach another install). The
prefix is ``spendtray`` only when the PATH's ``spendtray`` is this program; otherwise its full
path. ``--home`` is always given, so the command reads the token of *this* data folder even in
a shell without ``SPENDTRAY_HOME``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def program() -> str:
    """The shortest way to run this program from any shell, quoted for it."""
    if getattr(sys, "frozen", False):
        exe = sys.executable
    else:
        exe = sys.argv[0] if sys.argv and sys.argv[0] else ""
        if not exe or Path(exe).name not in ("spendtray", "spendtray.exe"):
            return f"{shlex.quote(sys.executable)} -m spendtray"
        exe = str(Path(exe).resolve()) if os.sep in exe else (shutil.which(exe) or exe)
    on_path = shutil.which("spendtray")
    if on_path and _same_file(on_path, exe):
        return "spendtray"
    return shlex.quote(exe)


def command(home: Path, *words: str) -> str:
    """``program() --home HOME words…`` as one shell command line."""
    return " ".join([program(), "--home", shlex.quote(str(home)), *map(shlex.quote, words)])
