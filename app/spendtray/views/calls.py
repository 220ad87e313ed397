"""The Recent calls table as text: each stored call's time, status, source and cost. Pure.

A failed call (an HTTP error such as a 429, a stream the client closed, an upstream that could
not be reached) or a call whose usage never arrived is said so in the Status column and
coloured, so it never reads like a free success. GUI thread (texts are made as rows are drawn).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from spendtray.money import format_tokens, format_usd
from spendtray.views.columns import Column, Tone

HTTP_WORDS = {
    400: "bad request",
    401: "unauthorized",
    402: "payment required",
    403: "forbidden",
    404: "not found",
    408: "timed out",
    413: "too large",
    422: "invalid",
    429: "rate limited",
    500: "server error",
    502: "bad gateway",
    503: "unavailable",
    504: "timed out",
    529: "overloaded",
}
_OK_WORDS = {"", "ok", "success", "succeeded", "cache_hit", "completed"}
_CODE = re.compile(r"^(?:error\s*)?(\d{3})\b")


@dataclass(frozen=True)
class CallStatus:
    text: str
    tone: Tone | None  # None: a success with known usage
    tip: str


def http_code(status: str) -> int | None:
    """403 from "403", "error 403" or "403 Forbidden"; None for other words."""
    match = _CODE.match(status.strip().lower())
    return int(match.group(1)) if match else None


def call_status(event: dict[str, Any]) -> CallStatus:
    raw = str(event.get("status") or "").strip()
    tags = event.get("tags") or {}
    code = http_code(raw)
    if code is not None and code >= 400:
        word = HTTP_WORDS.get(code, "client error" if code < 500 else "server error")
        return CallStatus(f"{code} {word}", "error", f"the provider answered HTTP {code}")
    if code is None and raw.lower() not in _OK_WORDS:
        return CallStatus(raw, "error", f"the call did not complete: {raw}")
    if tags.get("usage") == "missing":
        return CallStatus(
            "usage missing",
            "warning",
            "the call completed but its token counts never arrived: its cost is unknown",
        )
    if not event.get("priced", True):
        reason = event.get("unpriced_reason") or "no known price for this model"
        return CallStatus("unpriced", "warning", reason)
    return CallStatus("ok", None, "completed and priced")


def cost_text(event: dict[str, Any], precision: int) -> str:
    if (event.get("tags") or {}).get("usage") == "missing":
        return "unknown"
    if call_status(event).tone == "error" and not (
        event.get("input_tokens") or event.get("output_tokens")
    ):
        return "—"  # a failed call that reported no tokens: nothing to price, not a free call
    if not event.get("priced", True):
        return "unpriced"
    cost = event.get("cost_usd")
    # The Reader's event rows carry dollars rounded to 9 places: exactly the nano amount.
    return format_usd(None if cost is None else round(cost * 1e9), precision)


def when_text(event: dict[str, Any], zone: ZoneInfo, today: dt.date) -> str:
    """15:04:05 for today's calls, "Nov 3, 15:04" for older ones (local time)."""
    stamp = dt.datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
    local = stamp.astimezone(zone)
    if local.date() == today:
        return local.strftime("%H:%M:%S")
    return f"{local:%b} {local.day}, {local:%H:%M}"


def call_columns(
    zone: ZoneInfo,
    now: Callable[[], dt.datetime],
    precision: Callable[[], int],
    machines: bool = False,
) -> list[Column]:
    """The Recent calls table; ``machines``: a Machine column too (spend from more than one
    machine is here)."""

    def when(event: dict[str, Any]) -> str:
        return when_text(event, zone, now().astimezone(zone).date())

    def row_tone(event: dict[str, Any]) -> Tone | None:
        return call_status(event).tone

    return [
        Column("Time", when, tip=lambda e: e["timestamp"], max_chars=14),
        Column(
            "Status",
            lambda e: call_status(e).text,
            tip=lambda e: call_status(e).tip,
            tone=row_tone,
            max_chars=20,
        ),
        Column("Project", lambda e: e["project"], max_chars=24),
        Column("Model", lambda e: e["model"], max_chars=30),
        Column("Provider", lambda e: e["provider"], max_chars=14),
        Column("Source", lambda e: e.get("source") or "", max_chars=14),
        Column("Agent", lambda e: e.get("agent") or "", max_chars=16),
        *([Column("Machine", lambda e: e.get("machine") or "", max_chars=14)] if machines else []),
        Column("In", lambda e: format_tokens(e["input_tokens"]), right=True, max_chars=10),
        Column("Out", lambda e: format_tokens(e["output_tokens"]), right=True, max_chars=10),
        Column("Cached", lambda e: format_tokens(e["cache_read_tokens"]), right=True, max_chars=10),
        Column(
            "Cost",
            lambda e: cost_text(e, precision()),
            right=True,
            tip=lambda e: e.get("unpriced_reason") or (e.get("price") or {}).get("source"),
            tone=row_tone,
            max_chars=12,
        ),
    ]
