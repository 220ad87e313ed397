"""The Estimator's model list: every name with the provider it is priced as, or its vendor."""

from __future__ import annotations

from spendtray.core import Core
from spendtray.estimator.catalogue import UNKNOWN_PROVIDER, model_catalogue, provider_for
from spendtray.estimator.defaults import DEFAULT_MODELS


def test_every_default_and_listed_model_has_a_provider(core: Core) -> None:
    catalogue = model_catalogue(core.prices)
    known = dict(catalogue)
    assert len(known) == len(catalogue) > 100  # each name once
    assert all(provider for _, provider in catalogue)
    providers = {name: provider_for(name, known) for name in DEFAULT_MODELS}
    assert providers["claude-haiku-4-5"] == "anthropic"
    assert providers["gemini-2.5-flash"] == "google"
    assert UNKNOWN_PROVIDER not in providers.values()
    # a name typed in that no price book knows: its vendor from the name, else said plainly
    assert provider_for("gpt-9-preview", known) == "openai"
    assert provider_for("my-private-finetune-x", known) == UNKNOWN_PROVIDER
    # letters first: gateway paths such as "@cf/…" do not crowd the top
    names = [name for name, _ in catalogue]
    assert names[0][0].isalpha() and not names[-1][0].isalpha()
