"""Budget fixtures: a real core (SQLite file, writer, server on 127.0.0.1:0) driven by an
injected clock, with a collecting notifier registered on its budget service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from budgetkit import PRICES, UTC, App, Clock, Collect, Factory

from spendtray.budgets import RunawayRule
from spendtray.config import load_settings
from spendtray.core import Core


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC))


@pytest.fixture
def make_app(home: Path, clock: Clock) -> Iterator[Factory]:
    apps: list[App] = []

    def make(runaway: RunawayRule | None = None, **overrides: Any) -> App:
        home.mkdir(parents=True, exist_ok=True)
        (home / "prices.toml").write_text(PRICES, encoding="utf-8")
        settings = replace(load_settings(home=home, port=0), **{"timezone": "UTC", **overrides})
        core = Core(
            settings, clock=clock, runaway=runaway or RunawayRule(enabled=False), budget_min_gap=0
        )
        service = core.budgets
        sink = Collect()
        service.add_notifier(sink)
        core.start_background()
        app = App(core, service, clock, sink)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def app(make_app: Factory) -> App:
    return make_app()
