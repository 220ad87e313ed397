"""Prices reload live: an edited prices.toml and `spendtray prices update` reach the running
app without a restart; a broken edit keeps the prices in use; and an override naming its
provider prices events sent without one (a fine-tune the model name does not give away)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from genai_data_fixture import bundled_with_price

from spendtray.config import Settings
from spendtray.core import Core
from spendtray.prices.book import PriceBook
from spendtray.prices.reloader import PriceReloader

ROOT = Path(__file__).resolve().parents[2]
FINE_TUNE = """
[[model]]
provider = "openai"
models = ["acme-support-ft-*"]
id = "acme support fine-tune"
input_mtok = {price}
output_mtok = 0
checked = 2026-12-01
source = "our fine-tune's rate"
"""


@pytest.fixture
def fast_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("spendtray.prices.reloader.INTERVAL", 0.05)


@pytest.fixture
def running(settings: Settings, fast_reload: None) -> Iterator[Core]:
    core = Core(settings)
    core.start_background()
    try:
        yield core
    finally:
        core.stop()


counter = iter(range(1_000_000))


def post(core: Core, model: str, provider: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"model": model, "input_tokens": 1_000_000, "project": "reload"}
    event["request_id"] = f"reload-{next(counter)}"
    if provider:
        event["provider"] = provider
    r = httpx.post(
        f"{core.url}/v1/usage",
        json=event,
        headers={"Authorization": f"Bearer {core.token}"},
        timeout=10,
    )
    r.raise_for_status()
    result: dict[str, Any] = r.json()["events"][0]
    return result


def until(core: Core, model: str, predicate: Any, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        result = post(core, model)
        if predicate(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def stored(core: Core, event_id: int) -> dict[str, Any]:
    r = httpx.get(
        f"{core.url}/v1/usage",
        params={"project": "reload", "limit": 100},
        headers={"Authorization": f"Bearer {core.token}"},
    )
    event: dict[str, Any] = next(e for e in r.json()["events"] if e["id"] == event_id)
    return event


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_an_edited_prices_toml_is_used_without_a_restart(
    running: Core, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    model = "acme-support-ft-2"
    before = post(running, model)
    assert before["priced"] is False
    assert "acme-support-ft-2" in before["unpriced_reason"]

    write_atomically(settings.user_prices_path, FINE_TUNE.format(price=3))
    after = until(running, model, lambda e: e["priced"])
    assert after["priced"] is True and after["cost_usd"] == 3.0
    event = stored(running, after["id"])
    assert event["provider"] == "openai"  # the override names it; the name does not
    assert event["price"]["source"] == "prices.toml: our fine-tune's rate"

    with caplog.at_level(logging.WARNING, logger="spendtray.prices"):
        write_atomically(settings.user_prices_path, "[[model]]\nprovider = \n")
        deadline = time.monotonic() + 10
        while "prices not reloaded" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "prices not reloaded, the prices in use stay" in caplog.text
    assert str(settings.user_prices_path) in caplog.text
    assert post(running, model)["cost_usd"] == 3.0  # a broken edit changes nothing

    write_atomically(settings.user_prices_path, FINE_TUNE.format(price=5))
    assert until(running, model, lambda e: e["cost_usd"] == 5.0)["cost_usd"] == 5.0
    assert stored(running, before["id"])["priced"] is False  # stored events keep their price


def test_prices_update_reaches_the_running_app(
    running: Core, settings: Settings, tmp_path: Path
) -> None:
    assert post(running, "gpt-4o", "openai")["cost_usd"] == 2.5
    source = tmp_path / "data.json"
    source.write_bytes(bundled_with_price("openai", "gpt-4o", "input_mtok", 2.75))
    env = {**os.environ, "SPENDTRAY_HOME": str(settings.home), "PYTHONPATH": str(ROOT / "app")}
    update = subprocess.run(
        [sys.executable, "-m", "spendtray", "prices", "update", "--from", str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert update.returncode == 0, update.stderr
    assert "restart" not in update.stdout + update.stderr
    assert until(running, "gpt-4o", lambda e: e["cost_usd"] == 2.75)["cost_usd"] == 2.75


def test_an_override_naming_the_provider_prices_events_without_one(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(FINE_TUNE.format(price=2), encoding="utf-8")
    book = PriceBook.load(user_file=prices)
    for provider in (None, "unknown", "openai"):  # "unknown": what an event stores for none
        resolved = book.resolve("acme-support-ft-7", provider)
        assert resolved.provider_id == "openai" and resolved.model_id == "acme support fine-tune"
    with pytest.raises(LookupError):
        book.resolve("acme-support-ft-7", "anthropic")  # another provider's model: not this


def test_a_reload_drops_what_was_cached_from_the_old_prices(tmp_path: Path) -> None:
    import datetime as dt

    prices = tmp_path / "prices.toml"
    prices.write_text(FINE_TUNE.format(price=2), encoding="utf-8")
    book = PriceBook.load(user_file=prices)
    reloader = PriceReloader(book, prices, tmp_path / "no-downloads")
    when = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    ms = int(when.timestamp() * 1000)
    first = book.price_at("acme-support-ft-1", None, when, ms)
    assert not isinstance(first, str) and first.unit_prices_json()["input_mtok"] == "2"
    assert reloader.check() is False  # nothing changed
    prices.write_text(FINE_TUNE.format(price=4) + "\n", encoding="utf-8")
    assert reloader.check() is True and reloader.reloads == 1
    again = book.price_at("acme-support-ft-1", None, when, ms)
    assert not isinstance(again, str) and again.unit_prices_json()["input_mtok"] == "4"
    prices.unlink()
    assert reloader.check() is True
    assert isinstance(book.price_at("acme-support-ft-1", None, when, ms), str)  # unpriced again
