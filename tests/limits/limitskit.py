"""Helpers for the limits tests: the moved clock, the collecting notifier, the running app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from spendtray.core import Core
from spendtray.limits.service import LimitsService

UTC = dt.UTC


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now = self.now + dt.timedelta(**delta)

    @property
    def epoch(self) -> int:
        return int(self.now.timestamp())


class Collect:
    def __init__(self) -> None:
        self.alerts: list[Any] = []

    def notify(self, alert: Any) -> None:
        self.alerts.append(alert)


@dataclass
class LimitsApp:
    core: Core
    service: LimitsService
    clock: Clock
    sink: Collect
    http: httpx.Client

    def close(self) -> None:
        self.http.close()
        self.core.stop()


LimitsFactory = Callable[..., LimitsApp]
