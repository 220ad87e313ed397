"""The models the Estimator offers, each with the provider it is priced as. Pure; any thread.

Every name gets a provider: the one the price book sells it as, else the vendor its name
belongs to (``infer_provider``), so a default or typed-in model never shows a blank provider.
"""

from __future__ import annotations

from spendtray.prices.book import PriceBook
from spendtray.prices.names import engine_provider, infer_provider

UNKNOWN_PROVIDER = "unknown provider"


def model_catalogue(book: PriceBook) -> list[tuple[str, str]]:
    """(model name, provider) for every priced model, each name once.

    A name several providers sell (gpt-5-mini on OpenAI, Azure, Copilot…) shows the provider the
    book prices it as when asked by name alone; names that start with a letter sort first, so
    gateway paths such as "@cf/…" do not crowd the top of the list.
    """
    sellers: dict[str, list[str]] = {}
    for entry in book.overrides:
        name = entry.entry_id or (entry.models[0] if entry.models else "")
        if name:
            sellers.setdefault(name, []).append(entry.provider)
    for provider, model_id, _ in book.engine_models():
        sellers.setdefault(model_id, []).append(provider)
    catalogue: list[tuple[str, str]] = []
    for name, providers in sellers.items():
        vendor = engine_provider(infer_provider(name))
        catalogue.append((name, vendor if vendor in providers else providers[0]))
    catalogue.sort(key=lambda pair: (not pair[0][:1].isalpha(), pair[0].lower()))
    return catalogue


def provider_for(name: str, known: dict[str, str]) -> str:
    """The provider to show beside ``name``: from the catalogue, else from its name."""
    return known.get(name) or infer_provider(name) or UNKNOWN_PROVIDER
