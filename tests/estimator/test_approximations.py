"""Non-OpenAI counts are labelled estimates: exact=False, a method that says ≈ and why."""

from __future__ import annotations

import math

import pytest

from spendtray.estimator.approx import (
    ANTHROPIC,
    DEEPSEEK,
    GOOGLE,
    GPT_OSS,
    LLAMA,
    MISTRAL,
    QWEN,
    UNKNOWN,
    Approximation,
    approximation_for,
)
from spendtray.estimator.counting import PromptCounter, count_tokens
from spendtray.estimator.tokenizers import get_encoding

TEXT = "The quarterly report shows revenue up 12 % while costs held steady.\n" * 50


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("claude-sonnet-4-5", None, ANTHROPIC),
        ("anthropic/claude-3-5-haiku-20241022", None, ANTHROPIC),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", None, ANTHROPIC),
        ("claude-opus-4-1@20250805", None, ANTHROPIC),
        ("gemini-2.5-pro", None, GOOGLE),
        ("models/gemini-2.0-flash", None, GOOGLE),
        ("gemma-3-27b-it", None, GOOGLE),
        ("mistral-large-latest", None, MISTRAL),
        ("codestral-2508", None, MISTRAL),
        ("open-mixtral-8x22b", None, MISTRAL),
        ("deepseek-chat", None, DEEPSEEK),
        ("deepseek/deepseek-r1", None, DEEPSEEK),
        ("meta-llama/llama-3.3-70b-instruct", None, LLAMA),
        ("ollama/llama3.1", None, LLAMA),
        ("llama-2-70b-chat", None, UNKNOWN),
        ("qwen3-coder-480b", None, QWEN),
        ("gpt-oss-120b", None, GPT_OSS),
        ("grok-4", None, UNKNOWN),
        ("command-r-plus", None, UNKNOWN),
        ("some-finetune-v2", "anthropic", ANTHROPIC),
        ("mistral/some-new-name", None, MISTRAL),
    ],
)
def test_vendor_detection(model: str, provider: str | None, expected: Approximation) -> None:
    assert approximation_for(model, provider) is expected


@pytest.mark.parametrize(
    "model",
    [
        "claude-sonnet-4-5",
        "gemini-2.5-pro",
        "mistral-large-latest",
        "deepseek-chat",
        "llama-3.3-70b",
        "qwen3-32b",
        "gpt-oss-20b",
        "grok-4",
    ],
)
def test_never_presented_as_exact(model: str) -> None:
    approximation = approximation_for(model)
    count = count_tokens(TEXT, model)
    assert count.exact is False
    assert count.method.startswith("≈ ")
    assert count.method == approximation.method
    assert approximation.reason in count.method
    base = len(get_encoding(approximation.encoding).encode_ordinary(TEXT))
    assert count.tokens == math.ceil(base * approximation.factor_percent / 100)


def test_anthropic_label_names_the_factor_and_reason() -> None:
    assert ANTHROPIC.method == "≈ o200k_base × 1.20 (Anthropic tokenizer not public)"


def test_scaling_rounds_up() -> None:
    assert ANTHROPIC.apply(0) == 0
    assert ANTHROPIC.apply(1) == 2
    assert ANTHROPIC.apply(10) == 12
    assert MISTRAL.apply(11) == 13


def test_approximated_chat_includes_framing_and_uncounted_parts() -> None:
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe it."},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        },
    ]
    counter = PromptCounter(messages)
    exact = counter.count("gpt-4o")
    claude = counter.count("claude-sonnet-4-5")
    assert claude.tokens == ANTHROPIC.apply(exact.tokens)
    assert not claude.exact
    assert claude.method.startswith("≈ o200k_base × 1.20")
    assert "image_url part" in claude.method
