"""The few fields the proxy needs out of a large JSON body, without parsing the body. Pure; the
server's event loop or a worker thread.

A request with inline images or PDFs, or an embeddings response, can be tens of megabytes of
JSON; ``json.loads`` of 100 MB held 1.24 GB at its peak, for a model name and a usage object.
Bodies above ``PARSE_WHOLE_BYTES`` are searched instead (the regex engine runs in C over the
bytes): a string or boolean field by its key, and the usage object by decoding only the last
``"usage": {...}`` in the body. A key spelled inside a string value is escaped there (``\\"``)
and never matches; a nested object using the same key could, which at worst names the wrong
model for a budget check — the stored event takes its model from the response.
"""

from __future__ import annotations

import json
import re
from typing import Any

PARSE_WHOLE_BYTES = 1 << 20
MAX_TEXT = 256
_decode_object = json.JSONDecoder().raw_decode
_USAGE = re.compile(rb'(?<!\\)"usage"\s*:\s*(?=\{)')


def _text_pattern(key: str) -> re.Pattern[bytes]:
    return re.compile(rb'(?<!\\)"' + key.encode() + rb'"\s*:\s*"((?:[^"\\]|\\.){0,%d})"' % MAX_TEXT)


_TEXTS = {key: _text_pattern(key) for key in ("model", "id", "service_tier")}
_STREAM = re.compile(rb'(?<!\\)"stream"\s*:\s*(true|false)')
_STREAM_OPTIONS = re.compile(rb'(?<!\\)"stream_options"\s*:')


def text_field(body: bytes, key: str) -> str | None:
    """The first ``"key": "..."`` string in ``body`` (key: model, id, service_tier)."""
    found = _TEXTS[key].search(body)
    if found is None:
        return None
    try:
        value = json.loads(b'"' + found.group(1) + b'"')
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, str) and value else None


def stream_flag(body: bytes) -> bool:
    found = _STREAM.search(body)
    return found is not None and found.group(1) == b"true"


def has_stream_options(body: bytes) -> bool:
    return _STREAM_OPTIONS.search(body) is not None


def usage_object(body: bytes) -> dict[str, Any] | None:
    """The last ``"usage": {...}`` object of ``body`` (top-level usage comes last in OpenAI
    and Anthropic responses), decoded on its own."""
    last = None
    for last in _USAGE.finditer(body):  # noqa: B007 (the last match is the one wanted)
        pass
    if last is None:
        return None
    start = last.end()
    # The object is small; decode from its brace up to the end of the body at most.
    try:
        value, _ = _decode_object(body[start : start + (1 << 20)].decode("utf-8", "replace"))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
