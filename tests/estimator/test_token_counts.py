"""Exact counts for OpenAI models on plain text, including the chunked path for big texts."""

from __future__ import annotations

import pytest

from spendtray.estimator.counting import PromptCounter, count_tokens
from spendtray.estimator.tokenizers import (
    CL100K_BASE,
    O200K_BASE,
    count_text,
    count_texts,
    get_encoding,
    split_for_counting,
)

MIXED = (
    "Grüße aus Köln! 東京は晴れ。 Ünïcödé naïve café — it's 12345678 o'clock;\n\n"
    "    def f(x):\r\n        return x**2  # don't\n\t\t<|endoftext|> <|fim_prefix|>  \n"
)


@pytest.mark.parametrize("encoding", [O200K_BASE, CL100K_BASE])
def test_small_text_equals_tiktoken(encoding: str) -> None:
    assert count_text(MIXED, encoding) == len(get_encoding(encoding).encode_ordinary(MIXED))
    assert count_text("", encoding) == 0


@pytest.mark.parametrize("encoding", [O200K_BASE, CL100K_BASE])
def test_large_text_chunked_equals_whole(encoding: str, stdlib_text: str) -> None:
    text = stdlib_text + MIXED * 2000
    pieces = split_for_counting(text)
    assert len(pieces) > 4
    assert "".join(pieces) == text
    assert count_text(text, encoding) == len(get_encoding(encoding).encode_ordinary(text))


def test_text_without_cut_points_is_counted_whole() -> None:
    text = "東京は晴れ。" * 60_000  # no "a b" anywhere
    assert split_for_counting(text) == [text]
    assert count_text(text, O200K_BASE) == len(get_encoding(O200K_BASE).encode_ordinary(text))


def test_count_texts_mixes_small_and_large(stdlib_text: str) -> None:
    texts = ["hello world", stdlib_text, "", MIXED]
    encoding = get_encoding(O200K_BASE)
    assert count_texts(texts, O200K_BASE) == [len(encoding.encode_ordinary(t)) for t in texts]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [("gpt-4o", O200K_BASE), ("azure/gpt-4o-2024-08-06", O200K_BASE), ("gpt-4", CL100K_BASE)],
)
def test_plain_text_is_exact_without_framing(model: str, encoding: str, stdlib_text: str) -> None:
    count = count_tokens(stdlib_text, model)
    assert count.exact
    assert count.tokens == len(get_encoding(encoding).encode_ordinary(stdlib_text))
    assert count.method == f"tiktoken {encoding} (exact)"
    assert count.encoding == encoding


def test_counter_tokenizes_once_per_encoding() -> None:
    counter = PromptCounter(MIXED)
    first = counter.count("gpt-4o")
    assert counter.count("gpt-5").tokens == first.tokens
    assert counter.raw_tokens(O200K_BASE) == first.tokens
    assert not counter.is_chat
