"""The runaway alarm: a project spending far above its usual rate (an agent stuck in a loop).

Runs on the budget worker thread. "Usual" is the median spend per window over the trailing
history (24 h by default), taken from the project's quarter-hour sums (``Reader.cost_per_bucket``,
one read of the history's events, cached until the next quarter-hour) and scaled to the
window; the last window itself comes from ``RunningSpend``,
which reads each new event once rather than re-summing the window after every commit.
Quiet quarter-hours count as zero, so for a project that is usually idle the absolute floor
(``min_nanos``) is what decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from spendtray.store.db import BUCKET_SECONDS
from spendtray.store.reader import Reader
from spendtray.store.running import RunningSpend


@dataclass(frozen=True)
class RunawayRule:
    """When to raise the alarm; every field is configurable on the budget service."""

    factor: float = 5.0  # last window >= factor x the trailing median window
    window: dt.timedelta = dt.timedelta(minutes=10)
    history: dt.timedelta = dt.timedelta(hours=24)
    min_nanos: int = 1_000_000_000  # and at least $1 in the window: no alarms over cents
    enabled: bool = True


@dataclass(frozen=True)
class RunawayFinding:
    project: str
    recent_nanos: int  # spend in the last window
    usual_nanos: int  # trailing median spend per window
    times: float  # recent / usual (0.0 when there is no usual spend)
    window_start: dt.datetime


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return 0.0
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


class RunawayDetector:
    def __init__(self, reader: Reader, rule: RunawayRule, running: RunningSpend) -> None:
        self.reader = reader
        self.rule = rule
        # (project, last bucket of the history) -> usual spend per window; the history only
        # moves every quarter hour, so most evaluations reuse it.
        self._usual: dict[tuple[str, int], int] = {}
        self.running = running

    def usual_nanos(self, project: str, now: dt.datetime) -> int:
        rule = self.rule
        end = int((now - rule.window).timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
        cached = self._usual.get((project, end))
        if cached is not None:
            return cached
        start = end - int(rule.history.total_seconds()) // BUCKET_SECONDS * BUCKET_SECONDS
        per_bucket = self.reader.cost_per_bucket(project, start, end)
        values = [int(per_bucket.get(b, 0)) for b in range(start, end, BUCKET_SECONDS)]
        scale = rule.window.total_seconds() / BUCKET_SECONDS
        usual = round(_median(values) * scale)
        if len(self._usual) > 10_000:
            self._usual.clear()
        self._usual[(project, end)] = usual
        return usual

    def check(self, project: str, now: dt.datetime) -> RunawayFinding | None:
        rule = self.rule
        if not rule.enabled:
            return None
        # (now - window, now]: the call that was just stored counts.
        tick = dt.timedelta(seconds=1)  # the reader works in whole seconds
        since = now - rule.window + tick
        recent = self.running.recent(project, since, now + tick)
        if recent < rule.min_nanos:
            return None
        usual = self.usual_nanos(project, now)
        if usual > 0 and recent < rule.factor * usual:
            return None
        times = recent / usual if usual > 0 else 0.0
        return RunawayFinding(project, recent, usual, times, since)
