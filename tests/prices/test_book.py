"""Price look-up: name normalisation, the TOML layers, unknown models."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spendtray.prices.book import PriceBook, TokenCounts, UnknownModel
from spendtray.prices.names import candidates, canonical_provider, infer_provider
from spendtray.prices.overrides import PriceFileError, load_file

WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("model", "provider", "expected_model"),
    [
        ("gpt-4o-2024-08-06", None, "gpt-4o"),
        ("openai/gpt-4o", None, "gpt-4o"),
        ("anthropic/claude-sonnet-4-5", None, "claude-sonnet-4-5"),
        ("claude-sonnet-4-5@20250929", "vertex", "claude-sonnet-4-5"),
        ("models/gemini-2.5-pro", None, "gemini-2.5-pro"),
        ("GPT-4o", "OpenAI", "gpt-4o"),
    ],
)
def test_spellings_resolve_to_the_same_model(
    model: str, provider: str | None, expected_model: str
) -> None:
    resolved = PriceBook.load().resolve(model, provider, WHEN)
    assert resolved.model_id == expected_model


def test_bedrock_ids_resolve_to_bedrock_prices() -> None:
    resolved = PriceBook.load().resolve(
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock", WHEN
    )
    assert resolved.provider_id == "aws"
    assert "claude-sonnet-4-5" in resolved.model_id


def test_candidates_strip_dates_and_versions() -> None:
    assert "claude-sonnet-4-5" in candidates("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert infer_provider("claude-3-5-haiku") == "anthropic"
    assert infer_provider("gpt-5-mini") == "openai"


def test_unknown_model_is_never_priced() -> None:
    with pytest.raises(UnknownModel, match="no price known"):
        PriceBook.load().resolve("totally-new-model-x", None, WHEN)


def test_local_models_are_free_with_a_source() -> None:
    resolved = PriceBook.load().resolve("llama3.1:70b", "ollama", WHEN)
    assert resolved.cost_nanos(TokenCounts(input_tokens=10**6, output_tokens=10**6)) == 0
    assert "local.toml" in resolved.source and resolved.price_date == "2026-11-22"


def test_user_overrides_win_and_discounts_apply(tmp_path: Path) -> None:
    user = tmp_path / "prices.toml"
    user.write_text((ROOT / "pricing" / "negotiated-rate.example.toml.txt").read_text())
    book = PriceBook.load(user_file=user)
    list_price = PriceBook.load().resolve("gpt-4o", "openai", WHEN)
    contract = book.resolve("gpt-4o-2024-08-06", "openai", WHEN)
    counts = TokenCounts(input_tokens=1_000_000, output_tokens=1_000_000)
    assert contract.cost_nanos(counts) * 10 == list_price.cost_nanos(counts) * 8
    assert "ACME-2026-17" in contract.source
    sonnet = book.resolve("claude-sonnet-4-5", "anthropic", WHEN)
    assert sonnet.cost_nanos(TokenCounts(input_tokens=1_000_000)) == 2_400_000_000 * 2  # tier


def test_overrides_apply_from_their_valid_from_date_and_to_their_tier(tmp_path: Path) -> None:
    user = tmp_path / "prices.toml"
    user.write_text(
        """
[[model]]
provider = "openai"
models = ["gpt-4o"]
id = "gpt-4o (contract from Nov 10)"
discount_percent = 50
valid_from = 2026-11-10
checked = 2026-11-22
source = "contract ACME-2026-17"

[[model]]
provider = "inhouse"
models = ["house-model"]
input_mtok = 2
output_mtok = 2
valid_from = 2026-11-10
checked = 2026-11-22
source = "internal rate card"

[[model]]
provider = "inhouse"
models = ["house-model"]
input_mtok = 1
output_mtok = 1
service_tier = "flex"
checked = 2026-11-22
source = "internal rate card, flex"
"""
    )
    book = PriceBook.load(user_file=user)
    counts = TokenCounts(input_tokens=1_000_000)
    list_price = PriceBook.load().resolve("gpt-4o", "openai", WHEN).cost_nanos(counts)
    before, after = WHEN, WHEN + dt.timedelta(days=20)  # Nov 1, Nov 21
    # Before the contract starts, the list price; from its first day, half of it.
    assert book.resolve("gpt-4o", "openai", before).cost_nanos(counts) == list_price
    assert book.resolve("gpt-4o", "openai", after).cost_nanos(counts) * 2 == list_price
    # A model only the overrides know: the flex entry prices flex calls on any date; a
    # standard call before the standard entry's first day has no price, never a guessed one.
    assert book.resolve("house-model", "inhouse", before, "flex").cost_nanos(counts) == 10**9
    assert book.resolve("house-model", "inhouse", after).cost_nanos(counts) == 2 * 10**9
    with pytest.raises(UnknownModel, match=r"no price in force .* on 2026-11-01"):
        book.resolve("house-model", "inhouse", before)


def test_every_shipped_entry_has_checked_and_source() -> None:
    for path in sorted((ROOT / "pricing").glob("*.toml")):
        for entry in load_file(path):
            assert entry.source and entry.checked


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[model]]\nprovider="x"\nmodels=["a"]\ninput_mtok=1\nsource="s"\n', "missing 'checked'"),
        (
            '[[model]]\nprovider="x"\nmodels=["a"]\ninput_mtok=-1\nchecked=2026-01-01\nsource="s"\n',
            "≥ 0",
        ),
        (
            '[[model]]\nprovider="x"\nmodels=["a"]\ninput_mtok=1\nchecked=2026-01-01\nsource="s"\nfoo=1\n',
            "unknown field",
        ),
        ("[[model]\n", "not valid TOML"),
    ],
)
def test_bad_price_files_name_the_problem(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(body)
    with pytest.raises(PriceFileError, match=message):
        load_file(path)


def test_other_tools_provider_names_become_ours() -> None:
    # OpenTelemetry and LiteLLM spellings, as any sender may post them.
    assert canonical_provider(" GCP.Vertex_AI ") == "vertex"
    assert canonical_provider("aws.bedrock") == "bedrock"
    assert canonical_provider("vertex_ai") == "vertex"
    assert canonical_provider("Anthropic") == "anthropic"
    assert canonical_provider("  ") is None
    assert infer_provider("vertex_ai/gemini-2.5-pro") == "vertex"
