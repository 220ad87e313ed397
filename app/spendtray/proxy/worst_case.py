"""The most a proxied call can cost, worked out from its request before it is forwarded: what a
reservation holds against a hard budget (SPEC §13). Pure; the server's event loop for small
bodies, a worker thread for large ones (``INLINE_BYTES``) or while a tokenizer still loads.

Input: every text the model reads (message and system texts, tool definitions, prompts),
counted with the estimator's tokenizers — exact tiktoken for OpenAI models, the estimator's
labelled per-vendor approximation for the rest — plus ``FRAMING_TOKENS`` per object for the
chat framing and ``MEDIA_TOKENS`` per image, audio or file part (whose tokens depend on their
pixels or pages, unknowable here). Long texts' counts are remembered by digest (``_Counts``):
agents re-send their whole conversation every turn. A body that is not a JSON object is
estimated from its size (``BYTES_PER_TOKEN``).

Output: the request's own cap (``max_tokens``, ``max_completion_tokens``,
``max_output_tokens``) times the number of choices asked for (``n``); without a cap, the room
left in the model's context window from the price data; without that either,
``UNCAPPED_OUTPUT``. Embeddings produce no output, and token counting
(``…/count_tokens``) is free. The tokens are priced with the price in force now (long-context
tiers included); a model without a price reserves nothing — its calls are stored unpriced and
cannot be held to a dollar limit.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from spendtray.estimator.approx import approximation_for
from spendtray.estimator.tokenizers import count_text, encoding_for_model, is_loaded
from spendtray.prices.book import PriceBook, UnknownModel
from spendtray.prices.calc import TokenCounts

INLINE_BYTES = 64 * 1024
MEMO_MIN_CHARS = 2_000  # shorter texts are counted faster than they are hashed
MEMO_ENTRIES = 4_096
FRAMING_TOKENS = 4
MEDIA_TOKENS = 2_000  # a high-resolution image is ~1.1-1.6k tokens on OpenAI and Anthropic
BYTES_PER_TOKEN = 2  # tokens of a body we cannot read: real text averages 3-4 bytes a token
UNCAPPED_OUTPUT = 128_000
OUTPUT_CAPS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
FREE_PATHS = ("/count_tokens",)
NO_OUTPUT_PATHS = ("/embeddings",)
# Keys whose string values are not read as text by the model.
_NOT_TEXT = frozenset(
    {"model", "role", "type", "id", "tool_call_id", "tool_use_id", "cache_control", "detail"}
)
# Keys that hold structures the model reads as JSON (schemas, tool definitions).
_AS_JSON = frozenset({"tools", "functions", "response_format", "tool_choice", "text"})
_MEDIA_TYPES = frozenset(
    {"image", "image_url", "input_image", "input_audio", "audio", "document", "file", "input_file"}
)


@dataclass(frozen=True)
class WorstCase:
    nanos: int
    input_tokens: int
    output_tokens: int


def output_cap(parsed: dict[str, Any]) -> int | None:
    for key in OUTPUT_CAPS:
        value = parsed.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _collect(node: Any, key: str | None, texts: list[str], counts: list[int]) -> None:
    """Texts the model reads into ``texts``; objects and media parts into ``counts``
    ([objects, media])."""
    if isinstance(node, str):
        if key in _NOT_TEXT or node.startswith("data:"):
            return
        if key == "data" and len(node) > 256:  # base64 source of an image/document block
            return
        texts.append(node)
    elif isinstance(node, dict):
        counts[0] += 1
        kind = node.get("type")
        if isinstance(kind, str) and kind in _MEDIA_TYPES:
            counts[1] += 1
            return
        for k, v in node.items():
            if k in _AS_JSON and key is None and v is not None and not isinstance(v, str):
                texts.append(json.dumps(v, separators=(",", ":")))
            else:
                _collect(v, k, texts, counts)
    elif isinstance(node, list):
        for item in node:
            _collect(item, key, texts, counts)


class _Counts:
    """Token counts of long texts by their digest (never the text: prompts are not kept), so
    an agent re-sending its conversation each turn pays only for the new messages. LRU, any
    thread (locked)."""

    def __init__(self, size: int = MEMO_ENTRIES) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._known: OrderedDict[bytes, int] = OrderedDict()

    def count(self, text: str, encoding: str) -> int:
        if len(text) < MEMO_MIN_CHARS:
            return count_text(text, encoding)
        key = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=16, person=encoding.encode()[:16]
        ).digest()
        with self._lock:
            hit = self._known.get(key)
            if hit is not None:
                self._known.move_to_end(key)
                return hit
        tokens = count_text(text, encoding)
        with self._lock:
            self._known[key] = tokens
            if len(self._known) > self.size:
                self._known.popitem(last=False)
        return tokens


COUNTS = _Counts()


def input_tokens(parsed: dict[str, Any], model: str, provider: str | None) -> int:
    texts: list[str] = []
    counts = [0, 0]
    _collect(parsed, None, texts, counts)
    encoding = encoding_for_model(model)
    if encoding is not None:
        tokens = sum(COUNTS.count(text, encoding) for text in texts)
    else:
        approximation = approximation_for(model, provider)
        tokens = approximation.apply(sum(COUNTS.count(t, approximation.encoding) for t in texts))
    return tokens + counts[0] * FRAMING_TOKENS + counts[1] * MEDIA_TOKENS


def needs_worker(body_length: int, model: str, provider: str | None) -> bool:
    """Counting would hold the event loop: a large body, or a tokenizer not loaded yet."""
    if body_length > INLINE_BYTES:
        return True
    encoding = encoding_for_model(model) or approximation_for(model, provider).encoding
    return not is_loaded(encoding)


def _choices(parsed: dict[str, Any]) -> int:
    n = parsed.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 128 else 1


def worst_case(
    prices: PriceBook,
    model: str | None,
    provider: str | None,
    parsed: dict[str, Any] | None,
    body_length: int,
    path: str = "",
) -> WorstCase:
    if model is None or path.endswith(FREE_PATHS):
        return WorstCase(0, 0, 0)  # nothing to price it with, or nothing to pay
    try:
        price = prices.resolve(model, provider)
    except UnknownModel:
        return WorstCase(0, 0, 0)
    if parsed is None:
        tokens_in = -(-body_length // BYTES_PER_TOKEN)
        cap = None
    else:
        tokens_in = input_tokens(parsed, model, provider)
        cap = output_cap(parsed)
    if path.endswith(NO_OUTPUT_PATHS):
        cap = 0
    elif cap is None:
        window = price.context_window
        cap = max(window - tokens_in, 1) if window else UNCAPPED_OUTPUT
    if parsed is not None:
        cap *= _choices(parsed)
    counts = TokenCounts(input_tokens=tokens_in, output_tokens=cap)
    return WorstCase(price.cost_nanos(counts), tokens_in, cap)
