"""`spendtray statusline`: a Claude Code statusline command (SPEC §12). Main thread.

Claude Code runs it on every update with its statusline JSON on stdin. It sends that JSON to the
running app (``POST /v1/statusline``: the windows and the session's cost are recorded; the answer
has today's spend, the project's budget and recent windows) and prints one line. It must answer
fast and always print a line: it imports only the standard library and the stdlib-only parts of
``spendtray.limits``; when the app is down, slow, or the JSON lacks fields, the line is made
from what the JSON carries; nothing here ends in a traceback.

``--install`` / ``--uninstall`` edit Claude Code's settings.json (``limits.statusline_install``).
``--then CMD`` runs another statusline command with the same input and prints its output after
ours (how ``--install`` keeps an existing statusline).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

MAX_INPUT = 1024 * 1024
DEFAULT_TIMEOUT = 0.5  # seconds for the whole request to the app
THEN_TIMEOUT = 5.0


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Reads Claude Code's statusline JSON on stdin, records its subscription windows and "
        "session cost, prints one line."
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--install",
        action="store_true",
        help="add this command to Claude Code's settings.json (keeps a backup and any "
        "existing statusline)",
    )
    group.add_argument("--uninstall", action="store_true", help="remove it again")
    p.add_argument(
        "--then", metavar="CMD", help="run CMD with the same input; print its output after ours"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for the app (default {DEFAULT_TIMEOUT})",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.timeout <= 30:
        print("spendtray: --timeout: must be between 0 and 30 seconds", file=sys.stderr)
        return 2
    if args.install or args.uninstall:
        from spendtray.limits import statusline_install as setup

        try:
            print(setup.install() if args.install else setup.uninstall())
        except (setup.InstallError, OSError) as exc:
            print(f"spendtray: {exc}", file=sys.stderr)
            return 2
        return 0
    raw = sys.stdin.buffer.read(MAX_INPUT + 1)
    code = 0
    try:
        line, code = _line(raw, args)
    except Exception as exc:  # a statusline must print something, never a traceback
        line = f"spendtray: statusline failed ({type(exc).__name__})"
    print(line)
    if args.then:
        _then(args.then, raw)
    sys.stdout.flush()
    return code


def _line(raw: bytes, args: argparse.Namespace) -> tuple[str, int]:
    from spendtray.limits.statusline_line import compose
    from spendtray.limits.statusline_payload import parse_statusline

    now_ms = int(time.time() * 1000)
    if len(raw) > MAX_INPUT:
        return "spendtray: statusline input is over 1 MB; ignored", 2
    data: object = {}
    if raw.strip():
        try:
            data = json.loads(raw)
        except ValueError:
            return "spendtray: statusline input is not JSON (run by Claude Code?)", 2
    if not isinstance(data, dict):
        return "spendtray: statusline input is not a JSON object", 2
    parsed = parse_statusline(data, now_ms)
    reply = _ask_app(raw if raw.strip() else b"{}", args.home, args.port, args.timeout)
    if isinstance(reply, str):
        return compose(parsed, None, now_ms, reply), 0
    return compose(parsed, reply, now_ms), 0


def _ask_app(
    body: bytes, home: object, port: int | None, timeout: float
) -> dict[str, object] | str:
    """The app's answer, or why there is none (the line's last words)."""
    from pathlib import Path

    from spendtray.datadir import data_home, loopback_url, read_token, server_url
    from spendtray.limits.statusline_client import ask

    folder = Path(str(home)) if home else data_home()
    url = loopback_url("127.0.0.1", port) if port else server_url(folder)
    token = os.environ.get("SPENDTRAY_TOKEN", "").strip() or read_token(folder)
    return ask(url, token, body, timeout)


def _then(command: str, raw: bytes) -> None:
    import subprocess

    try:
        done = subprocess.run(
            command,
            shell=True,
            input=raw,
            capture_output=True,
            timeout=THEN_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return
    out = done.stdout.decode("utf-8", "replace").rstrip("\n")
    if out:
        print(out)
