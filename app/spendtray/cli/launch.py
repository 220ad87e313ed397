"""`spendtray` with no command: the tray app when a display exists, else headless serving.

Main thread. The GUI package is imported only here, so every other command works without Qt.
"""

from __future__ import annotations

import argparse
import os
import sys


def display_available() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def launch(args: argparse.Namespace) -> int:
    from spendtray.cli.serve import serve_headless

    if not display_available():
        return serve_headless(args, reason="No display found (DISPLAY/WAYLAND_DISPLAY unset)")
    try:
        from spendtray.gui.main import run_gui  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        return serve_headless(
            args, reason=f"The GUI cannot start ({exc}; install with `pip install spendtray[gui]`)"
        )
    code: int = run_gui(args)
    return code
