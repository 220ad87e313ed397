"""Calendar ranges in a time zone (hour, day, week, month) as UTC instants. Pure; any thread.

Used by summaries and budgets. Ranges are built with zoneinfo so DST days are 23 or 25 hours
long, as they are on the user's wall clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIME_GROUPS = ("hour", "day", "week", "month")
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def period_start(local: dt.datetime, group: str, week_start: int = 0) -> dt.datetime:
    """Start (local wall time, tz-aware) of the period containing ``local``."""
    tz = local.tzinfo
    if group == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = dt.datetime(local.year, local.month, local.day, tzinfo=tz)
    if group == "day":
        return day
    if group == "week":
        back = (local.weekday() - week_start) % 7
        d = local.date() - dt.timedelta(days=back)
        return dt.datetime(d.year, d.month, d.day, tzinfo=tz)
    if group == "month":
        return dt.datetime(local.year, local.month, 1, tzinfo=tz)
    raise ValueError(f"unknown period {group!r}")


def next_start(start: dt.datetime, group: str) -> dt.datetime:
    """The start of the following period (wall-clock arithmetic, then re-localised)."""
    tz = start.tzinfo
    if group == "hour":
        # Add in UTC so DST repeats/skips of an hour are handled.
        nxt = (start.astimezone(dt.UTC) + dt.timedelta(hours=1)).astimezone(tz)
        return nxt
    naive = start.replace(tzinfo=None)
    if group == "day":
        naive = naive + dt.timedelta(days=1)
    elif group == "week":
        naive = naive + dt.timedelta(days=7)
    elif group == "month":
        naive = (
            naive.replace(year=naive.year + 1, month=1)
            if naive.month == 12
            else naive.replace(month=naive.month + 1)
        )
    else:
        raise ValueError(f"unknown period {group!r}")
    return naive.replace(tzinfo=tz)


def key_of(start: dt.datetime, group: str) -> str:
    if group == "hour":
        # Formatted by hand: strftime was a fifth of a by-hour summary over three months.
        key = f"{start.year:04d}-{start.month:02d}-{start.day:02d}T{start.hour:02d}:00"
        if start.replace(fold=0).utcoffset() != start.replace(fold=1).utcoffset():
            # The hour that repeats when clocks go back: keep both apart by their UTC offset.
            key += start.strftime("%z")[:3] + ":" + start.strftime("%z")[3:]
        return key
    if group == "month":
        return start.strftime("%Y-%m")
    return start.strftime("%Y-%m-%d")


def steady_offset(start: int, end: int, zone: ZoneInfo) -> int | None:
    """The zone's UTC offset in seconds when it is the same from two hours before ``start``
    to two hours after ``end`` (epoch seconds) — no clock change, so no hour there repeats or
    is skipped — else None."""
    offsets = {
        dt.datetime.fromtimestamp(at, dt.UTC).astimezone(zone).utcoffset()
        for at in (start - 7200, end + 7200)
    }
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return None if offset is None else int(offset.total_seconds())


def steady_hours(first: int, last: int, offset: int) -> list[tuple[str, int]]:
    """(key, start) of the local hours overlapping [first, last) (epoch seconds) at a fixed
    UTC ``offset`` (``steady_offset``): what ``ranges`` gives for "hour", by arithmetic — a
    summary by hour over months has thousands of them."""
    out: list[tuple[str, int]] = []
    dates: dict[int, str] = {}
    at = first - (first + offset) % 3600
    while at < last:
        day, second = divmod(at + offset, 86400)
        date = dates.get(day)
        if date is None:
            date = dates[day] = dt.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
        out.append((f"{date}T{second // 3600:02d}:00", at))
        at += 3600
    return out


def ranges(
    since: dt.datetime, until: dt.datetime, group: str, zone: ZoneInfo, week_start: int = 0
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(key, start, end) for every period overlapping [since, until), clipped to it."""
    out: list[tuple[str, dt.datetime, dt.datetime]] = []
    start = period_start(since.astimezone(zone), group, week_start)
    while start.astimezone(dt.UTC) < until:
        end = next_start(start, group)
        lo = max(start.astimezone(dt.UTC), since)
        hi = min(end.astimezone(dt.UTC), until)
        if lo < hi:
            out.append((key_of(start, group), lo, hi))
        start = end
    return out


def current_period(
    now: dt.datetime, group: str, zone: ZoneInfo, week_start: int = 0
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the period (day/week/month) containing ``now``."""
    start = period_start(now.astimezone(zone), group, week_start)
    return start.astimezone(dt.UTC), next_start(start, group).astimezone(dt.UTC)
