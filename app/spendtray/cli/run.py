"""`spendtray run -p PROJECT -- CMD ...`: run CMD with its OpenAI and Anthropic SDK calls going
through the Spendtray proxy for PROJECT. Main thread; CMD runs as a child process and its exit
status becomes ours (128 + N when a signal N ended it).

CMD gets ``OPENAI_BASE_URL=http://127.0.0.1:<port>/p/<project>/openai/v1`` and
``ANTHROPIC_BASE_URL=http://127.0.0.1:<port>/p/<project>/anthropic``; its API keys stay its
own. A warning (not an error) is printed when no Spendtray server answers on that port: the
command still runs, but its API calls fail until the server is up.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from urllib.parse import quote

from spendtray.cli.common import UserError, settings_from
from spendtray.config import Settings
from spendtray.datadir import loopback_url, read_token

BASE_URL_VARS = {
    "OPENAI_BASE_URL": "openai/v1",
    "ANTHROPIC_BASE_URL": "anthropic",
}


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Run CMD with OPENAI_BASE_URL and ANTHROPIC_BASE_URL pointing at the "
        "Spendtray proxy, so its calls are recorded (and hard budgets enforced) for PROJECT. "
        "Example: spendtray run -p acme -- python agent.py"
    )
    p.add_argument("-p", "--project", default="default", help="project to record the calls for")
    p.add_argument("--port", type=int, default=argparse.SUPPRESS, help="port Spendtray listens on")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    p.set_defaults(func=run)


def server_base(settings: Settings) -> str:
    if settings.port == 0:
        raise UserError(
            "the configured port is 0 (any free port): pass --port with the port Spendtray "
            "listens on"
        )
    return loopback_url(settings.host, settings.port)


def proxy_env(base: str, project: str, environ: dict[str, str]) -> dict[str, str]:
    env = dict(environ)
    for name, suffix in BASE_URL_VARS.items():
        env[name] = f"{base}/p/{quote(project, safe='')}/{suffix}"
    return env


def server_answers(base: str, token: str | None) -> bool:
    """True when this data folder's Spendtray answers at ``base``; False when nothing does.
    Something else answering is a ``UserError``: CMD would send it its API keys."""
    from spendtray.identity import NotSpendtray, Unreachable, verify

    try:
        verify(base, token, timeout=2.0)
    except Unreachable:
        return False
    except NotSpendtray as exc:
        raise UserError(
            f"run: not starting the command, its API keys would go there: {exc}"
        ) from None
    return True


def run(args: argparse.Namespace) -> int:
    from spendtray.budgets.model import BudgetError, check_call_project

    command: list[str] = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("run: no command given (usage: spendtray run -p PROJECT -- CMD ...)")
    try:
        project = check_call_project(args.project)
    except BudgetError as exc:
        raise UserError(f"run: --project: {exc.problem}") from None
    settings = settings_from(args)
    base = server_base(settings)
    env = proxy_env(base, project, dict(os.environ))
    for name in BASE_URL_VARS:
        before = os.environ.get(name)
        if before and not before.startswith(base):
            print(
                f"spendtray: note: {name} was {before}; the proxy forwards to its own upstream "
                "instead (set [upstreams] in config.toml to change where it goes)",
                file=sys.stderr,
            )
    if not server_answers(base, read_token(settings.home)):
        print(
            f"spendtray: warning: no Spendtray server answers at {base} — start it with "
            f"`spendtray serve` (or the tray app); until then {command[0]}'s API calls will fail",
            file=sys.stderr,
        )
    try:
        child = subprocess.Popen(command, env=env)
    except FileNotFoundError:
        raise UserError(f"run: command not found: {command[0]}") from None
    except PermissionError:
        raise UserError(f"run: cannot execute {command[0]}: permission denied") from None
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:
            # Ctrl+C reached the child too (same process group); let it finish its own way.
            continue
    return 128 - code if code < 0 else code
