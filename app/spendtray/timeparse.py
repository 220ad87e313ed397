"""Parsing user-given times for ``since``/``until`` (API query strings and CLI flags). Pure.

Accepted: ISO-8601 date (local midnight in the configured zone) or date-time (naive = local),
epoch seconds, ``now``, ``today``, ``yesterday``, ``week``/``month`` (start of the current
one) and relative spans ``30m``, ``24h``, ``7d``, ``2w`` (that long before now).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from spendtray.store.timebuckets import period_start

_RELATIVE = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class TimeParseError(ValueError):
    pass


def parse_when(text: str, now: dt.datetime, zone: ZoneInfo, week_start: int = 0) -> dt.datetime:
    """A UTC-aware datetime for ``text``; raises ``TimeParseError`` naming what is accepted."""
    value = text.strip().lower()
    local_now = now.astimezone(zone)
    if value == "now":
        return now
    if value == "today":
        return period_start(local_now, "day").astimezone(dt.UTC)
    if value == "yesterday":
        return period_start(local_now - dt.timedelta(days=1), "day").astimezone(dt.UTC)
    if value in ("week", "month"):
        return period_start(local_now, value, week_start).astimezone(dt.UTC)
    match = _RELATIVE.match(value)
    if match:
        return now - dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if re.fullmatch(r"\d{9,11}(\.\d+)?", value):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)
        text_iso = text.strip()
        if text_iso.endswith(("Z", "z")):
            text_iso = text_iso[:-1] + "+00:00"
        stamp = dt.datetime.fromisoformat(text_iso)
    except ValueError:
        raise TimeParseError(
            f"{text!r} is not a time (use ISO-8601, epoch seconds, today, yesterday, week, "
            "month, or a span like 24h / 7d)"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=zone)
    return stamp.astimezone(dt.UTC)
