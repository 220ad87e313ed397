"""The price table shipped with Spendtray (``prices.seed_table``): made from the installed
genai-prices and the shipped TOML files, it answers exactly as the loaded catalogue does, and a
book uses it only where it would price from those very files."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import pytest
from table_answers import compare

from spendtray.paths import pricing_dir
from spendtray.prices import seed_table
from spendtray.prices.book import PriceBook
from spendtray.prices.files import DATA_FILE, META_FILE
from spendtray.prices.table_cache import PriceTable, read_table, refresh_table

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "claude_code"
STALE = "the shipped seed is stale: run `python -m spendtray.prices.seed_table` and commit it"


def _seed() -> PriceTable:
    key = seed_table.seed_key(pricing_dir())
    assert key is not None
    found = read_table(pricing_dir() / seed_table.SEED_FILE, key)
    assert found is not None, STALE
    return found


def test_the_seed_is_made_from_the_installed_genai_prices_and_shipped_files() -> None:
    seed = _seed()
    _, fresh = seed_table.build_seed(pricing_dir())
    assert fresh.to_json() == seed.to_json(), STALE
    assert len(seed.entries) > 100


@pytest.mark.slow
def test_the_seed_answers_as_the_loaded_catalogue_on_every_day_a_price_changes() -> None:
    seed = _seed()
    assert compare(seed, sorted(seed.entries, key=repr)) > 3 * len(seed.entries)


def test_the_seed_holds_every_claude_model_of_the_real_corpus() -> None:
    """Claude Code's models as its logs name them, each at the tiers Claude Code gives."""
    models: set[str] = set()
    for path in CORPUS.rglob("*.jsonl"):
        models.update(re.findall(r'"model": ?"(claude-[^"]+)"', path.read_text(errors="replace")))
    assert len(models) >= 6
    keys = _seed().keys()
    for model in models:
        for tier in seed_table.TIERS["anthropic"]:
            assert (model, "anthropic", tier, False) in keys, model


def test_a_fresh_data_folder_prices_from_the_seed_without_genai_prices(tmp_path: Path) -> None:
    book = PriceBook.load(data_dir=tmp_path / "prices", table_file=tmp_path / "t.json")
    assert not book.loaded and book.table is not None
    when = dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC)
    ms = int(when.timestamp() * 1000)
    found = book.price_at("claude-opus-4-5-20251101", "anthropic", when, ms, "standard")
    assert not book.loaded  # noted, for the data folder's table
    assert book.missed == {("claude-opus-4-5-20251101", "anthropic", "standard", False)}
    expected = PriceBook.load().price_at("claude-opus-4-5-20251101", "anthropic", when, ms)
    assert not isinstance(found, str) and not isinstance(expected, str)
    assert found.stored_fields == expected.stored_fields
    # The import saves what it priced in the data folder's table, copied from the seed: the
    # next book reads that small table, not the seed, and loads no catalogue either.
    assert refresh_table(book) and not book.loaded
    saved = read_table(tmp_path / "t.json", book.table_key or "")
    assert (
        saved is not None
        and saved.to_json()
        == PriceTable.build(
            PriceBook.load(), {("claude-opus-4-5-20251101", "anthropic", "standard", False)}
        ).to_json()
    )
    later = PriceBook.load(data_dir=tmp_path / "prices", table_file=tmp_path / "t.json")
    assert not later.table_is_seed and later.table is not None
    again = later.price_at("claude-opus-4-5-20251101", "anthropic", when, ms, "standard")
    assert not isinstance(again, str) and again.stored_fields == expected.stored_fields
    assert not later.loaded and not later.missed
    # One it lacks: the catalogue loads, and the import will save it with the rest.
    later.price_at("acme-unknown-model", "acme", when, ms)
    assert later.loaded and later.missed == {("acme-unknown-model", "acme", None, False)}
    assert refresh_table(later)
    saved = read_table(tmp_path / "t.json", book.table_key or "")
    assert saved is not None and len(saved.keys()) == 2


def _seeded(tmp_path: Path) -> bool:
    book = PriceBook.load(
        user_file=tmp_path / "prices.toml",
        data_dir=tmp_path / "prices",
        table_file=tmp_path / "t.json",
    )
    assert book.loaded == (book.table is None)
    return book.table is not None


def test_the_seed_is_not_used_where_the_book_would_price_from_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _seeded(tmp_path)
    (tmp_path / "prices.toml").write_text("")  # the user's prices, even none
    assert not _seeded(tmp_path)
    (tmp_path / "prices.toml").unlink()
    for name in (META_FILE, DATA_FILE):  # downloaded price data, even half of it
        (tmp_path / "prices").mkdir(exist_ok=True)
        (tmp_path / "prices" / name).write_text("{}")
        assert not _seeded(tmp_path)
        (tmp_path / "prices" / name).unlink()
    assert _seeded(tmp_path)
    monkeypatch.setattr(seed_table, "genai_prices_version", lambda: "0.0.1")
    assert not _seeded(tmp_path)  # another genai-prices
    monkeypatch.undo()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert not _seeded(tmp_path)  # a bundle: its genai-prices is inside the executable
    monkeypatch.undo()
    assert _seeded(tmp_path)
    assert not PriceBook.load(table_file=tmp_path / "t.json", seed=False).table


def test_other_shipped_prices_key_the_seed_otherwise(tmp_path: Path) -> None:
    shipped = tmp_path / "pricing"
    shipped.mkdir()
    for path in pricing_dir().glob("*.toml"):
        (shipped / path.name).write_bytes(path.read_bytes())
    assert seed_table.seed_key(shipped) == seed_table.seed_key(pricing_dir())
    (shipped / "extra.toml").write_text("# nothing yet\n")
    assert seed_table.seed_key(shipped) != seed_table.seed_key(pricing_dir())
    header = json.loads((pricing_dir() / seed_table.SEED_FILE).read_bytes().partition(b"\n")[0])
    assert header["key"] == seed_table.seed_key(pricing_dir())
