"""Input-token counts of one prompt for many models: exact for OpenAI, labelled ≈ for the rest.

Any thread; one ``PromptCounter`` belongs to one request and is not shared between threads. The
prompt is tokenized at most once per encoding however many models are asked for, which is what
keeps a 1 MB prompt on eight models within the estimator's half-second budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spendtray.estimator.approx import approximation_for
from spendtray.estimator.chat import ChatPrompt, framing_for, parse_messages
from spendtray.estimator.tokenizers import count_text, count_texts, encoding_for_model

Prompt = str | Sequence[Mapping[str, object]]
"""Plain text, or an OpenAI-style list of ``{"role", "content", "name"?}`` messages."""


@dataclass(frozen=True)
class TokenCount:
    tokens: int
    exact: bool
    method: str
    """How the number was obtained, shown to the user next to it."""
    encoding: str


class PromptCounter:
    """Counts one prompt for any number of models, tokenizing it once per encoding."""

    def __init__(self, prompt: Prompt) -> None:
        self._text: str | None = None
        self._chat: ChatPrompt | None = None
        if isinstance(prompt, str):
            self._text = prompt
        else:
            self._chat = parse_messages(prompt)
        self._raw: dict[str, int] = {}

    @property
    def is_chat(self) -> bool:
        return self._chat is not None

    def raw_tokens(self, encoding: str) -> int:
        """Tokens of the prompt's text alone (no chat framing) in ``encoding``."""
        cached = self._raw.get(encoding)
        if cached is not None:
            return cached
        if self._text is not None:
            tokens = count_text(self._text, encoding)
        else:
            assert self._chat is not None
            tokens = sum(count_texts(self._chat.texts, encoding))
        self._raw[encoding] = tokens
        return tokens

    def _framed(self, encoding: str, model: str) -> int:
        tokens = self.raw_tokens(encoding)
        if self._chat is not None:
            tokens += framing_for(model).overhead(self._chat)
        return tokens

    def count(self, model: str, provider: str | None = None) -> TokenCount:
        """Input tokens of the prompt on ``model``; ``provider`` only sharpens approximations."""
        encoding = encoding_for_model(model)
        if encoding is not None:
            tokens = self._framed(encoding, model)
            method = f"tiktoken {encoding}"
            exact = True
            if self._chat is not None:
                method += " + chat framing"
                if self._chat.uncounted:
                    exact = False
                    method += "; not counted: " + ", ".join(self._chat.uncounted)
            return TokenCount(tokens, exact, method + (" (exact)" if exact else ""), encoding)
        approximation = approximation_for(model, provider)
        tokens = approximation.apply(self._framed(approximation.encoding, model))
        method = approximation.method
        if self._chat is not None and self._chat.uncounted:
            method += "; not counted: " + ", ".join(self._chat.uncounted)
        return TokenCount(tokens, False, method, approximation.encoding)


def count_tokens(prompt: Prompt, model: str, provider: str | None = None) -> TokenCount:
    """Input tokens of ``prompt`` on ``model`` (see ``PromptCounter`` for many models)."""
    return PromptCounter(prompt).count(model, provider)
