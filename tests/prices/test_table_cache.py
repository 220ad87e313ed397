"""The price table cache: what it answers equals the live price book's answer, to the byte and
the nano-dollar; it is used only for the files and code it was saved from; a damaged file is
ignored (logged) and written again; a model it lacks loads genai-prices."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from table_answers import PriceKey, compare, same

from spendtray.paths import pricing_dir
from spendtray.prices import table_cache
from spendtray.prices.book import PriceBook
from spendtray.prices.table_cache import (
    PriceTable,
    read_table,
    refresh_table,
    table_key,
)

USER_TOML = """
[[model]]
provider = "acme"
models = ["acme-large*"]
input_mtok = 2
output_mtok = 8
checked = 2026-03-01
valid_from = 2026-03-01
source = "https://acme.example/pricing"

[[model]]
provider = "acme"
models = ["acme-large*"]
input_mtok = 2.5
output_mtok = 10
checked = 2026-01-10
source = "https://acme.example/pricing"

[[model]]
provider = "anthropic"
models = ["claude-sonnet-4-5*"]
discount_percent = 20
checked = 2026-02-01
source = "our contract"
"""


def _check(keys: Sequence[PriceKey], user_file: Path | None) -> int:
    builder = PriceBook.load(user_file=user_file)
    table = PriceTable.from_json(json.loads(json.dumps(PriceTable.build(builder, keys).to_json())))
    return compare(table, keys, user_file)


@pytest.mark.slow
def test_the_table_answers_as_the_live_book_for_every_catalogue_model() -> None:
    book = PriceBook.load()
    rng = random.Random(15)
    keys: list[tuple[str, str | None, str | None, bool]] = []
    for provider_id, model_id, _ in book.engine_models():
        tier, batch = rng.choice(
            [(None, False), (None, True), ("flex", False), ("priority", False)]
        )
        keys.append((model_id, provider_id, tier, batch))
        keys.append((model_id, None, None, False))
    assert _check(keys, None) > 2 * len(keys)


def test_the_table_answers_as_the_live_book_for_overrides_and_unknown_models(
    tmp_path: Path,
) -> None:
    user_file = tmp_path / "prices.toml"
    user_file.write_text(USER_TOML)
    keys = [
        ("acme-large-2", "acme", None, False),  # two entries, the second from 2026-03-01
        ("claude-sonnet-4-5-20250929", "anthropic", None, False),  # a discount on genai-prices
        ("claude-sonnet-4-5-20250929", "anthropic", "batch", False),
        ("claude-opus-4-1-20250805", "anthropic", None, True),
        ("<synthetic>", "anthropic", None, False),  # no price: the reason is kept
        ("no-such-model", "unknown", None, False),
        ("gpt-5", "unknown", "flex", False),
    ]
    assert _check(keys, user_file) >= len(keys)
    book = PriceBook.load(user_file=user_file)
    timeline = book.timeline("acme-large-2", "acme", None, False)
    assert isinstance(timeline, list)
    assert [first for first, _ in timeline] == [None, dt.date(2026, 3, 1)]
    assert isinstance(book.timeline("no-such-model", "unknown", None, False), str)


def test_a_price_that_changes_with_the_time_of_day_is_not_kept() -> None:
    book = PriceBook.load()
    timed = [
        (model_id, provider_id)
        for provider_id, model_id, model in book.engine_models()
        if isinstance(model.prices, list)
        and any(type(c.constraint).__name__ == "TimeOfDateConstraint" for c in model.prices)
    ]
    assert timed, "genai-prices has no off-peak prices any more: pick another case"
    model, provider = timed[0]
    table = PriceTable.build(book, [(model, provider, None, False)])
    assert table.keys() == {(model, provider, None, False)}  # known, and priced live
    assert table.lookup(model, provider, None, False, 20_000) is None


def test_the_key_changes_with_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped, user, data = tmp_path / "pricing", tmp_path / "prices.toml", tmp_path / "data"
    shipped.mkdir()
    data.mkdir()
    (shipped / "a.toml").write_text("# a\n")
    engine = tmp_path / "site" / "genai_prices"
    engine.mkdir(parents=True)
    (engine / "data.py").write_text("data = 1\n")
    (tmp_path / "site" / "genai_prices-0.2.5.dist-info").mkdir()
    monkeypatch.setattr(table_cache, "_package_dir", lambda name: engine)

    seen: list[str] = []

    def key() -> str:
        found = table_key(shipped, user, data)
        assert found is not None
        assert found == table_key(shipped, user, data)  # the same files, the same key
        assert found not in seen
        seen.append(found)
        return found

    key()
    user.write_text("# mine\n")
    key()
    user.write_text("# Mine\n")  # same size
    key()
    (shipped / "a.toml").write_text("# b\n")
    key()
    (shipped / "b.toml").write_text("")
    key()
    (data / "genai-prices-data.json").write_text("[]")
    key()
    (data / "genai-prices-data.meta.json").write_text("{}")
    key()
    os.utime(engine / "data.py", ns=(1, 1))
    key()
    (tmp_path / "site" / "genai_prices-0.2.5.dist-info").rename(
        tmp_path / "site" / "genai_prices-0.2.6.dist-info"
    )
    key()
    monkeypatch.setattr(table_cache, "__version__", "9.9.9")
    key()
    monkeypatch.setattr(table_cache, "_package_dir", lambda name: None)
    assert table_key(shipped, user, data) is None  # genai-prices not found: no table


def _import_keys() -> set[tuple[str, str | None, str | None, bool]]:
    return {
        ("claude-sonnet-4-5-20250929", "anthropic", None, False),
        ("<synthetic>", "anthropic", None, False),
    }


def _priced(book: PriceBook, keys: set[tuple[str, str | None, str | None, bool]]) -> PriceBook:
    """``book`` after pricing a call of each key, as an import does."""
    when = dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC)
    for model, provider, tier, batch in keys:
        book.price_at(model, provider, when, int(when.timestamp() * 1000), tier, batch)
    return book


def test_load_uses_a_saved_table_without_loading_genai_prices(tmp_path: Path) -> None:
    table_file = tmp_path / "cache" / "price-table.json"
    first = PriceBook.load(data_dir=tmp_path / "prices", table_file=table_file, seed=False)
    assert first.loaded and first.table is None
    assert not refresh_table(first)  # priced nothing: nothing to save
    assert refresh_table(_priced(first, _import_keys()))
    again = PriceBook.load(data_dir=tmp_path / "prices", table_file=table_file, seed=False)
    assert not refresh_table(_priced(again, _import_keys()))  # all in the table
    assert not again.loaded

    book = PriceBook.load(data_dir=tmp_path / "prices", table_file=table_file, seed=False)
    assert not book.loaded and book.table is not None
    when = dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC)
    ms = int(when.timestamp() * 1000)
    found = book.price_at("claude-sonnet-4-5-20250929", "anthropic", when, ms)
    assert not book.loaded  # answered by the table
    live = PriceBook.load().price_at("claude-sonnet-4-5-20250929", "anthropic", when, ms)
    same(live, found)
    # A model the table lacks: genai-prices is loaded then, and prices it.
    other = book.price_at("claude-opus-4-1-20250805", "anthropic", when, ms)
    assert book.loaded
    same(PriceBook.load().price_at("claude-opus-4-1-20250805", "anthropic", when, ms), other)
    # The import adds it, keeping the rest.
    keys = {*_import_keys(), ("claude-opus-4-1-20250805", "anthropic", None, False)}
    assert book.missed == {("claude-opus-4-1-20250805", "anthropic", None, False)}
    assert refresh_table(book)
    saved = read_table(table_file, book.table_key or "")
    assert saved is not None and saved.keys() == keys


def test_a_table_saved_for_other_files_is_not_used(tmp_path: Path) -> None:
    table_file = tmp_path / "price-table.json"
    user = tmp_path / "prices.toml"
    refresh_table(
        _priced(PriceBook.load(user_file=user, table_file=table_file, seed=False), _import_keys())
    )
    assert not PriceBook.load(user_file=user, table_file=table_file, seed=False).loaded
    user.write_text(USER_TOML)  # the user's discount on claude-sonnet-4-5
    book = PriceBook.load(user_file=user, table_file=table_file, seed=False)
    assert book.loaded and book.table is None
    when = dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC)
    found = book.price_at(
        "claude-sonnet-4-5-20250929", "anthropic", when, int(when.timestamp() * 1000)
    )
    assert not isinstance(found, str) and found.source == "prices.toml: our contract"
    # The next import saves the table of the new prices, and a later book uses it.
    assert refresh_table(_priced(book, _import_keys()))
    again = PriceBook.load(user_file=user, table_file=table_file, seed=False)
    assert not again.loaded
    cached = again.price_at(
        "claude-sonnet-4-5-20250929", "anthropic", when, int(when.timestamp() * 1000)
    )
    same(found, cached)


@pytest.mark.parametrize(
    "damage", ["truncated", "payload edited", "not json", "wrong shape", "empty"]
)
def test_a_damaged_table_is_ignored_logged_and_written_again(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    table_file = tmp_path / "price-table.json"
    refresh_table(_priced(PriceBook.load(table_file=table_file, seed=False), _import_keys()))
    raw = table_file.read_bytes()
    head, _, payload = raw.partition(b"\n")
    if damage == "truncated":
        table_file.write_bytes(raw[: len(raw) - 40])
    elif damage == "payload edited":  # a price digit changed: valid JSON, wrong price
        table_file.write_bytes(head + b"\n" + payload.replace(b'"3.75"', b'"3.76"', 1))
        assert table_file.read_bytes() != raw
    elif damage == "not json":
        table_file.write_bytes(b"\x00\x01garbage")
    elif damage == "wrong shape":
        bad = json.dumps({"prices": [{"model_id": 5}], "entries": []}).encode()
        import hashlib

        key = json.loads(head)["key"]
        save_header = json.dumps({"key": key, "sha256": hashlib.sha256(bad).hexdigest()})
        table_file.write_bytes(save_header.encode() + b"\n" + bad)
    else:
        table_file.write_bytes(b"")
    with caplog.at_level(logging.INFO, logger="spendtray.prices"):
        book = PriceBook.load(table_file=table_file, seed=False)
    assert book.loaded and book.table is None
    assert any(str(table_file) in r.getMessage() for r in caplog.records)
    assert refresh_table(_priced(book, _import_keys()))
    assert table_file.read_bytes().partition(b"\n")[2] == payload
    assert not PriceBook.load(table_file=table_file, seed=False).loaded


def test_what_forked_workers_priced_without_the_table_is_added(tmp_path: Path) -> None:
    """Import workers are forked children that end without a word about their book: the keys
    they priced without the table reach the importer's process through the misses file."""
    table_file = tmp_path / "cache" / "price-table.json"
    refresh_table(_priced(PriceBook.load(table_file=table_file, seed=False), _import_keys()))
    book = PriceBook.load(table_file=table_file, seed=False)
    assert book.table is not None
    new = {
        ("claude-opus-4-1-20250805", "anthropic", None, False),
        ("gpt-5", "openai", "flex", False),
    }
    children = []
    for key in new:  # two workers, each with a key of its own, and one they share
        pid = os.fork()
        if pid == 0:
            try:
                book.forked()
                _priced(book, {key, *_import_keys(), ("gpt-5", "openai", "flex", False)})
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    assert book.missed == set() and not book.loaded  # this process priced nothing
    assert table_cache.misses_file(table_file).is_file()
    assert refresh_table(book)
    saved = read_table(table_file, book.table_key or "")
    assert saved is not None and saved.keys() == {*_import_keys(), *new}
    assert not table_cache.misses_file(table_file).exists()
    assert not refresh_table(book)  # nothing missed since


def test_shipped_pricing_files_are_part_of_the_key(tmp_path: Path) -> None:
    assert table_key(pricing_dir(), None, None) is not None
    assert table_key(pricing_dir(), None, None) != table_key(tmp_path, None, None)


def test_a_frozen_app_keys_the_table_by_its_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundle has no source files to key on: its executable (holding our code and
    genai-prices') stands for them, so the bundle's imports use the table too."""
    executable = tmp_path / "spendtray"
    executable.write_bytes(b"build 1")
    monkeypatch.setattr(table_cache, "_package_dir", lambda name: None)  # no sources
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(executable))
    first = table_key(None, None, None)
    assert first is not None
    assert table_key(None, None, None) == first
    executable.write_bytes(b"build 2")  # a new build
    assert table_key(None, None, None) not in (None, first)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "gone"))
    assert table_key(None, None, None) is None
