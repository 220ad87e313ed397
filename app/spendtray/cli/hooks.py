"""`spendtray hooks install|uninstall|run claude-code`: the Claude Code budget hook (SPEC §13).
Main thread; a quick command (``run`` is what Claude Code starts before every tool call).

- ``install claude-code [--project P] [--scope user|project] [--dir D]``: add the hook to Claude
  Code's user settings (``$CLAUDE_CONFIG_DIR`` honoured) or to ``D/.claude/settings.json``.
- ``uninstall claude-code [--scope …] [--dir D]``: remove exactly what install added.
- ``run claude-code [--project P]``: the hook itself (``spendtray.hooks.claude_code``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

AGENTS = ("claude-code",)


def register(p: argparse.ArgumentParser) -> None:
    p.description = "Claude Code hook that stops a session whose project's hard budget is spent."
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = sub.add_parser("install", help="add the hook to Claude Code's settings")
    uninstall = sub.add_parser("uninstall", help="remove exactly what install added")
    hook = sub.add_parser("run", help="the hook itself (Claude Code runs it, JSON on stdin)")
    for q in (install, uninstall, hook):
        q.add_argument("agent", choices=AGENTS)
    for q in (install, hook):
        q.add_argument(
            "--project",
            help="check this Spendtray project (default: the session's, from its directory)",
        )
    for q in (install, uninstall):
        q.add_argument(
            "--scope",
            choices=("user", "project"),
            default="user",
            help="user: ~/.claude/settings.json ($CLAUDE_CONFIG_DIR); project: DIR/.claude/",
        )
        q.add_argument("--dir", type=Path, help="the project folder for --scope project (cwd)")
    for q in (install, uninstall, hook):
        q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "run":
        return _hook(args)
    from spendtray.hooks import install as setup

    path = setup.settings_file(args.scope, args.dir)
    try:
        if args.action == "install":
            print(setup.install(path, setup.hook_command(args.home, args.project)))
        else:
            print(setup.uninstall(path))
    except (setup.InstallError, OSError) as exc:
        print(f"spendtray: {exc}", file=sys.stderr)
        return 2
    return 0


def _hook(args: argparse.Namespace) -> int:
    """Exit 0 with the decision on stdout; a hook that cannot read its input says so on
    stderr with status 1, which Claude Code treats as a non-blocking error."""
    from spendtray.hooks.claude_code import MAX_INPUT
    from spendtray.hooks.claude_code import run as hook

    raw = sys.stdin.buffer.read(MAX_INPUT + 1)
    try:
        out = hook(raw, args.home, args.port, args.project)
    except ValueError as exc:
        print(f"spendtray hook: {exc}", file=sys.stderr)
        return 1
    if out:
        print(json.dumps(out))
    return 0
