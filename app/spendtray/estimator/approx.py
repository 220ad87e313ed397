"""Labelled token-count approximations for models whose tokenizer we cannot run exactly.

Pure functions, any thread. Only OpenAI's tokenizers ship with Spendtray; every other count is
an OpenAI count scaled by a per-vendor factor, rounded up, reported with ``exact=False`` and a
``method`` such as "≈ o200k_base × 1.20 (Anthropic tokenizer not public)". Why these factors:

* Anthropic (Claude) — o200k_base × 1.20. The tokenizer is not public (only a counting API).
  Published side-by-side runs of Claude 3.5 Sonnet and GPT-4o on the same prompts report Claude
  using about 16 % more tokens on English prose, 21 % on maths and 30 % on Python code; 1.20 sits
  in the middle so prose is slightly over- and code slightly under-estimated.
* Google (Gemini, Gemma) — o200k_base × 1.00. Gemini shares the open Gemma SentencePiece
  vocabulary (about 256k entries, multilingual), close in size and coverage to o200k_base; Google's
  own rule of thumb ("a token is about 4 characters") agrees with o200k_base on English prose.
  Counting with o200k_base rather than characters ÷ 4 keeps code and non-Latin scripts sane.
* Mistral — o200k_base × 1.10. Current models use Tekken (tiktoken-style BPE, about 131k
  entries), older ones a 32k SentencePiece vocabulary; both are smaller than o200k_base, so the
  same text needs more tokens.
* DeepSeek — o200k_base × 1.10. A 128k byte-level BPE that is not shipped; DeepSeek documents
  about 0.3 tokens per English character, a little more than o200k_base gives for prose.
* Meta Llama 3+ and Qwen — cl100k_base × 1.00. Both vocabularies were built by extending
  cl100k_base's merges (Llama 3: +28k multilingual tokens; Qwen: Chinese and other additions), so
  cl100k_base never counts fewer tokens and is close on English and code.
* gpt-oss — o200k_base × 1.00. Its o200k_harmony encoding has the same vocabulary, so text
  counts match, but hosts wrap prompts in the harmony format with a system message of their own,
  so the total stays an estimate.
* Anyone else (xAI, Cohere, Amazon, …) — o200k_base × 1.10: unknown tokenizer, a modern
  vocabulary plus a 10 % margin so an estimate errs towards the dearer side.
"""

from __future__ import annotations

from dataclasses import dataclass

from spendtray.estimator.naming import bare_model_name
from spendtray.estimator.tokenizers import CL100K_BASE, O200K_BASE


@dataclass(frozen=True)
class Approximation:
    vendor: str
    encoding: str
    factor_percent: int
    """Scale applied to the encoding's count, in percent (integer so results never drift)."""
    reason: str

    @property
    def method(self) -> str:
        return f"≈ {self.encoding} × {self.factor_percent / 100:.2f} ({self.reason})"

    def apply(self, tokens: int) -> int:
        """``tokens`` scaled by the factor, rounded up."""
        return -(-tokens * self.factor_percent // 100)


ANTHROPIC = Approximation("Anthropic", O200K_BASE, 120, "Anthropic tokenizer not public")
GOOGLE = Approximation("Google", O200K_BASE, 100, "Gemini tokenizer not shipped")
MISTRAL = Approximation("Mistral", O200K_BASE, 110, "Mistral tokenizer not shipped")
DEEPSEEK = Approximation("DeepSeek", O200K_BASE, 110, "DeepSeek tokenizer not shipped")
LLAMA = Approximation("Meta", CL100K_BASE, 100, "Llama 3 vocabulary extends cl100k_base")
QWEN = Approximation("Qwen", CL100K_BASE, 100, "Qwen vocabulary extends cl100k_base")
GPT_OSS = Approximation("OpenAI", O200K_BASE, 100, "gpt-oss uses the o200k vocabulary")
UNKNOWN = Approximation("unknown", O200K_BASE, 110, "tokenizer unknown, +10 % margin")

# Substring of the bare model name -> approximation; first hit wins, so "llama-2" precedes
# "llama" and "gemma"/"gemini" precede anything they might contain.
_BY_NAME: tuple[tuple[str, Approximation], ...] = (
    ("gpt-oss", GPT_OSS),
    ("claude", ANTHROPIC),
    ("gemini", GOOGLE),
    ("gemma", GOOGLE),
    ("learnlm", GOOGLE),
    ("mistral", MISTRAL),
    ("mixtral", MISTRAL),
    ("codestral", MISTRAL),
    ("ministral", MISTRAL),
    ("magistral", MISTRAL),
    ("pixtral", MISTRAL),
    ("devstral", MISTRAL),
    ("voxtral", MISTRAL),
    ("deepseek", DEEPSEEK),
    # Llama 2 used a 32k SentencePiece vocabulary, nothing like cl100k_base
    ("llama-2", UNKNOWN),
    ("llama2", UNKNOWN),
    ("llama", LLAMA),
    ("qwen", QWEN),
    ("qwq", QWEN),
)

# Provider ids (as genai-prices and LiteLLM spell them) for names that say nothing themselves.
_BY_PROVIDER: dict[str, Approximation] = {
    "anthropic": ANTHROPIC,
    "google": GOOGLE,
    "gemini": GOOGLE,
    "vertex_ai": GOOGLE,
    "google-vertex": GOOGLE,
    "mistral": MISTRAL,
    "mistralai": MISTRAL,
    "deepseek": DEEPSEEK,
    "meta": LLAMA,
    "meta-llama": LLAMA,
    "qwen": QWEN,
    "alibaba": QWEN,
}


def approximation_for(model: str, provider: str | None = None) -> Approximation:
    """How to approximate ``model``'s count; ``provider`` helps when the name alone does not."""
    name = bare_model_name(model)
    for needle, approximation in _BY_NAME:
        if needle in name:
            return approximation
    hints = [part.strip().lower() for part in model.split("/")[:-1]]
    if provider:
        hints.append(provider.strip().lower())
    for hint in hints:
        if hint in _BY_PROVIDER:
            return _BY_PROVIDER[hint]
    return UNKNOWN
