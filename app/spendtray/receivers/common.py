"""Helpers shared by the receivers: bounded gzip inflation and token values.

Pure functions; called on the server's event loop for small bodies and on a Starlette
thread-pool thread for large ones (see ``routes``).
"""

from __future__ import annotations

import zlib
from typing import Any

from spendtray.ingest.event import MAX_TOKENS, EventError
from spendtray.server.guard import ApiError

_GZIP = frozenset({"gzip", "x-gzip"})
MAX_GZIP_MEMBERS = 64


def inflate(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body with its ``Content-Encoding`` undone, refusing (413) to inflate past ``limit``
    bytes: a few kilobytes of gzip can expand to gigabytes."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in _GZIP:
        raise ApiError(415, f"unsupported Content-Encoding {encoding!r}: send gzip or none")
    parts: list[bytes] = []
    total = 0
    rest = body
    members = 0
    while rest:  # a gzip stream may hold several members
        members += 1
        if members > MAX_GZIP_MEMBERS:
            # Each member is a new inflater and a copy of the rest: 500,000 empty members in
            # 10 MB took 75 s of CPU. Senders write one.
            raise ApiError(400, f"body is not valid gzip: more than {MAX_GZIP_MEMBERS} members")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            part = inflater.decompress(rest, limit + 1 - total)
        except zlib.error as exc:
            raise ApiError(400, f"body is not valid gzip: {exc}") from None
        total += len(part)
        if total > limit or inflater.unconsumed_tail:
            raise ApiError(413, f"body inflates to more than the limit of {limit} bytes")
        if not inflater.eof:
            raise ApiError(400, "body is not valid gzip: the stream is truncated")
        parts.append(part)
        rest = inflater.unused_data
    return b"".join(parts)


def token_value(value: Any, field: str) -> int | None:
    """A token count as senders write it (int, whole float, digit string) or None when absent."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventError(field, f"must be a whole number ≥ 0, got {value!r}")
    if value < 0:
        raise EventError(field, f"must be ≥ 0, got {value}")
    if value > MAX_TOKENS:
        raise EventError(field, f"{value} is implausibly large")
    return value


def inclusive(total: int, subset: int) -> int:
    """SPEC §5 totals: input includes cached tokens, output includes reasoning. A sender that
    forwards an exclusive count (Anthropic's uncached ``input_tokens``, Gemini's candidates
    without thoughts) reports a total smaller than its own subset, which a total cannot be;
    only then is the subset added back. A total at least as large is taken as sent."""
    return total + subset if total < subset else total


def numbers_only(value: Any, depth: int = 0) -> Any:
    """``value`` keeping only numbers (and objects of numbers): what is stored as raw usage.
    Strings are dropped so no sender-provided text can ride along into the database."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict) and depth < 4:
        out = {}
        for key, item in value.items():
            kept = numbers_only(item, depth + 1)
            if kept is not None and kept != {}:
                out[str(key)] = kept
        return out
    return None
