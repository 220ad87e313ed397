"""Model-name clean-up for tokenizer lookup: strip provider prefixes, fine-tune and variant tags.

Pure functions, any thread. Users paste names the way their tool spells them
("openai/gpt-4o-2024-08-06", "azure/gpt-4o", "openrouter/anthropic/claude-sonnet-4.5:free",
"ft:gpt-4o-mini-2024-07-18:acme::abc123", "us.anthropic.claude-3-5-sonnet-20240620-v1:0");
the tokenizer only depends on the model family, so all of these reduce to the bare name.
"""

from __future__ import annotations

# Bedrock cross-region inference profiles put a region group before the vendor
# ("us.anthropic.claude-..."); the vendor dot-prefix itself goes too ("anthropic.claude-...").
_DOTTED_PREFIXES = ("us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.", "us-gov.")
_VENDOR_DOT_PREFIXES = (
    "anthropic.",
    "meta.",
    "mistral.",
    "cohere.",
    "amazon.",
    "deepseek.",
    "openai.",
    "qwen.",
    "writer.",
    "ai21.",
)


def bare_model_name(model: str) -> str:
    """Lower-case model name without provider path, fine-tune wrapper or ``:variant`` tag."""
    name = model.strip().lower()
    if name.startswith("ft:"):
        # ft:<base>:<org>:<suffix>:<id> — only the base model decides the tokenizer
        name = name[3:].split(":", 1)[0]
    name = name.rsplit("/", 1)[-1]
    name = name.split(":", 1)[0]
    # Vertex spells versions as "claude-3-5-sonnet@20240620"
    name = name.split("@", 1)[0]
    for prefix in _DOTTED_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    for prefix in _VENDOR_DOT_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name
