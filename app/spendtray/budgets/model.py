"""The budget model and the validation of user-given budgets. Pure; any thread.

Used by the API, the CLI and the GUI editor so that every entry point refuses the same bad
input with the same message. Amounts are integer nano-dollars inside; dollars only arrive here
(as JSON numbers or CLI text) and leave through ``spendtray.money``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from spendtray.prices.calc import to_nanos

PERIODS = ("day", "week", "month")
MODES = ("soft", "hard")
STATES = ("ok", "warning", "exceeded")
GLOBAL = "*"
DEFAULT_THRESHOLDS: tuple[float, ...] = (50.0, 80.0, 100.0)
MAX_PROJECT = 256
MAX_LIMIT_USD = Decimal(10**9)
MAX_THRESHOLDS = 10


class BudgetError(ValueError):
    """One field of a budget is wrong; ``field`` names it."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem

    def details(self) -> list[dict[str, Any]]:
        return [{"field": self.field, "problem": self.problem}]


@dataclass(frozen=True)
class Budget:
    """One money limit on one project (or ``*``) for one calendar period."""

    project: str
    period: str
    limit_nanos: int
    mode: str = "soft"
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    # When the stored row was last written (epoch ms; 0 = not stored): any rewrite, by this
    # process or the CLI, makes the service look at the database again for its alert state.
    revision: int = field(default=0, compare=False)

    @property
    def hard(self) -> bool:
        return self.mode == "hard"

    @property
    def is_global(self) -> bool:
        return self.project == GLOBAL


def check_project(value: Any) -> str:
    if not isinstance(value, str):
        raise BudgetError("project", "must be a project name or '*' for all projects")
    name = value.strip()
    if not name:
        raise BudgetError("project", "must not be empty ('*' means all projects)")
    if len(name) > MAX_PROJECT:
        raise BudgetError("project", f"longer than {MAX_PROJECT} characters")
    if any(ord(c) < 32 for c in name):
        raise BudgetError("project", "contains control characters")
    return name


def check_call_project(value: Any) -> str:
    """The project a call is recorded for: a budget project name, but not the global ``*``."""
    name = check_project(value)
    if name == GLOBAL:
        raise BudgetError("project", "'*' means all projects in budgets; name a real project")
    return name


def check_period(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in PERIODS:
        raise BudgetError("period", f"must be one of {', '.join(PERIODS)}, got {value!r}")
    return value.strip().lower()


def check_mode(value: Any) -> str:
    if value is None:
        return "soft"
    if not isinstance(value, str) or value.strip().lower() not in MODES:
        raise BudgetError("mode", f"must be 'soft' (notify) or 'hard' (refuse), got {value!r}")
    return value.strip().lower()


def parse_limit(value: Any, field_name: str = "limit_usd") -> int:
    """A positive, finite USD amount (number, or text such as ``"50"`` / ``"$50"``) -> nanos."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise BudgetError(field_name, f"must be a number of US dollars, got {value!r}")
    text = value.strip().lstrip("$").replace(",", "") if isinstance(value, str) else str(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BudgetError(field_name, f"{value!r} is not an amount in US dollars") from None
    if not amount.is_finite():
        raise BudgetError(field_name, f"must be a finite amount, got {value!r}")
    if amount <= 0:
        raise BudgetError(field_name, f"must be more than $0, got {value!r}")
    if amount > MAX_LIMIT_USD:
        raise BudgetError(field_name, f"{value!r} is implausibly large (max $1,000,000,000)")
    nanos = to_nanos(amount)
    if nanos <= 0:
        raise BudgetError(field_name, f"{value!r} rounds to $0")
    return nanos


def check_thresholds(value: Any, field_name: str = "thresholds") -> tuple[float, ...]:
    """Percents of the limit, strictly ascending, each in (0, 100]."""
    if value is None:
        return DEFAULT_THRESHOLDS
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise BudgetError(field_name, "must be a list of percents, e.g. [50, 80, 100]")
    if not value:
        raise BudgetError(field_name, "must list at least one percent, e.g. [100]")
    if len(value) > MAX_THRESHOLDS:
        raise BudgetError(field_name, f"at most {MAX_THRESHOLDS} thresholds")
    out: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise BudgetError(field_name, f"{item!r} is not a number of percent")
        pct = float(item)
        if not math.isfinite(pct):
            raise BudgetError(field_name, f"{item!r} is not a finite percent")
        if pct <= 0 or pct > 100:
            raise BudgetError(field_name, f"{percent_text(pct)} % is outside 0 < percent ≤ 100")
        if out and pct <= out[-1]:
            shown = ", ".join(percent_text(v) if isinstance(v, float) else str(v) for v in value)
            raise BudgetError(field_name, f"must be in ascending order without repeats: {shown}")
        out.append(pct)
    return tuple(out)


def parse_thresholds_text(text: str, field_name: str = "--warn") -> tuple[float, ...]:
    """``"50,80"`` -> (50.0, 80.0); the same checks as the API."""
    items: list[Any] = []
    for part in text.split(","):
        part = part.strip().rstrip("%").strip()
        try:
            items.append(float(part))
        except ValueError:
            raise BudgetError(field_name, f"{part!r} is not a number of percent") from None
    return check_thresholds(items, field_name)


def make_budget(
    project: Any, period: Any, limit_usd: Any, mode: Any = None, thresholds: Any = None
) -> Budget:
    """A validated ``Budget``; raises ``BudgetError`` naming the first wrong field."""
    return Budget(
        project=check_project(project),
        period=check_period(period),
        limit_nanos=parse_limit(limit_usd),
        mode=check_mode(mode),
        thresholds=check_thresholds(thresholds),
    )


def budget_from_json(project: str, body: Any) -> Budget:
    """The body of ``PUT /v1/budgets/{project}``."""
    if not isinstance(body, dict):
        raise BudgetError("(body)", 'must be a JSON object like {"period":"month","limit_usd":50}')
    unknown = sorted(set(body) - {"period", "limit_usd", "mode", "thresholds", "project"})
    if unknown:
        raise BudgetError(unknown[0], "is not a budget field (period, limit_usd, mode, thresholds)")
    if "period" not in body:
        raise BudgetError("period", f"is required: one of {', '.join(PERIODS)}")
    if "limit_usd" not in body:
        raise BudgetError("limit_usd", "is required: an amount in US dollars > 0")
    if "project" in body and body["project"] != project:
        raise BudgetError("project", "differs from the project in the URL")
    return make_budget(
        project, body["period"], body["limit_usd"], body.get("mode"), body.get("thresholds")
    )


def percent_text(value: float) -> str:
    """50.0 -> '50', 12.5 -> '12.5'."""
    return f"{value:g}"
