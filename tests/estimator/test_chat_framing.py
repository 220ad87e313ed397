"""Chat framing against the numbers OpenAI documents in its cookbook.

"How to count tokens with tiktoken" (openai-cookbook, examples/How_to_count_tokens_with_tiktoken)
runs this message list through ``num_tokens_from_messages`` and through the API and reports the
same ``prompt_tokens`` from both: 127 for gpt-3.5-turbo-0301, 129 for gpt-3.5-turbo(-0613/-0125)
and gpt-4(-0314/-0613), 124 for gpt-4o and gpt-4o-mini.
"""

from __future__ import annotations

import json

import pytest

from spendtray.estimator.chat import InvalidMessages, parse_messages, prompt_from_paste
from spendtray.estimator.counting import PromptCounter, count_tokens

COOKBOOK_MESSAGES: list[dict[str, object]] = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]


@pytest.mark.parametrize(
    ("model", "documented"),
    [
        ("gpt-3.5-turbo-0301", 127),
        ("gpt-3.5-turbo-0613", 129),
        ("gpt-3.5-turbo", 129),
        ("gpt-4-0314", 129),
        ("gpt-4-0613", 129),
        ("gpt-4", 129),
        ("gpt-4o", 124),
        ("gpt-4o-mini", 124),
        ("openai/gpt-4o-2024-08-06", 124),
    ],
)
def test_cookbook_prompt_tokens(model: str, documented: int) -> None:
    count = PromptCounter(COOKBOOK_MESSAGES).count(model)
    assert count.tokens == documented
    assert count.exact
    assert count.method.endswith("+ chat framing (exact)")


def test_text_parts_count_like_a_string() -> None:
    as_parts = [
        {**m, "content": [{"type": "text", "text": str(m["content"])}]} for m in COOKBOOK_MESSAGES
    ]
    assert count_tokens(as_parts, "gpt-4o").tokens == 124


def test_image_part_makes_the_count_inexact() -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        }
    ]
    count = count_tokens(messages, "gpt-4o")
    assert not count.exact
    assert "image_url part" in count.method
    assert (
        count.tokens
        == count_tokens([{"role": "user", "content": "What is in this picture?"}], "gpt-4o").tokens
    )


def test_tool_calls_are_counted_but_not_exact() -> None:
    messages: list[dict[str, object]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18 °C, cloudy"},
    ]
    prompt = parse_messages(messages)
    assert "get_weather" in prompt.texts
    assert prompt.uncounted == ("tool-call framing",)
    assert not count_tokens(messages, "gpt-4o").exact


@pytest.mark.parametrize(
    ("messages", "where"),
    [
        ("hello", "messages must be a list"),
        ([], "messages is empty"),
        ([{"content": "hi"}], "messages[0].role"),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        ([{"role": "user", "content": [{"type": "text"}]}], "messages[0].content[0].text"),
        ([{"role": "user", "content": "hi", "name": 3}], "messages[0].name"),
        (["hi"], "messages[0] must be an object"),
    ],
)
def test_invalid_messages_say_where(messages: object, where: str) -> None:
    with pytest.raises(InvalidMessages, match=where.replace("[", r"\[").replace("]", r"\]")):
        parse_messages(messages)


def test_prompt_from_paste() -> None:
    as_list = json.dumps(COOKBOOK_MESSAGES)
    assert prompt_from_paste(as_list) == COOKBOOK_MESSAGES
    body = json.dumps({"model": "gpt-4o", "messages": COOKBOOK_MESSAGES})
    assert prompt_from_paste(body) == COOKBOOK_MESSAGES
    for text in ("plain words", "[1, 2, 3]", '{"a": 1}', "[not json", ""):
        assert prompt_from_paste(text) == text
