"""Errors the proxy itself answers, in the upstream API's own error shape so the OpenAI and
Anthropic SDKs raise their usual exception with a readable message. Pure; event loop.

- OpenAI: ``{"error": {"message", "type", "param", "code"}}``
- Anthropic: ``{"type": "error", "error": {"type", "message"}}``
A refused call (hard budget spent) is HTTP 429 with ``x-should-retry: false``: both SDKs
otherwise retry a 429 with back-off, which cannot help until the budget period ends.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from spendtray.budgets.evaluate import CheckResult
from spendtray.budgets.text import PHRASE, limit_usd, scope_name, time_left
from spendtray.money import format_usd

# (OpenAI type, Anthropic type) per HTTP status we produce.
_TYPES = {
    400: ("invalid_request_error", "invalid_request_error"),
    404: ("invalid_request_error", "not_found_error"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("insufficient_quota", "rate_limit_error"),
    502: ("server_error", "api_error"),
}


def api_error(
    api: str,
    status: int,
    message: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    openai_type, anthropic_type = _TYPES.get(status, ("server_error", "api_error"))
    if api == "anthropic":
        body: dict[str, object] = {
            "type": "error",
            "error": {"type": anthropic_type, "message": message},
        }
    else:
        body = {"error": {"message": message, "type": openai_type, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def refusal_text(result: CheckResult, project: str) -> str:
    """'Spendtray refused this call: the hard day budget of project 'acme' ($5 today) is
    spent ...' or '... has no room for this call (up to $0.40) ...'."""
    status = result.status
    if status is None:  # decide() never refuses without a budget; kept total for safety
        return f"Spendtray refused this call for project {project!r}: a hard budget is spent"
    b = status.budget
    whose = "of all projects" if b.project == "*" else f"of project {scope_name(b.project)!r}"
    budget = f"the hard {b.period} budget {whose} ({limit_usd(b.limit_nanos)} {PHRASE[b.period]})"
    if status.spent_nanos >= b.limit_nanos:
        why = f"is spent — {format_usd(status.spent_nanos)} used"
    else:
        # Not spent yet, but this call's worst case does not fit beside the calls in flight.
        why = (
            f"has no room for this call (up to {format_usd(result.estimate_nanos)}) — "
            f"{format_usd(status.spent_nanos)} used, "
            f"{format_usd(status.reserved_nanos)} held by calls in flight"
        )
    return (
        f"Spendtray refused this call: {budget} {why}, {time_left(status)} in the period. "
        "Raise it with `spendtray budget set`, lower max_tokens, or wait for the next period."
    )


def budget_refusal(api: str, result: CheckResult, project: str) -> JSONResponse:
    return api_error(
        api,
        429,
        refusal_text(result, project),
        code="spendtray_budget_exceeded",
        headers={"x-should-retry": "false"},
    )
