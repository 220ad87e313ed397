"""A call's worst case: input counted with the estimator's tokenizers, the request's output
cap or the model's context window, priced with the price book."""

from __future__ import annotations

from pathlib import Path

import pytest

from spendtray.estimator.counting import count_tokens
from spendtray.prices.book import PriceBook
from spendtray.prices.calc import TokenCounts
from spendtray.proxy import worst_case as worst_case_module
from spendtray.proxy.worst_case import BYTES_PER_TOKEN, MEDIA_TOKENS, worst_case

ROOT = Path(__file__).resolve().parents[2]
BOOK = PriceBook.load(data_dir=ROOT / "pricing")
TEXT = "Count these words carefully, then answer in one line. " * 20


def test_capped_chat_call_is_priced_like_its_tokens() -> None:
    for cap in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": TEXT}], cap: 77}
        w = worst_case(BOOK, "gpt-4o", "openai", body, 0)
        exact = count_tokens(TEXT, "gpt-4o").tokens
        assert exact <= w.input_tokens <= exact + 20  # the text plus framing
        assert w.output_tokens == 77
        price = BOOK.resolve("gpt-4o", "openai")
        assert w.nanos == price.cost_nanos(TokenCounts(w.input_tokens, 77))


def test_anthropic_blocks_tools_and_images() -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "system": [{"type": "text", "text": TEXT}],
        "tools": [{"name": "lookup", "input_schema": {"type": "object", "properties": {}}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "data": "QUJD" * 5000}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    }
    w = worst_case(BOOK, "claude-sonnet-4-5", "anthropic", body, 0)
    approx = count_tokens(TEXT, "claude-sonnet-4-5").tokens  # ≈ o200k × 1.2
    assert approx + MEDIA_TOKENS < w.input_tokens < approx + MEDIA_TOKENS + 100
    assert w.output_tokens == 1000


def test_uncapped_call_reserves_the_context_window_and_unreadable_bodies_their_size() -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    w = worst_case(BOOK, "gpt-4o-mini", "openai", body, 0)
    window = BOOK.resolve("gpt-4o-mini", "openai").context_window
    assert window and w.input_tokens + w.output_tokens == window
    raw = worst_case(BOOK, "gpt-4o-mini", "openai", None, 1001)
    assert raw.input_tokens == -(-1001 // BYTES_PER_TOKEN)


def test_unknown_or_missing_model_reserves_nothing() -> None:
    assert worst_case(BOOK, "no-such-model-xyz", None, {"max_tokens": 5}, 10).nanos == 0
    assert worst_case(BOOK, None, "openai", None, 10).nanos == 0


def test_choices_embeddings_and_token_counting() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50}
    one = worst_case(BOOK, "gpt-4o", "openai", body, 0, "/v1/chat/completions")
    three = worst_case(BOOK, "gpt-4o", "openai", {**body, "n": 3}, 0, "/v1/chat/completions")
    assert (one.output_tokens, three.output_tokens) == (50, 150)
    embed = {"model": "text-embedding-3-small", "input": TEXT}
    e = worst_case(BOOK, "text-embedding-3-small", "openai", embed, 0, "/v1/embeddings")
    assert e.output_tokens == 0 and e.input_tokens > 100 and e.nanos > 0
    count = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": TEXT}]}
    free = worst_case(BOOK, "claude-sonnet-4-5", "anthropic", count, 0, "/v1/messages/count_tokens")
    assert free.nanos == 0


def test_long_texts_are_counted_once_and_only_their_digest_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = worst_case_module.count_text

    def counting(text: str, encoding: str) -> int:
        calls.append(len(text))
        return real(text, encoding)

    monkeypatch.setattr(worst_case_module, "count_text", counting)
    memo = worst_case_module._Counts(size=2)
    history, turn, other = TEXT * 5, "and now the next step, please", "x " * 3000
    assert memo.count(history, "o200k_base") == count_tokens(history, "gpt-4o").tokens
    memo.count(turn, "o200k_base")  # short: counted, not remembered
    memo.count(history, "o200k_base")
    assert calls == [len(history), len(turn)]
    memo.count(other, "o200k_base")
    memo.count("y " * 3000, "o200k_base")  # evicts the history (least recently used)
    memo.count(history, "o200k_base")
    assert calls.count(len(history)) == 2
    assert all(isinstance(k, bytes) and len(k) == 16 for k in memo._known)
