"""Entry script of the PyInstaller bundle (packaging/spendtray.spec): ``spendtray`` as a program.

The bundle is built without a console window (``console=False``). On Linux and macOS that
changes nothing for a terminal user: the process keeps the terminal's stdout/stderr, so
``spendtray --version`` and ``spendtray serve`` print as usual. On Windows a windowed program
has no standard streams at all (``sys.stdout is None``); ``print`` would then raise. So before
the command line runs, missing streams are attached to the console of the terminal that started
the program, if there is one, else to ``<data folder>/logs/bundle-stdout.log``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO


def _parent_console_stream(mode: str) -> TextIO | None:
    """Windows only: the console of the terminal that started us (``AttachConsole``)."""
    if sys.platform != "win32":
        return None
    import ctypes

    attach_parent_process = -1
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    if not kernel32.AttachConsole(attach_parent_process):
        return None
    try:
        return open("CONOUT$" if "w" in mode else "CONIN$", mode, encoding="utf-8")
    except OSError:
        return None


def _log_stream(home: Path | None) -> TextIO:
    from spendtray.config import data_home

    folder = (home or data_home()) / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return open(folder / "bundle-stdout.log", "a", encoding="utf-8")
    except OSError:
        return open(os.devnull, "w", encoding="utf-8")


def ensure_streams(home: Path | None = None) -> None:
    """Give ``sys.stdout``/``sys.stderr`` a place to write when the platform gave none."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    console = _parent_console_stream("w")
    fallback = console or _log_stream(home)
    if sys.stdout is None:
        sys.stdout = fallback
    if sys.stderr is None:
        sys.stderr = fallback


def main() -> int:
    ensure_streams()
    from spendtray.cli.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
