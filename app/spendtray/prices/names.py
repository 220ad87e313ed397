"""Model-name and provider-name normalisation for price look-ups. Pure functions, any thread.

Providers report the same model under many spellings: dated suffixes (``gpt-4o-2024-08-06``),
gateway prefixes (``openai/gpt-4o``), Bedrock ids (``us.anthropic.claude-...-v1:0``), Vertex
ids (``claude-sonnet-4-5@20250929``) and Gemini resource names (``models/gemini-2.5-pro``).
We produce an ordered list of candidate spellings, most specific first, and let the price
engine decide which one it knows; nothing here guesses a price.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Our provider names (SPEC §5) -> genai-prices provider ids.
PROVIDER_ALIASES: dict[str, str] = {
    "bedrock": "aws",
    "aws-bedrock": "aws",
    "amazon": "aws",
    "vertex": "google",
    "vertex_ai": "google",
    "google-vertex": "google",
    "gemini": "google",
    "google-gla": "google",
    "azure-openai": "azure",
    "azure_openai": "azure",
    "xai": "x-ai",
    "grok": "x-ai",
    "mistralai": "mistral",
    "together_ai": "together",
    "togetherai": "together",
    "fireworks_ai": "fireworks",
    "moonshot": "moonshotai",
}

# Provider names other tools send (OpenTelemetry, LiteLLM) -> ours (SPEC §5). Anything else
# is kept as sent (lower-case).
SENDER_PROVIDER_NAMES: dict[str, str] = {
    # OpenTelemetry GenAI `gen_ai.provider.name` / older `gen_ai.system` values
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "gcp.vertex_ai": "vertex",
    "aws.bedrock": "bedrock",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "mistral_ai": "mistral",
    "x_ai": "xai",
    "moonshot_ai": "moonshot",
    # LiteLLM `custom_llm_provider` values
    "vertex_ai": "vertex",
    "vertex_ai_beta": "vertex",
    "gemini": "google",
    "text-completion-openai": "openai",
    "azure_ai": "azure",
    "azure_text": "azure",
}

# Providers inferred from well-known model-name families, when the sender gave none.
_FAMILY_PROVIDER: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^(gpt-|o\d|chatgpt-|text-embedding-|davinci|babbage|codex-|computer-use)"),
        "openai",
    ),
    (re.compile(r"^claude"), "anthropic"),
    (re.compile(r"^(gemini|gemma|learnlm|imagen|veo)"), "google"),
    (
        re.compile(r"^(mistral|mixtral|codestral|pixtral|ministral|magistral|devstral|voxtral)"),
        "mistral",
    ),
    (re.compile(r"^deepseek"), "deepseek"),
    (re.compile(r"^grok"), "x-ai"),
    (re.compile(r"^command"), "cohere"),
)

_DATE_SUFFIX = re.compile(r"[-@](\d{4}-\d{2}-\d{2}|\d{8})$")
_BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$")
_BEDROCK_REGION = re.compile(r"^(us|eu|apac|ap|global|us-gov|jp|au|ca)\.")
_BEDROCK_VENDOR = re.compile(
    r"^(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\."
)


@lru_cache(maxsize=4096)
def canonical_provider(provider: str | None) -> str | None:
    """Lower-case, trimmed provider name in our own vocabulary (``bedrock``, ``vertex`` stay;
    other tools' names such as ``gcp.vertex_ai`` or LiteLLM's ``vertex_ai`` become ours)."""
    if provider is None:
        return None
    cleaned = provider.strip().lower()
    return SENDER_PROVIDER_NAMES.get(cleaned, cleaned) or None


@lru_cache(maxsize=4096)
def engine_provider(provider: str | None) -> str | None:
    """The genai-prices provider id for one of our provider names."""
    name = canonical_provider(provider)
    if name is None:
        return None
    return PROVIDER_ALIASES.get(name, name)


@lru_cache(maxsize=4096)
def infer_provider(model: str) -> str | None:
    """The provider a bare model name belongs to, from its family prefix, or None."""
    name = model.strip().lower()
    if "/" in name:
        prefix, _, rest = name.partition("/")
        if prefix in {"models", "publishers"}:
            return infer_provider(rest)
        return canonical_provider(prefix)
    if _BEDROCK_VENDOR.match(_BEDROCK_REGION.sub("", name)):
        return "bedrock"
    for pattern, provider in _FAMILY_PROVIDER:
        if pattern.match(name):
            return provider
    return None


def split_prefix(model: str) -> tuple[str | None, str]:
    """``openai/gpt-4o`` -> ("openai", "gpt-4o"); names without a prefix keep None."""
    name = model.strip()
    if name.lower().startswith("models/"):
        name = name[len("models/") :]
    if "/" in name:
        prefix, _, rest = name.partition("/")
        return prefix.lower(), rest
    return None, name


@lru_cache(maxsize=4096)
def candidates(model: str) -> list[str]:
    """Spellings of ``model`` to try, most specific first, without duplicates."""
    raw = model.strip().lower()
    out: list[str] = []

    def add(name: str) -> None:
        if name and name not in out:
            out.append(name)

    add(raw)
    _, bare = split_prefix(raw)
    add(bare)
    # Vertex: claude-sonnet-4-5@20250929 -> claude-sonnet-4-5-20250929
    if "@" in bare:
        add(bare.replace("@", "-"))
    # Bedrock: us.anthropic.claude-sonnet-4-5-20250929-v1:0 -> claude-sonnet-4-5-20250929
    no_region = _BEDROCK_REGION.sub("", bare)
    no_vendor = _BEDROCK_VENDOR.sub("", no_region)
    if no_vendor != bare:
        add(no_region)
        add(_BEDROCK_VERSION.sub("", no_vendor))
    for name in list(out):
        add(_DATE_SUFFIX.sub("", _BEDROCK_VERSION.sub("", name)))
    return out
