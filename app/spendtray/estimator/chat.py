"""OpenAI chat message lists: validation, the strings a tokenizer sees, and the framing overhead.

Pure functions, any thread. The framing rule is the one OpenAI documents in its cookbook
("How to count tokens with tiktoken", ``num_tokens_from_messages``) and checks against the API's
``usage.prompt_tokens``: every message costs 3 tokens on top of its role and content
(``<|start|>{role}<|message|>{content}<|end|>``), a ``name`` costs 1 more, and every reply is
primed with 3 (``<|start|>assistant<|message|>``). gpt-3.5-turbo-0301 used 4 per message and -1 per
name. Parts the rule does not cover (images, audio, files, tool calls) make the count inexact
rather than wrong: text we can see is counted, the rest is named in ``ChatPrompt.uncounted``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spendtray.estimator.naming import bare_model_name

_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


class InvalidMessages(ValueError):
    """The prompt is not a usable chat message list; the text says what is wrong and where."""


@dataclass(frozen=True)
class ChatPrompt:
    """A validated message list reduced to what tokenizers and the framing rule need."""

    texts: tuple[str, ...]
    """Every string the model reads: roles, names, text content, tool-call names/arguments."""
    messages: int
    names: int
    uncounted: tuple[str, ...]
    """Why the count cannot be exact, e.g. "1 image_url part"; empty when it can be."""


@dataclass(frozen=True)
class Framing:
    per_message: int
    per_name: int
    reply_priming: int

    def overhead(self, prompt: ChatPrompt) -> int:
        return (
            prompt.messages * self.per_message + prompt.names * self.per_name + self.reply_priming
        )


OPENAI_FRAMING = Framing(per_message=3, per_name=1, reply_priming=3)
_LEGACY_0301_FRAMING = Framing(per_message=4, per_name=-1, reply_priming=3)


def framing_for(model: str) -> Framing:
    """The chat framing rule for ``model`` (OpenAI's cookbook rule unless known otherwise)."""
    name = bare_model_name(model)
    if name in ("gpt-3.5-turbo-0301", "gpt-35-turbo-0301"):
        return _LEGACY_0301_FRAMING
    return OPENAI_FRAMING


def _content_texts(content: object, where: str, uncounted: list[str]) -> list[str]:
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise InvalidMessages(f"{where}.content must be a string, a list of parts or null")
    texts: list[str] = []
    for index, part in enumerate(content):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, Mapping):
            raise InvalidMessages(f"{where}.content[{index}] must be an object")
        kind = part.get("type", "text")
        if kind in _TEXT_PART_TYPES:
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidMessages(f"{where}.content[{index}].text must be a string")
            texts.append(text)
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(str(part["refusal"]))
        else:
            uncounted.append(f"{kind} part")
    return texts


def _tool_call_texts(calls: object, where: str, uncounted: list[str]) -> list[str]:
    if not isinstance(calls, list):
        raise InvalidMessages(f"{where}.tool_calls must be a list")
    texts: list[str] = []
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if isinstance(function, Mapping):
            for key in ("name", "arguments"):
                value = function.get(key)
                if isinstance(value, str):
                    texts.append(value)
    # OpenAI does not document how tool calls are framed; their text is counted, the
    # wrapping is not.
    uncounted.append("tool-call framing")
    return texts


def parse_messages(messages: object) -> ChatPrompt:
    """Validate an OpenAI-style message list; raises ``InvalidMessages``."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InvalidMessages("messages must be a list of {role, content} objects")
    if not messages:
        raise InvalidMessages("messages is empty")
    texts: list[str] = []
    uncounted: list[str] = []
    names = 0
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping):
            raise InvalidMessages(f"{where} must be an object")
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise InvalidMessages(f"{where}.role must be a non-empty string")
        texts.append(role)
        name = message.get("name")
        if name is not None:
            if not isinstance(name, str):
                raise InvalidMessages(f"{where}.name must be a string")
            texts.append(name)
            names += 1
        texts.extend(_content_texts(message.get("content"), where, uncounted))
        if "tool_calls" in message and message["tool_calls"] is not None:
            texts.extend(_tool_call_texts(message["tool_calls"], where, uncounted))
        tool_call_id = message.get("tool_call_id")
        if isinstance(tool_call_id, str):
            # the cookbook rule encodes every string field of a message, this one included
            texts.append(tool_call_id)
    return ChatPrompt(
        texts=tuple(texts), messages=len(messages), names=names, uncounted=_summarize(uncounted)
    )


def _summarize(reasons: list[str]) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return tuple(f"{n} × {reason}" if n > 1 else reason for reason, n in counts.items())


def prompt_from_paste(pasted: str) -> str | list[object]:
    """What the user pasted: a message list if it is one in JSON, else the text itself.

    Accepts a bare JSON list of messages or an object with a "messages" list (a whole
    chat-completions request body), so a request copied from code or logs prices as a chat.
    """
    stripped = pasted.strip()
    if not stripped or stripped[0] not in "[{":
        return pasted
    try:
        value = json.loads(stripped)
    except ValueError:
        return pasted
    if isinstance(value, dict):
        value = value.get("messages")
    if (
        isinstance(value, list)
        and value
        and all(isinstance(m, dict) and "role" in m for m in value)
    ):
        return list(value)
    return pasted
