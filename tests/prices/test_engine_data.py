"""`prices update` in-process: fetch genai-prices' data file, validate, install, fall back.

The only network is a loopback server (127.0.0.1, port 0) serving the bundled catalogue with
one price changed, broken variants of it, and HTTP errors.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from genai_data_fixture import (
    FakeUpstream,
    Reply,
    bundled_raw,
    bundled_with_price,
    fake_upstream,
)
from genai_prices.data import providers as bundled_providers
from genai_prices.types import _providers_from_raw
from genai_prices.update_prices import DEFAULT_UPDATE_URL

from spendtray.config import DEFAULT_PRICES_URL, ConfigError, load_settings
from spendtray.prices.book import ENGINE_SOURCE, PriceBook, TokenCounts
from spendtray.prices.engine_data import (
    DATA_FILE,
    META_FILE,
    PriceDataError,
    fetch,
    load_engine_data,
    update_engine_data,
)

WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
BUNDLED_MODELS = sum(len(p.models) for p in bundled_providers)
MILLION_INPUT = TokenCounts(input_tokens=1_000_000)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def new_data() -> bytes:
    """Bundled data with gpt-4o's input price raised from $2.50 to $2.75 per million."""
    return bundled_with_price("openai", "gpt-4o", "input_mtok", 2.75)


@pytest.fixture
def upstream(new_data: bytes) -> Iterator[FakeUpstream]:
    with fake_upstream() as server:
        server.replies["/data.json"] = Reply(200, new_data)
        yield server


def snapshot_files(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data_dir.iterdir())}


def test_fixture_serialiser_round_trips_the_bundled_data() -> None:
    # Guards the helper: the JSON it writes parses back to exactly genai-prices' own data.
    assert _providers_from_raw(json.loads(json.dumps(bundled_raw()))) == bundled_providers


def test_default_url_is_genai_prices_own() -> None:
    assert DEFAULT_PRICES_URL == DEFAULT_UPDATE_URL
    assert load_settings(home=Path("/nonexistent-home")).prices_url == DEFAULT_UPDATE_URL


def test_prices_url_setting_must_be_http(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('prices_url = "ftp://example.com/data.json"\n')
    with pytest.raises(ConfigError, match="prices_url"):
        load_settings(home=tmp_path)
    (tmp_path / "config.toml").write_text('prices_url = "http://127.0.0.1:9/d.json"\n')
    assert load_settings(home=tmp_path).prices_url == "http://127.0.0.1:9/d.json"


@pytest.mark.slow
def test_update_installs_the_new_data_and_the_book_uses_it(
    tmp_path: Path, upstream: FakeUpstream, new_data: bytes
) -> None:
    data_dir = tmp_path / "prices"
    now = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    result = update_engine_data(data_dir, upstream.url("/data.json"), now=now)

    assert upstream.requests == ["/data.json"]
    assert (result.models, result.previous_models, result.previous_kind) == (
        BUNDLED_MODELS,
        BUNDLED_MODELS,
        "bundled",
    )
    assert (result.changed, result.added, result.removed) == (1, 0, 0)
    assert result.summary() == (
        f"updated: {BUNDLED_MODELS:,} models from {len(bundled_providers)} providers "
        f"(was {BUNDLED_MODELS:,}, bundled) · 1 price changed"
    )
    assert (data_dir / DATA_FILE).read_bytes() == new_data
    meta = json.loads((data_dir / META_FILE).read_text())
    assert meta["source"] == upstream.url("/data.json")
    assert meta["fetched_at"] == "2026-11-20T09:30:00+00:00"
    assert (meta["providers"], meta["models"]) == (len(bundled_providers), BUNDLED_MODELS)
    assert sorted(p.name for p in data_dir.iterdir()) == [DATA_FILE, META_FILE]  # no temp files

    book = PriceBook.load(data_dir=data_dir)
    resolved = book.resolve("gpt-4o", "openai", WHEN)
    assert resolved.unit_prices_json()["input_mtok"] == "2.75"
    assert resolved.cost_nanos(MILLION_INPUT) == 2_750_000_000
    assert resolved.source == "genai-prices data downloaded 2026-11-20"
    assert book.engine.kind == "downloaded"
    assert "downloaded 2026-11-20 09:30 UTC from http://127.0.0.1:" in book.engine.describe()
    # Other models are untouched, and a book without the data folder keeps the bundled data.
    assert book.resolve("gpt-4o-mini", "openai", WHEN).cost_nanos(MILLION_INPUT) == 150_000_000
    bundled = PriceBook.load().resolve("gpt-4o", "openai", WHEN)
    assert bundled.cost_nanos(MILLION_INPUT) == 2_500_000_000
    assert bundled.source == ENGINE_SOURCE

    # The same data again: nothing changed, and the summary says so.
    again = update_engine_data(data_dir, upstream.url("/data.json"))
    assert again.summary().startswith(f"up to date: {BUNDLED_MODELS:,} models")
    assert "(was" in again.summary() and "downloaded" in again.summary()
    assert again.changed == 0


@pytest.mark.slow
def test_added_and_removed_models_are_counted(tmp_path: Path, upstream: FakeUpstream) -> None:
    raw = bundled_raw()
    openai = next(p for p in raw if p["id"] == "openai")
    dropped = openai["models"].pop()
    extra = {**openai["models"][0], "id": "gpt-test-new", "match": {"equals": "gpt-test-new"}}
    openai["models"].append(extra)
    upstream.replies["/edited.json"] = Reply(200, json.dumps(raw).encode())
    result = update_engine_data(tmp_path, upstream.url("/edited.json"))
    assert (result.changed, result.added, result.removed) == (0, 1, 1)
    assert "1 added, 1 removed" in result.summary()
    book = PriceBook.load(data_dir=tmp_path)
    assert book.resolve("gpt-test-new", "openai", WHEN).model_id == "gpt-test-new"
    assert dropped["id"] not in {m for p, m, _ in book.engine_models() if p == "openai"}


@pytest.mark.slow
def test_update_from_a_local_file(tmp_path: Path, new_data: bytes) -> None:
    source = tmp_path / "download.json"
    source.write_bytes(new_data)
    result = update_engine_data(tmp_path / "prices", str(source))
    assert result.changed == 1
    meta = json.loads((tmp_path / "prices" / META_FILE).read_text())
    assert meta["source"] == str(source)
    book = PriceBook.load(data_dir=tmp_path / "prices")
    assert book.resolve("gpt-4o", "openai", WHEN).cost_nanos(MILLION_INPUT) == 2_750_000_000


SCHEMA_INVALID = json.dumps(
    [
        {
            "id": "acme",
            "name": "Acme",
            "api_pattern": "https://acme",
            "models": [{"id": "m1", "match": {"equals": "m1"}, "prices": {"input_mtok": "cheap"}}],
        }
    ]
).encode()
UNKNOWN_PRICE_KEY = SCHEMA_INVALID.replace(b'"input_mtok": "cheap"', b'"inptu_mtok": 1')


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (Reply(200, b'[{"id": "openai", "models": ['), "is not valid JSON"),
        (Reply(200, b"<html>rate limited</html>", "text/html"), "is not valid JSON"),
        (Reply(200, b'{"providers": []}'), "expected a list of providers, got a JSON dict"),
        (Reply(200, SCHEMA_INVALID), "provider 'acme', model 'm1': input_mtok"),
        (Reply(200, UNKNOWN_PRICE_KEY), "acme/m1: Unknown price key: inptu_mtok"),
        (Reply(200, b"[]"), "lists no models"),
        (Reply(500, b"boom", "text/plain"), "answered HTTP 500 Internal Server Error"),
        (Reply(404, b"gone", "text/plain"), "answered HTTP 404 Not Found"),
    ],
    ids=["truncated", "html", "object", "schema", "price-key", "empty", "http-500", "http-404"],
)
def test_a_failed_update_leaves_the_current_data_byte_identical(
    tmp_path: Path, upstream: FakeUpstream, reply: Reply, needle: str
) -> None:
    data_dir = tmp_path / "prices"
    update_engine_data(data_dir, upstream.url("/data.json"))
    before = snapshot_files(data_dir)
    upstream.replies["/bad"] = reply

    with pytest.raises(PriceDataError) as caught:
        update_engine_data(data_dir, upstream.url("/bad"))

    message = str(caught.value)
    assert needle in message and "\n" not in message
    assert snapshot_files(data_dir) == before
    book = PriceBook.load(data_dir=data_dir)
    assert book.resolve("gpt-4o", "openai", WHEN).cost_nanos(MILLION_INPUT) == 2_750_000_000


def test_a_failed_first_update_creates_nothing(tmp_path: Path, upstream: FakeUpstream) -> None:
    upstream.replies["/bad"] = Reply(200, SCHEMA_INVALID)
    with pytest.raises(PriceDataError):
        update_engine_data(tmp_path / "prices", upstream.url("/bad"))
    assert not (tmp_path / "prices").exists()
    assert PriceBook.load(data_dir=tmp_path / "prices").engine.kind == "bundled"


def test_unreachable_url_and_missing_file(tmp_path: Path) -> None:
    with fake_upstream() as closed:
        url = closed.url("/data.json")
    with pytest.raises(PriceDataError, match=r"cannot fetch http://127\.0\.0\.1"):
        update_engine_data(tmp_path, url)
    with pytest.raises(PriceDataError, match="no such file"):
        update_engine_data(tmp_path, str(tmp_path / "missing.json"))
    with pytest.raises(PriceDataError, match="only http"):
        update_engine_data(tmp_path, "ftp://127.0.0.1/data.json")
    assert list(tmp_path.iterdir()) == []


def test_size_limit_and_timeout(upstream: FakeUpstream, new_data: bytes, tmp_path: Path) -> None:
    with pytest.raises(PriceDataError, match="more than 100,000 bytes; refused"):
        fetch(upstream.url("/data.json"), max_bytes=100_000)
    assert len(fetch(upstream.url("/data.json"), max_bytes=len(new_data))) == len(new_data)
    big = tmp_path / "big.json"
    big.write_bytes(new_data)
    with pytest.raises(PriceDataError, match="larger than"):
        fetch(str(big), max_bytes=1000)
    upstream.replies["/slow"] = Reply(200, new_data, delay=2.0)
    with pytest.raises(PriceDataError, match="timed out"):
        fetch(upstream.url("/slow"), timeout=httpx.Timeout(0.3))


def test_unusable_download_falls_back_to_bundled_with_a_reason(
    tmp_path: Path, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    update_engine_data(tmp_path, upstream.url("/data.json"))
    data = tmp_path / DATA_FILE
    meta = tmp_path / META_FILE
    good_meta = meta.read_text()

    data.write_bytes(data.read_bytes() + b" ")  # changed after download: checksum mismatch
    with caplog.at_level(logging.WARNING, logger="spendtray.prices.engine_data"):
        engine = load_engine_data(tmp_path)
    assert engine.kind == "bundled"
    assert engine.ignored and "does not match" in engine.ignored
    assert "using genai-prices" in caplog.text and "bundled data" in caplog.text
    assert "downloaded data ignored" in engine.describe()
    book = PriceBook.load(data_dir=tmp_path)
    assert book.resolve("gpt-4o", "openai", WHEN).cost_nanos(MILLION_INPUT) == 2_500_000_000

    data.write_bytes(data.read_bytes()[:-1])
    older = json.loads(good_meta) | {"genai_prices_version": "0.0.1"}
    meta.write_text(json.dumps(older))
    engine = load_engine_data(tmp_path)
    assert engine.kind == "bundled"
    assert engine.ignored and "fetched with genai-prices 0.0.1" in engine.ignored

    meta.write_text(good_meta)
    assert load_engine_data(tmp_path).kind == "downloaded"
    meta.unlink()
    engine = load_engine_data(tmp_path)
    assert (engine.kind, engine.ignored) == ("bundled", f"{META_FILE} is missing")
