"""Pace of a window: the average rate since the window began, applied to the time left."""

from __future__ import annotations

from spendtray.limits.model import Observation, duration, pace, pace_text

NOW = 1_800_000_000
HOUR = 3600


def obs(used: float, resets_in: int, minutes: int | None = 300, seen_ago: int = 0) -> Observation:
    return Observation(
        provider="anthropic",
        account="subscription",
        window="five_hour",
        window_minutes=minutes,
        used_percent=used,
        resets_at=NOW + resets_in,
        observed_at=(NOW - seen_ago) * 1000,
    )


def test_ahead_of_pace_names_time_to_full_and_margin() -> None:
    # 2 h into a 5 h window at 50 %: 25 %/h, full in 2 h, one hour before the reset
    p = pace(obs(50.0, 3 * HOUR), NOW * 1000)
    assert p.state == "ahead"
    assert p.full_in_seconds == 2 * HOUR and p.margin_seconds == HOUR
    assert pace_text(p) == "at this rate you reach 100 % in 2 h, 1 h before reset"


def test_on_pace_projects_the_use_at_reset() -> None:
    # 4 h in at 40 %: 10 %/h, 50 % at the reset
    p = pace(obs(40.0, HOUR), NOW * 1000)
    assert p.state == "on_pace" and p.projected_percent == 50.0
    assert pace_text(p) == "on pace (≈ 50 % at reset)"


def test_rate_is_taken_up_to_the_reading_and_time_since_counts() -> None:
    # read 20 min ago, 2 h in at 50 %: 1 h 40 m to full from now, 1 h before the reset
    p = pace(obs(50.0, 3 * HOUR - 1200, seen_ago=1200), NOW * 1000)
    assert p.state == "ahead"
    assert p.full_in_seconds == 2 * HOUR - 1200
    assert p.margin_seconds == HOUR


def test_full_reset_and_unknown() -> None:
    assert pace(obs(100.0, HOUR), NOW * 1000).state == "full"
    assert pace(obs(60.0, -5), NOW * 1000).state == "reset"
    assert pace(obs(60.0, HOUR, minutes=None), NOW * 1000).state == "unknown"
    # a few seconds into a window says nothing about its rate
    assert pace(obs(3.0, 5 * HOUR - 30), NOW * 1000).state == "unknown"


def test_duration_words() -> None:
    assert duration(40 * 60) == "40 min"
    assert duration(80 * 60) == "1 h 20 m"
    assert duration(2 * 86400 + 3 * 3600) == "2 d 3 h"
