"""Helpers for budget tests: an injectable clock, a collecting notifier, a running app.

One input token of ``unit-model`` (provider ``testco``) costs exactly $0.000001, so a call's
cost in dollars is its input tokens / 1e6.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx

from sharedkit import UNIT_PRICES
from spendtray.budgets import Alert, BudgetService
from spendtray.core import Core

UTC = dt.UTC
PRICES = UNIT_PRICES  # the conftest writes it as the app's prices.toml


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now = self.now + dt.timedelta(**delta)


class Collect:
    """A notifier that records alerts (the GUI registers its own the same way)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def kinds(self, kind: str | None = None) -> list[tuple[str, str, str, float]]:
        return [
            (a.project, a.period, a.kind, a.threshold)
            for a in self.alerts
            if kind is None or a.kind == kind
        ]


class App:
    """A running core with budgets, its clock and a collecting notifier."""

    def __init__(self, core: Core, service: BudgetService, clock: Clock, sink: Collect) -> None:
        self.core = core
        self.service = service
        self.clock = clock
        self.sink = sink
        self.client = httpx.Client(
            base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}, timeout=30
        )

    def spend(self, usd: float, project: str = "acme", at: dt.datetime | None = None) -> None:
        """Ingest one call costing exactly ``usd`` at ``at`` (default: now), then wait for the
        budget worker to finish evaluating it."""
        self.spend_many([event(usd, project, at or self.clock.now)])

    def spend_many(self, events: list[dict[str, Any]]) -> None:
        self.core.ingest.ingest(events)
        assert self.service.flush()

    def close(self) -> None:
        self.client.close()
        self.service.stop()
        self.core.stop()


Factory = Callable[..., App]


def event(usd: float, project: str, at: dt.datetime) -> dict[str, Any]:
    return {
        "model": "unit-model",
        "provider": "testco",
        "project": project,
        "input_tokens": round(usd * 1_000_000),
        "timestamp": at.astimezone(UTC).isoformat(),
    }
