"""`spendtray check [--project P] [--estimate-usd X] [--format text|json]`: may this project
spend (more)? For scripts and CI (SPEC §13). Main thread; a quick command (stdlib and
``spendtray.local_app`` only).

Asks the running app's ``/v1/budgets/{project}/check`` — so calls in flight through the proxy
count — and exits with the answer:

- 0 ok, 10 warning, 11 exceeded (the tightest budget is used up, or the estimate on top would
  pass a hard limit), 20 unknown (the app is not running or could not be asked), 2 bad input.

It prints one line saying why (``--format json``: the check answer plus ``exit`` and
``reason``).
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any
from urllib.parse import quote

OK, WARNING, EXCEEDED, UNKNOWN = 0, 10, 11, 20
EXIT_BY_STATE = {"ok": OK, "warning": WARNING, "exceeded": EXCEEDED}
PHRASE = {"day": "today", "week": "this week", "month": "this month"}


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Ask the running app whether PROJECT may spend: exit 0 ok, 10 warning, 11 exceeded "
        "(or the estimate would pass a hard budget), 20 unknown (app not running)."
    )
    p.add_argument("--project", default="default", help="the project to check (default: default)")
    p.add_argument(
        "--estimate-usd", metavar="X", help="what the next step will cost, in US dollars"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def parse_estimate(text: str | None) -> str | None:
    """The estimate as sent to the app; raises ``UserError`` for anything but dollars ≥ 0."""
    if text is None:
        return None
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        from spendtray.cli.common import UserError

        raise UserError(f"--estimate-usd: {text!r} is not an amount in US dollars ≥ 0")
    return str(amount)


def usd(value: Any) -> str:
    """A dollar figure of the answer as Spendtray writes money ("$4.10", "$0.000123")."""
    from spendtray.money import format_usd

    return format_usd(round(float(value or 0) * 1_000_000_000))


def reason(project: str, answer: dict[str, Any], estimate: str | None) -> str:
    """One line saying what the answer means."""
    if answer.get("period") is None:
        return f"ok: no budget applies to project {project!r}"
    whose = answer.get("budget_project")
    scope = "all projects" if whose == "*" else f"project {whose!r}"
    period = answer["period"]
    budget = (
        f"the {answer.get('mode')} {period} budget of {scope} "
        f"({usd(answer['limit_usd'])} {PHRASE.get(period, period)})"
    )
    spent = f"{usd(answer['spent_usd'])} spent"
    held = answer.get("reserved_usd") or 0
    if held:
        spent += f", {usd(held)} held by calls in flight"
    state = answer["state"]
    if not answer.get("allow", True) and state != "exceeded":
        if not estimate or float(estimate) == 0:  # held by calls in flight through the proxy
            return f"exceeded: {budget} has no room left — {spent}"
        return f"exceeded: {budget} has no room for {usd(estimate)} more — {spent}"
    if state == "exceeded":
        return f"exceeded: {budget} is used up — {spent}"
    forecast = answer.get("forecast_usd")
    tail = f", forecast {usd(forecast)}" if forecast is not None else ""
    return f"{state}: {budget} — {spent}{tail}"


def exit_code(answer: dict[str, Any]) -> int:
    if not answer.get("allow", True):
        return EXCEEDED
    return EXIT_BY_STATE.get(str(answer.get("state")), UNKNOWN)


def run(args: argparse.Namespace) -> int:
    from spendtray.local_app import AppDown, AppError, LocalApp

    estimate = parse_estimate(args.estimate_usd)
    project = args.project
    app = LocalApp.find(args.home, args.port)
    try:
        answer = app.get(f"/v1/budgets/{quote(project, safe='')}/check", {"estimate_usd": estimate})
    except AppDown as exc:
        return _say(args, UNKNOWN, f"unknown: {exc}", {"state": "unknown"})
    except AppError as exc:
        from spendtray.cli.common import UserError

        raise UserError(re.sub(r"^nothing changed: ", "", str(exc))) from None
    code = exit_code(answer)
    return _say(args, code, reason(project, answer, estimate), answer)


def _say(args: argparse.Namespace, code: int, line: str, answer: dict[str, Any]) -> int:
    if args.format == "json":
        print(json.dumps({**answer, "exit": code, "reason": line}))
    else:
        print(line)
    return code
