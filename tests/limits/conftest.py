"""Limits fixtures: a real core (SQLite file, writer, server on 127.0.0.1:0) with budgets and
limits installed, driven by a clock the test moves, and a notifier that collects window alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from limitskit import UTC, Clock, Collect, LimitsApp, LimitsFactory

from spendtray.config import load_settings
from spendtray.core import Core


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC))


@pytest.fixture
def make_limits(home: Path, clock: Clock) -> Iterator[LimitsFactory]:
    apps: list[LimitsApp] = []

    def make(**overrides: Any) -> LimitsApp:
        home.mkdir(parents=True, exist_ok=True)
        settings = replace(load_settings(home=home, port=0), **{"timezone": "UTC", **overrides})
        core = Core(settings, clock=clock)
        service = core.limits
        sink = Collect()
        service.add_notifier(sink)
        core.start_background()
        http = httpx.Client(
            base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}, timeout=30
        )
        app = LimitsApp(core, service, clock, sink, http)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def limits_app(make_limits: LimitsFactory) -> LimitsApp:
    return make_limits()
